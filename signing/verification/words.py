"""One plain sentence per signature and per document, for readers who are not engineers.

The sentence says the verdict first, then who signed and when, then what
the reader should know (changes after signing, revocation, trust). It is
English, as the rest of the API; a program reads ``indication`` and
``sub_indication`` instead. The document's sentence needs only the report's
verdicts, so it lives beside ``VerificationReport`` (report.py), which says
it in its JSON; it is re-exported here.
"""

from __future__ import annotations

import datetime as dt

from signing.verification.report import DOCUMENT_TIMESTAMP, Indication, SignatureReport, document_sentence

_WHY = {
    "FORMAT_FAILURE": "its structure is broken or the document was changed in a way the signature forbids",
    "HASH_FAILURE": "the signed content was changed after signing",
    "SIG_CRYPTO_FAILURE": "the signature value does not match the signer's key",
    "REVOKED": "the signer's certificate had been revoked before the signature was made",
    "NOT_YET_VALID": "the signer's certificate was not yet valid when the signature was made",
    "SIG_CONSTRAINTS_FAILURE": "the document was changed after signing in a way that is not a normal addition",
    "CHAIN_CONSTRAINTS_FAILURE": "the certificate is not meant for signing documents or breaks its issuer's rules",
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": "the signer's certificate chain could not be validated",
    "CRYPTO_CONSTRAINTS_FAILURE": "it uses an algorithm that is not accepted or cannot be checked here",
    "NO_CERTIFICATE_CHAIN_FOUND": "the signer's certificate does not lead to a trusted root",
    "NO_SIGNING_CERTIFICATE_FOUND": "the signer's certificate is not in the signature",
    "REVOKED_NO_POE": "the signer's certificate is revoked and nothing proves the signature was made before that",
    "REVOKED_CA_NO_POE": "a certificate authority in the chain is revoked and nothing proves the signature is older",
    "OUT_OF_BOUNDS_NO_POE": "the signer's certificate is expired (or not yet valid) and no time-stamp proves "
                            "when the signature was made",
    "TRY_LATER": "the certificate's revocation status is not known: the document carries no revocation data "
                 "for that time and none was fetched",
    "NO_SIGNATURE_FOUND": "it carries no signature",
}

_MODIFIED = {
    "form_filling": "form fields were filled in or signatures added after it",
    "annotations": "annotations (comments) were added after it",
    "other": "the document was changed after it",
}


# Why something cannot be read or processed at all, by the kind of failure
# the reader met (the exception's class and its bases, most specific first).
# The parser's own message stays in the debug log: a report names no
# exception class and quotes no parser (issue 14, item 5).
_UNREADABLE = {
    "PdfDecodeLimitError": "it holds compressed data larger than a verification may unpack",
    "PdfStrictReadError": "its structure breaks the rules of the PDF standard (ISO 32000) that a strict reading "
                          "applies",
    "PdfReadError": "its structure is damaged or does not follow the PDF standard (ISO 32000)",
    "PdfStreamError": "one of its data streams is damaged or uses an unknown compression",
    "PdfError": "its structure is damaged or does not follow the PDF standard (ISO 32000)",
    "RecursionError": "its parts refer to each other in an endless loop",
    "UnicodeError": "it holds text in an encoding that cannot be read",
    "NotImplementedError": "it uses a feature this verifier does not implement",
    "OverflowError": "it holds a number too large to be meant",
    "ValueError": "its bytes do not form the structure the standard prescribes",
    "TypeError": "its bytes do not form the structure the standard prescribes",
    "KeyError": "a part the standard requires is missing",
    "IndexError": "a part the standard requires is missing",
}
_UNREADABLE_OTHERWISE = "its content could not be interpreted"

# OUT_OF_BOUNDS_NO_POE because a certificate of the chain (the signer's, a
# certification authority's, the time-stamp authority's) has expired by the
# validation time and no archive time-stamp proves the signature is older
# (lifetime.py). The verdict's reason names the certificate and the date.
EXPIRED_IN_CHAIN = "a certificate of its chain has expired"
_WHY_EXPIRED_IN_CHAIN = ("a certificate of its chain ({reason}) has expired by the validation time, and no archive "
                         "time-stamp proves the signature existed while that certificate was valid")


def expired_in_chain(name: str, not_after: dt.datetime) -> str:
    """The verdict's reason: which certificate of the chain expired, and when."""
    return f"{EXPIRED_IN_CHAIN}: {name}, valid until {_when(not_after)}"


CMS_UNREADABLE = "the CMS signature cannot be read: its bytes are not a CMS SignedData structure (RFC 5652) in DER"
OUR_FAULT = "the input cannot be processed because of a fault in the verifier; the fault has been recorded"


def why_unreadable(exc: BaseException) -> str:
    """Why an input (or a part of it) cannot be read, in plain words: never an exception's name."""
    for cls in type(exc).__mro__:
        if cls.__name__ in _UNREADABLE:
            return _UNREADABLE[cls.__name__]
    return _UNREADABLE_OTHERWISE


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "an unknown time"


def _who(report: SignatureReport) -> str:
    signer = report.signer
    if signer is None:
        return "an unidentified signer"
    parts = [signer.name]
    if signer.iin:
        parts.append(f"IIN {signer.iin}")
    if signer.organisation:
        parts.append(signer.organisation + (f", BIN {signer.bin}" if signer.bin else ""))
    elif signer.bin:
        parts.append(f"BIN {signer.bin}")
    return parts[0] + (f" ({'; '.join(parts[1:])})" if len(parts) > 1 else "")


def signature_sentence(report: SignatureReport) -> str:
    what = "Document time-stamp" if report.kind == DOCUMENT_TIMESTAMP else "Signature"
    field = f" {report.field!r}" if report.field else ""
    verdict = report.verdict
    if report.kind == DOCUMENT_TIMESTAMP:
        when = report.timestamp.gen_time if report.timestamp else None
        head = f"{what}{field} by {_who(report)} at {_when(when)}"
    else:
        when = report.best_signature_time or report.claimed_signing_time
        proof = "time-stamped" if report.best_signature_time else "claimed"
        head = f"{what}{field} by {_who(report)}, " + (f"{proof} {_when(when)}" if when else "signing time unknown")
    if verdict.indication is Indication.TOTAL_PASSED:
        words = [f"{head}: valid."]
        if report.trust_anchor is not None:
            words.append(f"The certificate chains to {report.trust_anchor.subject}")
            words[-1] += " and was not revoked at that time." if report.revocation.status == "good" else "."
    elif verdict.indication is Indication.TOTAL_FAILED:
        # FORMAT_FAILURE has several causes; its reason names the one found.
        why = verdict.reason if verdict.sub_indication == "FORMAT_FAILURE" and verdict.reason else \
            _WHY.get(verdict.sub_indication, verdict.reason)
        words = [f"{head}: NOT valid, because {why}."]
    elif verdict.sub_indication == "OUT_OF_BOUNDS_NO_POE" and (verdict.reason or "").startswith(EXPIRED_IN_CHAIN):
        which = verdict.reason[len(EXPIRED_IN_CHAIN):].lstrip(": ")
        words = [f"{head}: cannot be confirmed, because {_WHY_EXPIRED_IN_CHAIN.format(reason=which)}."]
    else:
        words = [f"{head}: cannot be confirmed, because {_WHY.get(verdict.sub_indication, verdict.reason)}."]
    said = verdict.sub_indication in ("SIG_CONSTRAINTS_FAILURE", "FORMAT_FAILURE") and report.modification == "other"
    if report.modification in _MODIFIED and not said:
        words.append(f"Note: {_MODIFIED[report.modification]}.")
    if report.coverage == "entire_revision" and report.modification in (None, "none"):
        words.append("Only validation data or time-stamps were added after it.")
    return " ".join(words)


__all__ = ["CMS_UNREADABLE", "EXPIRED_IN_CHAIN", "OUR_FAULT", "document_sentence", "expired_in_chain",
           "signature_sentence", "why_unreadable"]
