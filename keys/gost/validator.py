"""pyhanko-certvalidator's signature hook, taught GOST.

pyhanko-certvalidator and pyHanko check every signature (certificate, CRL,
OCSP response, CMS signer info) through a ``SignatureValidator``; giving
them :data:`GOST_SIGNATURE_VALIDATOR` (``ValidationContext(
signature_validator=...)``, ``CertValidationPolicySpec(signature_validator=...)``
or ``validate_sig_integrity(..., sig_validator=...)``) makes GOST signatures
verify like RSA and ECDSA ones; everything else goes to the library's own
validator unchanged.
"""

from __future__ import annotations

from asn1crypto import algos
from asn1crypto import keys as asn1_keys
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_SIGNATURE_VALIDATOR,
    DEFAULT_VALIDATION_CONTEXT,
    SignatureValidationContext,
    SignatureValidator,
)

from keys.gost.x509 import UnsupportedGostAlgorithm, is_gost_key, is_gost_signature, scheme_oid_for, verify


class GostSignatureValidator(SignatureValidator):
    def __init__(self, fallback: SignatureValidator = DEFAULT_SIGNATURE_VALIDATOR) -> None:
        self._fallback = fallback

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: asn1_keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        oid = signature_algorithm["algorithm"].dotted
        if not is_gost_signature(oid) and not is_gost_key(public_key_info):
            self._fallback.validate_signature(signature, signed_data, public_key_info, signature_algorithm, context)
            return
        try:
            # CMS signer infos sometimes name the key algorithm instead of the signature algorithm.
            scheme_oid = oid if is_gost_signature(oid) else scheme_oid_for(public_key_info, oid)
            verify(public_key_info, scheme_oid, signature, signed_data, prehashed=context.prehashed)
        except (UnsupportedGostAlgorithm, ValueError) as exc:
            raise InvalidSignature(str(exc)) from exc


GOST_SIGNATURE_VALIDATOR = GostSignatureValidator()
