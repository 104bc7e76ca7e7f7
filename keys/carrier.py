"""Holder keys that leave the CA on a key carrier, never in our storage.

At a government CA the operator generates the holder's key pair and writes
it to the holder's carrier. For a file carrier that is a PKCS#12 the holder
takes away; for a token carrier use ``PKCS11KeyBackend.generate(alg, label)``
on the holder's token instead, so the key is born there.

:class:`CarrierKey` lives only in memory: nothing here writes a key to disk
except into the password-protected PKCS#12 bytes handed back to the caller.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from keys.backend import KeyAlgorithm, UnsupportedAlgorithm, WrongPassword, algorithm_of
from keys.software import SigningKey, generate_private_key, sign_with

# OWASP's 2023 figure for PBKDF2-HMAC-SHA256; about 0.15 s to write and to
# open on a current CPU, paid once per carrier. The holder's password is
# human-chosen, so the rounds are what stand between a stolen file and the key.
PKCS12_KDF_ROUNDS = 600_000


class CarrierKey:
    """An in-memory key pair bound for a holder's carrier, or read back from one."""

    __slots__ = ("_key", "_algorithm")

    def __init__(self, private_key: SigningKey) -> None:
        self._key = private_key
        self._algorithm = algorithm_of(private_key.public_key())

    def __repr__(self) -> str:
        # Keeps the key object out of logs and tracebacks.
        return f"<CarrierKey {self._algorithm.value}>"

    @classmethod
    def generate(cls, algorithm: KeyAlgorithm) -> "CarrierKey":
        return cls(generate_private_key(KeyAlgorithm(algorithm)))

    @property
    def algorithm(self) -> KeyAlgorithm:
        return self._algorithm

    def public_key(self) -> PublicKeyTypes:
        return self._key.public_key()

    def sign(self, data: bytes, hash_name: str) -> bytes:
        """RSA PKCS#1 v1.5 or DER ECDSA, like every backend's ``sign``."""
        return sign_with(self._key, data, hash_name)

    def to_pkcs12(
        self,
        friendly_name: str,
        certificate: x509.Certificate,
        chain: list[x509.Certificate],
        password: bytes,
        kdf_rounds: int = PKCS12_KDF_ROUNDS,
    ) -> bytes:
        """PKCS#12 with PBES2/PBKDF2-SHA256/AES-256-CBC and an HMAC-SHA256 MAC.

        The legacy 3DES/RC2 default is unreadable by OpenSSL 3 without the
        legacy provider; AES-256 PBES2 opens in OpenSSL 1.1.1+, current
        Windows and Java.
        """
        if not password:
            raise ValueError("a carrier PKCS#12 needs a non-empty password")
        if certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ) != self.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ):
            raise ValueError("certificate does not belong to this carrier key")
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(kdf_rounds)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
            .hmac_hash(hashes.SHA256())
            .build(password)
        )
        return pkcs12.serialize_key_and_certificates(
            friendly_name.encode("utf-8"), self._key, certificate, list(chain) or None, encryption
        )


def load_pkcs12(
    data: bytes, password: bytes
) -> tuple[CarrierKey, x509.Certificate | None, list[x509.Certificate]]:
    """Open a carrier: (signer, its certificate, the other certificates in the file)."""
    try:
        bundle = pkcs12.load_pkcs12(data, password)
    except ValueError:
        raise WrongPassword(
            "could not open the PKCS#12 file: wrong password or not a PKCS#12"
        ) from None
    if bundle.key is None:
        raise UnsupportedAlgorithm("the PKCS#12 file holds no private key")
    signer = CarrierKey(bundle.key)  # type: ignore[arg-type]
    certificate = bundle.cert.certificate if bundle.cert is not None else None
    chain = [c.certificate for c in bundle.additional_certs]
    return signer, certificate, chain
