"""PDF signatures pyHanko validates, and the one legacy sub-filter it refuses: /adbe.pkcs7.sha1.

ISO 32000-1 §12.8.3.3: with ``/SubFilter /adbe.pkcs7.sha1`` the SHA-1
digest of the /ByteRange is itself the content of the PKCS#7 SignedData
(encapsulated, not detached), and the SignedData signs that content the
usual way (RFC 5652: a messageDigest attribute over it, or the signature
over it directly). Acrobat 5 to 7 wrote such signatures; ISO 32000-2
deprecates the sub-filter, and pyHanko refuses it, which would make an
archived file unreadable.

``validate_signature`` hands every other signature to pyHanko's
``async_validate_pdf_signature``; for this sub-filter it runs the same steps
(integrity of the revision, coverage and difference analysis, the
signature time-stamp, the CMS signature and the certificate) with the CMS
validated over its encapsulated content, and then checks that content is
the SHA-1 digest of the byte range of the file's own bytes: a mismatch is
a changed document (``intact`` false, HASH_FAILURE). SHA-1's weakness is
the validation policy's to say (algorithms.py: the signature's digest is
SHA-1, judged at the proven signing time like any other).
"""

from __future__ import annotations

import hmac

from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.pdf_embedded import (
    EmbeddedPdfSignature,
    async_validate_pdf_signature,
    report_seed_value_validation,
)
from pyhanko.sign.validation.status import PdfSignatureStatus

SHA1_SUBFILTER = "/adbe.pkcs7.sha1"


def is_sha1_subfilter(embedded: EmbeddedPdfSignature) -> bool:
    return embedded.sig_object.get("/SubFilter") == SHA1_SUBFILTER


async def validate_signature(embedded: EmbeddedPdfSignature, signer_context, ts_context, *,  # noqa: ANN001
                             key_usage_settings, diff_policy, algorithm_policy) -> PdfSignatureStatus:  # noqa: ANN001
    """pyHanko's validation of a PDF signature, /adbe.pkcs7.sha1 included."""
    if not is_sha1_subfilter(embedded):
        return await async_validate_pdf_signature(embedded, signer_context, ts_context,
                                                  key_usage_settings=key_usage_settings, diff_policy=diff_policy,
                                                  algorithm_policy=algorithm_policy)
    embedded.compute_integrity_info(diff_policy=diff_policy)
    status = embedded.summarise_integrity_info()
    status.update(await generic_cms.collect_timing_info(embedded.signer_info, ts_context,
                                                        raw_digest=embedded.compute_digest,
                                                        algorithm_policy=algorithm_policy))
    if "signer_reported_dt" not in status and embedded.self_reported_timestamp is not None:
        status["signer_reported_dt"] = embedded.self_reported_timestamp
    # raw_digest None: the SignedData is checked over its encapsulated content (the 20-byte digest).
    status = await generic_cms.cms_basic_validation(
        embedded.signed_data, raw_digest=None, validation_context=signer_context, status_kwargs=status,
        key_usage_settings=PdfSignatureStatus.default_usage_constraints(key_usage_settings),
        algorithm_policy=algorithm_policy)
    signed_content = bytes(embedded.signed_data["encap_content_info"]["content"] or b"")
    if not hmac.compare_digest(signed_content, embedded.compute_digest("sha1")):
        status["intact"] = False      # what was signed is not this file's byte range
    stamp = status.get("timestamp_validity")
    status.update(report_seed_value_validation(embedded, status["validation_path"],
                                               stamp is not None and stamp.valid and stamp.trusted))
    return PdfSignatureStatus(**status)


__all__ = ["SHA1_SUBFILTER", "is_sha1_subfilter", "validate_signature"]
