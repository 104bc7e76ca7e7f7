"""Plain-format ECDSA signatures (BSI TR-03111, §5.2.1): the signature value is r || s, not a DER SEQUENCE.

German eID cards, signature cards and TSE modules sign with the
``ecdsa-plain-*`` algorithms (OIDs 0.4.0.127.0.7.1.1.4.1.x, the same as
Bouncy Castle's ``BSIObjectIdentifiers``); EU DSS accepts them as
"PLAIN-ECDSA". The signature is the two integers r and s, each as a
big-endian octet string of the curve order's length, concatenated.
``cryptography`` verifies DER, so the value is split in two halves and
re-encoded (``encode_dss_signature``); the verification itself is
cryptography's ECDSA with the hash the OID names. A value of the wrong
length for the key's curve does not verify.

``PlainEcdsaValidator`` wraps the signature validator every verification
report uses (ca's ``SIGNATURE_VERIFIER``): plain OIDs are checked here,
everything else goes to it unchanged, so CMS signatures, PDF signatures,
certificates, CRLs and OCSP responses in plain ECDSA are all checked.
RIPEMD-160 (…4.1.6) is left out: cryptography has no RIPEMD-160, and a
signature we cannot check is reported INDETERMINATE, never guessed.
"""

from __future__ import annotations

from asn1crypto import algos
from asn1crypto import keys as asn1_keys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    SignatureValidationContext,
    SignatureValidator,
)

_ARC = "0.4.0.127.0.7.1.1.4.1."

# OID -> (name, digest as asn1crypto names it): the ecdsa-plain-signatures arc of BSI TR-03111.
PLAIN_ECDSA: dict[str, tuple[str, str]] = {
    _ARC + "1": ("ecdsa-plain-SHA1", "sha1"),
    _ARC + "2": ("ecdsa-plain-SHA224", "sha224"),
    _ARC + "3": ("ecdsa-plain-SHA256", "sha256"),
    _ARC + "4": ("ecdsa-plain-SHA384", "sha384"),
    _ARC + "5": ("ecdsa-plain-SHA512", "sha512"),
    _ARC + "8": ("ecdsa-plain-SHA3-224", "sha3_224"),
    _ARC + "9": ("ecdsa-plain-SHA3-256", "sha3_256"),
    _ARC + "10": ("ecdsa-plain-SHA3-384", "sha3_384"),
    _ARC + "11": ("ecdsa-plain-SHA3-512", "sha3_512"),
}

_HASHES = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
           "sha512": hashes.SHA512, "sha3_224": hashes.SHA3_224, "sha3_256": hashes.SHA3_256,
           "sha3_384": hashes.SHA3_384, "sha3_512": hashes.SHA3_512}


def plain_digest(oid: str) -> str | None:
    """The digest a plain-ECDSA OID fixes (asn1crypto's name), or None for any other OID."""
    entry = PLAIN_ECDSA.get(oid)
    return entry[1] if entry is not None else None


def mechanism_name(mechanism: str | None) -> str | None:
    """The report's name for a signature mechanism: a plain-ECDSA OID by its TR-03111 name."""
    entry = PLAIN_ECDSA.get(mechanism or "")
    return entry[0] if entry is not None else mechanism


def plain_to_der(signature: bytes, curve: ec.EllipticCurve) -> bytes:
    """r || s (each the order's length) as the DER SEQUENCE cryptography verifies; InvalidSignature otherwise."""
    size = (curve.key_size + 7) // 8
    if len(signature) != 2 * size:
        raise InvalidSignature(f"a plain ECDSA value on {curve.name} is {2 * size} bytes, not {len(signature)}")
    return encode_dss_signature(int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big"))


def verify_plain(signature: bytes, data: bytes, public_key_info: asn1_keys.PublicKeyInfo, digest: str, *,
                 prehashed: bool = False) -> None:
    """Raise ``InvalidSignature`` unless ``signature`` (r || s) signs ``data`` (or its digest, ``prehashed``)."""
    if public_key_info.algorithm != "ec":
        raise InvalidSignature("a plain ECDSA signature needs an elliptic-curve key")
    key = serialization.load_der_public_key(public_key_info.dump())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise InvalidSignature("a plain ECDSA signature needs an elliptic-curve key")
    algorithm = _HASHES[digest]()
    key.verify(plain_to_der(signature, key.curve), data,
               ec.ECDSA(Prehashed(algorithm) if prehashed else algorithm))


class PlainEcdsaValidator(SignatureValidator):
    """pyHanko's signature hook: plain ECDSA here, every other mechanism to ``inner``."""

    def __init__(self, inner: SignatureValidator) -> None:
        self.inner = inner

    def validate_signature(self, signature: bytes, signed_data: bytes, public_key_info: asn1_keys.PublicKeyInfo,
                           signature_algorithm: algos.SignedDigestAlgorithm,
                           context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT) -> None:
        digest = plain_digest(signature_algorithm["algorithm"].dotted)
        if digest is None:
            self.inner.validate_signature(signature, signed_data, public_key_info, signature_algorithm, context)
            return
        if context.prehashed and context.contextual_md_algorithm != digest:
            # The digest handed over was made with another hash than the OID names (RFC 8933 §3).
            raise InvalidSignature(f"the digest is {context.contextual_md_algorithm}, the algorithm names {digest}")
        verify_plain(signature, signed_data, public_key_info, digest, prehashed=context.prehashed)


__all__ = ["PLAIN_ECDSA", "PlainEcdsaValidator", "mechanism_name", "plain_digest", "plain_to_der", "verify_plain"]
