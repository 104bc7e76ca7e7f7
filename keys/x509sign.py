"""Sign X.509 structures with a key a backend holds.

``cryptography`` can only sign a certificate with a private-key object it owns.
For software keys that is exactly what we have, so they take that path. For
PKCS#11 keys the builder first signs with a throwaway key of the same kind,
which yields the exact TBSCertificate (its ``signature`` field depends only on
key type and hash, never on the key); the backend then signs those bytes and
the certificate is put together by hand.
"""

from __future__ import annotations

import threading

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes

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
        if not verify_signature(backend.public_key(handle), signature, tbs_der, name):
            raise SignatureCheckFailed(
                f"{backend.name} returned a signature that {handle} does not verify"
            )
    return sig_alg, signature


def sign_certificate(
    backend: KeyBackend,
    handle: str,
    builder: x509.CertificateBuilder,
    hash_name: str | None = None,
) -> x509.Certificate:
    """Sign ``builder`` as the CA key ``handle``; hash defaults to the key's own."""
    algorithm = backend.algorithm(handle)
    if algorithm.is_gost:
        # cryptography's builder cannot encode a GOST certificate; a CA on GOST
        # keys needs our own TBSCertificate encoder (issue 7, not done yet).
        raise UnsupportedAlgorithm("certificates signed with a GOST key are not supported by this builder")
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
