"""pyhanko-certvalidator's signature hook, taught GOST.

pyhanko-certvalidator and pyHanko check every signature (certificate, CRL,
OCSP response, CMS signer info) through a ``SignatureValidator``; giving
them :data:`GOST_SIGNATURE_VALIDATOR` (``ValidationContext(
signature_validator=...)``, ``CertValidationPolicySpec(signature_validator=...)``
or ``validate_sig_integrity(..., sig_validator=...)``) makes GOST signatures
verify like RSA and ECDSA ones; everything else goes to the library's own
validator unchanged.

:func:`register` (run when ``keys.gost`` is imported) also teaches the
library's own ``DefaultSignatureValidator`` GOST, so that the validation
contexts pyhanko-certvalidator builds itself, with no way for the caller to
pass a validator (a delegated OCSP responder's certificate is checked in a
fresh ``ValidationContext``, revinfo/validate_ocsp.py), verify GOST too.
No library file changes; RSA, ECDSA and the rest go to the original method.
"""

from __future__ import annotations

from asn1crypto import algos
from asn1crypto import keys as asn1_keys
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

from keys.gost.x509 import UnsupportedGostAlgorithm, is_gost_key, is_gost_signature, scheme_oid_for, verify


class GostSignatureValidator(DefaultSignatureValidator):
    """pyhanko-certvalidator's default validator, which :func:`register` teaches GOST.

    A named type and instance, so callers say that they rely on GOST; the
    verification itself is the default's, one path for every context.
    """


def _verify_if_gost(signature: bytes, signed_data: bytes, public_key_info: asn1_keys.PublicKeyInfo,
                    signature_algorithm: algos.SignedDigestAlgorithm, context: SignatureValidationContext) -> bool:
    """False when neither the algorithm nor the key is GOST; True when the GOST signature verifies; raises otherwise."""
    oid = signature_algorithm["algorithm"].dotted
    if not is_gost_signature(oid) and not is_gost_key(public_key_info):
        return False
    try:
        # CMS signer infos sometimes name the key algorithm instead of the signature algorithm.
        scheme_oid = oid if is_gost_signature(oid) else scheme_oid_for(public_key_info, oid)
        verify(public_key_info, scheme_oid, signature, signed_data, prehashed=context.prehashed)
    except (UnsupportedGostAlgorithm, ValueError) as exc:
        raise InvalidSignature(str(exc)) from exc
    return True


_original_default = DefaultSignatureValidator.validate_signature


def _default_validate_signature(self, signature, signed_data, public_key_info, signature_algorithm,  # noqa: ANN001, ANN202
                                context=DEFAULT_VALIDATION_CONTEXT):
    if not _verify_if_gost(signature, signed_data, public_key_info, signature_algorithm, context):
        _original_default(self, signature, signed_data, public_key_info, signature_algorithm, context)


def register() -> None:
    """Teach pyhanko-certvalidator's default signature validator GOST (idempotent)."""
    DefaultSignatureValidator.validate_signature = _default_validate_signature


register()
GOST_SIGNATURE_VALIDATOR = GostSignatureValidator()
