"""Sign X.509 structures with a key a backend holds.

``cryptography`` can only sign a certificate with a private-key object it owns.
For software keys that is exactly what we have, so they take that path. For
PKCS#11 keys the builder first signs with a throwaway key of the same kind,
which yields the exact TBSCertificate (its ``signature`` field depends only on
key type and hash, never on the key); the backend then signs those bytes and
the certificate is put together by hand.

GOST (issue 7) takes the same by-hand path: ``cryptography`` knows neither a
GOST key nor its signature OID, so the builder's draft TBSCertificate gets
the Kazakh GOST AlgorithmIdentifier (and, for a holder's GOST key, its
SubjectPublicKeyInfo) spliced in field by field before the backend signs it.
The result is laid out as the NCA RK's own GOST certificates.
"""

from __future__ import annotations

import hashlib
import threading

from asn1crypto import core as asn1_core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from keys.backend import (
    KeyAlgorithm,
    KeyBackend,
    SignatureCheckFailed,
    UnsupportedAlgorithm,
    hash_algorithm,
    normalise_hash_name,
    verify_signature,
)
from keys.der import oid, tlv
from keys.gost import GostPublicKey, is_gost_key, spki_der
from keys.gost import public_key as gost_public_key
from keys.gost import signature_algorithm_der as gost_signature_algorithm_der
from keys.software import SoftwareKeyBackend, generate_private_key

_RSA_SIGNATURE_OIDS = {
    "sha224": "1.2.840.113549.1.1.14",
    "sha256": "1.2.840.113549.1.1.11",
    "sha384": "1.2.840.113549.1.1.12",
    "sha512": "1.2.840.113549.1.1.13",
}
_ECDSA_SIGNATURE_OIDS = {
    "sha224": "1.2.840.10045.4.3.1",
    "sha256": "1.2.840.10045.4.3.2",
    "sha384": "1.2.840.10045.4.3.3",
    "sha512": "1.2.840.10045.4.3.4",
}

_throwaway_keys: dict[str, object] = {}
_throwaway_lock = threading.Lock()


def hash_for(algorithm: KeyAlgorithm) -> hashes.HashAlgorithm:
    """The hash this project pairs with a key type (see ``KeyAlgorithm.default_hash``)."""
    return hash_algorithm(KeyAlgorithm(algorithm).default_hash)


def signature_algorithm_der(algorithm: KeyAlgorithm, hash_name: str) -> bytes:
    """DER AlgorithmIdentifier for a key type and hash.

    RFC 4055 wants explicit NULL parameters for the RSA OIDs; RFC 5758 wants
    them absent for ECDSA. Getting this wrong makes strict verifiers reject
    the signature even though the maths is fine. GOST keys get the Kazakh
    signature OIDs with NULL parameters, as the NCA's certificates.
    """
    algorithm = KeyAlgorithm(algorithm)
    name = normalise_hash_name(hash_name)
    if algorithm.is_gost:
        if name != algorithm.default_hash:
            raise UnsupportedAlgorithm(f"no signature algorithm for {algorithm.value} with {name}")
        return gost_signature_algorithm_der(algorithm.gost_curve)
    if algorithm.is_rsa and name in _RSA_SIGNATURE_OIDS:
        return tlv(0x30, oid(_RSA_SIGNATURE_OIDS[name]) + b"\x05\x00")
    if algorithm.is_ec and name in _ECDSA_SIGNATURE_OIDS:
        return tlv(0x30, oid(_ECDSA_SIGNATURE_OIDS[name]))
    raise UnsupportedAlgorithm(f"no signature algorithm for {algorithm.value} with {name}")


def sign_tbs(
    backend: KeyBackend, handle: str, tbs_der: bytes, hash_name: str
) -> tuple[bytes, bytes]:
    """Sign a to-be-signed structure; return (signatureAlgorithm DER, signature).

    For keys outside this process the signature is checked against the
    backend's public key before it is returned: an HSM that signs with the
    wrong key or corrupts output must not produce a published certificate.
    """
    name = normalise_hash_name(hash_name)
    sig_alg = signature_algorithm_der(backend.algorithm(handle), name)
    signature = backend.sign(handle, tbs_der, name)
    if not isinstance(backend, SoftwareKeyBackend):
        try:
            verify_signature(backend.public_key(handle), signature, tbs_der, name)
        except InvalidSignature:
            raise SignatureCheckFailed(
                f"{backend.name} returned a signature that {handle} does not verify"
            ) from None
    return sig_alg, signature


def sign_certificate(
    backend: KeyBackend,
    handle: str,
    builder: x509.CertificateBuilder,
    hash_name: str | None = None,
    *,
    subject_public_key: PublicKeyTypes | GostPublicKey | None = None,
) -> x509.Certificate:
    """Sign ``builder`` as the CA key ``handle``; hash defaults to the key's own.

    ``subject_public_key``: the holder's key when ``cryptography`` cannot hold
    it (a GOST key); the builder then carries :func:`placeholder_public_key`
    and the certificate gets this key's SubjectPublicKeyInfo instead.
    """
    algorithm = backend.algorithm(handle)
    gost_subject = isinstance(subject_public_key, GostPublicKey)
    if algorithm.is_gost or gost_subject:
        name = normalise_hash_name(hash_name) if hash_name else algorithm.default_hash
        spki = spki_der(subject_public_key) if gost_subject else None  # type: ignore[arg-type]
        return _sign_by_hand(backend, handle, builder, name, spki)
    digest = hash_algorithm(hash_name) if hash_name else hash_for(algorithm)
    if isinstance(backend, SoftwareKeyBackend):
        return builder.sign(backend._private_key(handle), digest)

    draft = builder.sign(_throwaway_key(algorithm), digest)
    tbs = draft.tbs_certificate_bytes
    sig_alg, signature = sign_tbs(backend, handle, tbs, digest.name)
    inner = asn1_x509.TbsCertificate.load(tbs)["signature"].dump()
    if inner != sig_alg:
        # RFC 5280 4.1.1.2: the two copies must match byte for byte.
        raise UnsupportedAlgorithm(
            "TBSCertificate signature field differs from the signatureAlgorithm to be used"
        )
    der = tlv(0x30, tbs + sig_alg + tlv(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


_TBS_FIELDS = ("version", "serial_number", "signature", "issuer", "validity", "subject",
               "subject_public_key_info", "issuer_unique_id", "subject_unique_id", "extensions")


def _sign_by_hand(backend: KeyBackend, handle: str, builder: x509.CertificateBuilder, hash_name: str,
                  subject_spki: bytes | None) -> x509.Certificate:
    """The builder's TBSCertificate with our signature field (and subject key), signed by the backend."""
    sig_alg = signature_algorithm_der(backend.algorithm(handle), hash_name)
    draft = builder.sign(_throwaway_key(KeyAlgorithm.EC_P256), hashes.SHA256())
    parsed = asn1_x509.TbsCertificate.load(draft.tbs_certificate_bytes)
    # Every other field keeps the builder's exact bytes; only these two are ours.
    replaced = {"signature": sig_alg}
    if subject_spki is not None:
        replaced["subject_public_key_info"] = subject_spki
    parts = []
    for field in _TBS_FIELDS:
        value = parsed[field]
        if field in replaced:
            parts.append(replaced[field])
        elif not isinstance(value, asn1_core.Void):
            parts.append(value.dump())
    tbs = tlv(0x30, b"".join(parts))
    used_alg, signature = sign_tbs(backend, handle, tbs, hash_name)
    if used_alg != sig_alg:
        # RFC 5280 §4.1.1.2: the two copies must match byte for byte.
        raise UnsupportedAlgorithm("the signing algorithm differs from the TBSCertificate's signature field")
    return x509.load_der_x509_certificate(tlv(0x30, tbs + sig_alg + tlv(0x03, b"\x00" + signature)))


def placeholder_public_key() -> PublicKeyTypes:
    """A stand-in subject key for a builder whose real key ``cryptography`` cannot hold (GOST).

    Pass the real key to :func:`sign_certificate` as ``subject_public_key``;
    the placeholder never reaches a signed certificate.
    """
    return _throwaway_key(KeyAlgorithm.EC_P256).public_key()  # type: ignore[attr-defined]


def spki_of(public_key: PublicKeyTypes | GostPublicKey) -> bytes:
    """DER SubjectPublicKeyInfo of any key this project handles (GOST in the NCA's layout)."""
    if isinstance(public_key, GostPublicKey):
        return spki_der(public_key)
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_identifier(public_key: PublicKeyTypes | GostPublicKey) -> bytes:
    """RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's value.

    The NCA RK's GOST certificates use the same method (checked against its CA).
    """
    info = asn1_keys.PublicKeyInfo.load(spki_of(public_key))
    return hashlib.sha1(info["public_key"].contents[1:]).digest()


def public_key_from_spki(der: bytes) -> PublicKeyTypes | GostPublicKey:
    """The public key of a DER SubjectPublicKeyInfo: a ``cryptography`` key, or a GOST one."""
    info = asn1_keys.PublicKeyInfo.load(der)
    if is_gost_key(info):
        return gost_public_key(info)
    return serialization.load_der_public_key(der)


def certificate_public_key(certificate: x509.Certificate) -> PublicKeyTypes | GostPublicKey:
    """``certificate.public_key()``, which also answers for a GOST certificate."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return public_key_from_spki(asn1_x509.Certificate.load(der).public_key.dump())


def _throwaway_key(algorithm: KeyAlgorithm) -> object:
    # One per key family is enough: the TBS's AlgorithmIdentifier does not
    # vary with RSA modulus size or EC curve, only with family and hash.
    if not (algorithm.is_rsa or algorithm.is_ec):
        raise UnsupportedAlgorithm(f"cannot build a TBSCertificate for {algorithm.value}")
    family = "rsa" if algorithm.is_rsa else "ec"
    with _throwaway_lock:
        key = _throwaway_keys.get(family)
        if key is None:
            key = generate_private_key(
                KeyAlgorithm.RSA_2048 if family == "rsa" else KeyAlgorithm.EC_P256
            )
            _throwaway_keys[family] = key
        return key


def build_csr(backend: KeyBackend, handle: str, subject: x509.Name) -> bytes:
    """A DER PKCS#10 request for a backend key, signed with it (RFC 2986), any key type we sign with.

    ``cryptography``'s CSR builder needs a private-key object; this one only
    asks the backend to sign, so GOST and HSM keys make requests too.
    """
    algorithm = backend.algorithm(handle)
    info = tlv(0x30, b"\x02\x01\x00" + subject.public_bytes() + spki_of(backend.public_key(handle))
               + b"\xa0\x00")  # version v1, no attributes
    sig_alg, signature = sign_tbs(backend, handle, info, algorithm.default_hash)
    return tlv(0x30, info + sig_alg + tlv(0x03, b"\x00" + signature))
