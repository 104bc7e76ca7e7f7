"""Holder keys that leave the CA on a key carrier, never in our storage.

At a government CA the operator generates the holder's key pair and writes
it to the holder's carrier. For a file carrier that is a PKCS#12 the holder
takes away; for a token carrier use ``PKCS11KeyBackend.generate(alg, label)``
on the holder's token instead, so the key is born there.

RSA and EC carriers are written and read by ``cryptography``; GOST carriers,
which OpenSSL cannot hold, by ``keys.gost.pkcs12`` in the same layout
(PBES2/PBKDF2-SHA256/AES-256-CBC, HMAC-SHA256 MAC).

:class:`CarrierKey` lives only in memory: nothing here writes a key to disk
except into the password-protected PKCS#12 bytes handed back to the caller.
"""

from __future__ import annotations

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from keys.backend import KeyAlgorithm, UnsupportedAlgorithm, WrongPassword, algorithm_of
from keys.gost import GostPrivateKey, GostPublicKey
from keys.gost.pkcs12 import dump_gost_pkcs12, load_gost_pkcs12
from keys.software import SigningKey, generate_private_key, sign_with
from keys.x509sign import spki_of

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

    def public_key(self) -> PublicKeyTypes | GostPublicKey:
        return self._key.public_key()

    def sign(self, data: bytes, hash_name: str) -> bytes:
        """RSA PKCS#1 v1.5, DER ECDSA or GOST in the NCA's layout, like every backend's ``sign``."""
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
        Windows and Java. A GOST key goes through ``keys.gost.pkcs12`` with
        the same schemes (OpenSSL checks its MAC and lists its certificates
        but has no GOST key type).
        """
        if not password:
            raise ValueError("a carrier PKCS#12 needs a non-empty password")
        certificate_der = certificate.public_bytes(serialization.Encoding.DER)
        if asn1_x509.Certificate.load(certificate_der).public_key.dump() != spki_of(self.public_key()):
            raise ValueError("certificate does not belong to this carrier key")
        if isinstance(self._key, GostPrivateKey):
            return dump_gost_pkcs12(
                self._key, certificate_der, [c.public_bytes(serialization.Encoding.DER) for c in chain],
                password, friendly_name=friendly_name, rounds=kdf_rounds)
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
    """Open a carrier: (signer, its certificate, the other certificates in the file).

    ``cryptography`` opens RSA and EC carriers; a file it refuses is tried as
    a GOST carrier before it is called a wrong password or not a PKCS#12.
    """
    try:
        bundle = pkcs12.load_pkcs12(data, password)
    except ValueError:
        return _load_gost_pkcs12(data, password)
    if bundle.key is None:
        raise UnsupportedAlgorithm("the PKCS#12 file holds no private key")
    signer = CarrierKey(bundle.key)  # type: ignore[arg-type]
    certificate = bundle.cert.certificate if bundle.cert is not None else None
    chain = [c.certificate for c in bundle.additional_certs]
    return signer, certificate, chain


def _load_gost_pkcs12(
    data: bytes, password: bytes
) -> tuple[CarrierKey, x509.Certificate | None, list[x509.Certificate]]:
    try:
        key, certificates = load_gost_pkcs12(data, password)
    except ValueError:  # PKCS12Error, a non-GOST key, or not DER at all
        raise WrongPassword(
            "could not open the PKCS#12 file: wrong password or not a PKCS#12"
        ) from None
    own = spki_of(key.public_key())
    certificate, chain = None, []
    for parsed in certificates:
        loaded = x509.load_der_x509_certificate(parsed.dump())
        if certificate is None and parsed.public_key.dump() == own:
            certificate = loaded
        else:
            chain.append(loaded)
    return CarrierKey(key), certificate, chain
