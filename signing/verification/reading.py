"""Reading what a signed input carries, and the report entries for signatures that cannot be checked.

The PDF itself (opened with pyHanko's limits for untrusted input), its
Document Security Store, the certificates and revocation archive inside a
signature's CMS, and the fields of an RFC 3161 time-stamp token; for PDF
and CMS signatures alike. A signature whose algorithm we cannot check is
reported INDETERMINATE (``unsupported``); one that cannot be processed at
all, TOTAL-FAILED/FORMAT_FAILURE unless pyHanko said why (``broken``).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import replace

from asn1crypto import core, tsp
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from pyhanko.pdf_utils.decode_limits import DecodeLimits, DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import find_unique_cms_attribute
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError

from signing.verification.certs import signer_view
from signing.verification.context import (
    Evidence,
    UnverifiableInput,
)
from signing.verification.report import (
    CRYPTO_CONSTRAINTS_FAILURE,
    DOCUMENT_TIMESTAMP,
    FORMAT_FAILURE,
    SIGNATURE,
    SignatureReport,
    Verdict,
)
from signing.verification.words import signature_sentence, why_unreadable

log = logging.getLogger(__name__)


class HybridReferenceFile(Exception):  # noqa: N818 - named for the sentence words.why_unreadable says
    """A hybrid-reference file (ISO 32000-1 §7.5.8.4): pyHanko validates its signatures only when reading leniently."""


def open_pdf(data: bytes, *, strict: bool) -> PdfFileReader:
    # ISO 32000-1 §7.5.2; readers accept the header anywhere in the first kilobyte.
    if b"%PDF-" not in data[:1024]:
        raise UnverifiableInput("the input is not a PDF (no %PDF- header in its first kilobyte)")
    try:
        # pyHanko's limits for untrusted input (its defaults, named here so a
        # later default cannot loosen them unnoticed): object streams 64 MiB,
        # any stream 256 MiB, 1100:1 ratio, a decode budget for the document.
        reader = PdfFileReader(io.BytesIO(data), strict=strict, decode_limits=DecodeLimits.for_untrusted_input())
        if reader.encrypted:
            # Signed PDFs may be encrypted with an empty user password; the
            # signature's /Contents is never encrypted.
            result = reader.decrypt(b"")
            if getattr(result, "status", None) is not None and "FAILED" in str(result.status):
                raise UnverifiableInput("the PDF is password-protected")
        reader.root  # noqa: B018 - the catalogue must resolve for anything else to work
    except UnverifiableInput:
        raise
    except Exception as exc:  # noqa: BLE001 - hostile input: any parser failure is "cannot be read"
        refused = UnverifiableInput(f"the PDF cannot be read: {short_error(exc)}")
        refused.damage = exc      # verifier.py: a lenient reading is tried, and the warning says why
        raise refused from None
    return reader


def short_error(exc: BaseException) -> str:
    """Why a part cannot be read, in plain words (words.why_unreadable); the parser's message goes to the log."""
    log.debug("cannot be read: %s", " ".join(str(exc).split())[:200], exc_info=exc)
    return why_unreadable(exc)


def document_evidence(reader: PdfFileReader) -> tuple[Evidence, list[str]]:
    """The DSS's certificates, OCSP responses and CRLs (PAdES B-LT), read once."""
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return Evidence(), []
    except Exception as exc:  # noqa: BLE001 - a broken DSS is reported, not fatal
        return Evidence(), [f"the Document Security Store cannot be read: {short_error(exc)}"]
    try:
        # What DocumentSecurityStore.as_validation_context reads, read once
        # for every moment a context is needed at.
        return Evidence(list(dss.load_certs()),
                        [asn1_ocsp.OCSPResponse.load(r.get_object().read_data(DecodePurpose.OCSP_RESPONSE))
                         for r in dss.ocsps],
                        [asn1_crl.CertificateList.load(r.get_object().read_data(DecodePurpose.CRL))
                         for r in dss.crls]), []
    except Exception as exc:  # noqa: BLE001
        return Evidence(), [f"the Document Security Store cannot be read: {short_error(exc)}"]


def signature_evidence(signed_data) -> Evidence:  # noqa: ANN001 - asn1crypto SignedData
    """Certificates in the CMS and the Adobe revocation archive among the signed attributes."""
    evidence = Evidence()
    for choice in signed_data["certificates"] or ():
        if choice.name == "certificate":
            evidence.certificates.append(choice.chosen)
    signer_info = signed_data["signer_infos"][0]
    try:
        archive = find_unique_cms_attribute(signer_info["signed_attrs"], "adobe_revocation_info_archival")
    except Exception:  # noqa: BLE001 - absent, repeated or malformed: no archive to use
        return evidence
    evidence.crls.extend(archive["crl"] or ())
    evidence.ocsps.extend(archive["ocsp"] or ())
    return evidence


def tst_info(token_signed_data) -> tsp.TSTInfo | None:  # noqa: ANN001
    content = token_signed_data["encap_content_info"]["content"]
    if isinstance(content, core.ParsableOctetString):
        parsed = content.parsed
        if isinstance(parsed, tsp.TSTInfo):
            return parsed
    return None


def signature_token(signer_info) -> tsp.TSTInfo | None:  # noqa: ANN001
    """The first signature time-stamp token's TSTInfo (RFC 3161 in the unsigned attributes)."""
    unsigned = signer_info["unsigned_attrs"]
    if isinstance(unsigned, core.Void):
        return None
    for attribute in unsigned:
        if attribute["type"].native == "signature_time_stamp_token":
            for token in attribute["values"]:
                return tst_info(token["content"])
    return None


def gen_time_of(info: tsp.TSTInfo | None) -> dt.datetime | None:
    try:
        return info["gen_time"].native if info is not None else None
    except (ValueError, TypeError):
        return None


def finish(report: SignatureReport) -> SignatureReport:
    return replace(report, sentence=signature_sentence(report))


def field_kind(sig_object) -> str:  # noqa: ANN001
    try:
        return DOCUMENT_TIMESTAMP if sig_object.get_object().get("/Type") == "/DocTimeStamp" else SIGNATURE
    except Exception:  # noqa: BLE001
        return SIGNATURE


def unsupported(kind: str, field: str | None, cert, reason: str,  # noqa: ANN001 - asn1crypto Certificate
                revision: int | None = None) -> SignatureReport:
    """A signature in an algorithm we cannot check: neither valid nor broken."""
    try:
        signer = signer_view(cert) if cert is not None else None
    except Exception:  # noqa: BLE001 - an unreadable certificate leaves the signer unnamed
        signer = None
    return finish(SignatureReport(kind=kind, field=field, intact=False, valid=False,
                                   verdict=Verdict.indeterminate(CRYPTO_CONSTRAINTS_FAILURE, reason),
                                   modification=None, coverage=None, level=None, signer=signer, revision=revision))


def broken(field: str | None, kind: str, exc: BaseException) -> SignatureReport:
    """An entry for a signature that could not be processed: FORMAT_FAILURE, unless pyHanko said why."""
    reason = f"the signature cannot be processed: {short_error(exc)}"
    ades = getattr(exc, "ades_subindication", None)
    if ades is not None and type(ades).__name__ == "AdESIndeterminate":
        verdict = Verdict.indeterminate(ades.name, reason)   # e.g. NO_SIGNING_CERTIFICATE_FOUND
    elif ades is not None and type(ades).__name__ == "AdESFailure":
        verdict = Verdict.failed(ades.name, reason)
    else:
        verdict = Verdict.failed(FORMAT_FAILURE, reason)
    return finish(SignatureReport(kind=kind, field=field, intact=False, valid=False, verdict=verdict,
                                   modification=None, coverage=None, level=None, signer=None))


def serial_of(info: tsp.TSTInfo | None) -> str | None:
    try:
        return format(info["serial_number"].native, "x") if info is not None else None
    except (ValueError, TypeError):
        return None


def policy_of(info: tsp.TSTInfo | None) -> str | None:
    try:
        return info["policy"].dotted if info is not None else None
    except (ValueError, TypeError):
        return None


__all__ = ["HybridReferenceFile", "broken", "document_evidence", "field_kind", "finish", "gen_time_of", "open_pdf", "policy_of", "serial_of",
           "short_error", "signature_evidence", "signature_token", "tst_info", "unsupported"]
