"""One plain sentence per signature and per document, for readers who are not engineers.

The sentence says the verdict first, then who signed and when, then what
the reader should know (changes after signing, revocation, trust). A
program reads ``indication`` and ``sub_indication`` instead.

The sentences are said from the report's JSON (``SignatureReport.as_json``,
``VerificationReport.as_json``), in a ``Voice``: English with UTC times by
default, which is what the API and the command line give; the pages
(api/pages) pass a voice that looks every phrase up in their gettext
catalogues and writes times in Almaty time. Every phrase below is marked
for extraction (``N_`` and ``gettext`` calls; ``make i18n``), with named
placeholders so a language may put the parts in its own order. This module
imports nothing of the report, so report.py can say the document's sentence
in its JSON.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark only, translate later"
    return message


def _same(message: str) -> str:
    return message


def _english_plural(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Voice:
    """How the sentences are said: a gettext pair and a way to write a moment."""

    gettext: Callable[[str], str] = _same
    ngettext: Callable[[str, str, int], str] = _english_plural
    moment: Callable[[dt.datetime], str] = _utc


ENGLISH = Voice()

_WHY = {
    "FORMAT_FAILURE": N_("its structure is broken or the document was changed in a way the signature forbids"),
    "HASH_FAILURE": N_("the signed content was changed after signing"),
    "SIG_CRYPTO_FAILURE": N_("the signature value does not match the signer's key"),
    "REVOKED": N_("the signer's certificate had been revoked before the signature was made"),
    "NOT_YET_VALID": N_("the signer's certificate was not yet valid when the signature was made"),
    "SIG_CONSTRAINTS_FAILURE": N_("the document was changed after signing in a way that is not a normal addition"),
    "CHAIN_CONSTRAINTS_FAILURE": N_("the certificate is not meant for signing documents or breaks its issuer's "
                                    "rules"),
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": N_("the signer's certificate chain could not be validated"),
    "CRYPTO_CONSTRAINTS_FAILURE": N_("it uses an algorithm that is not accepted or cannot be checked here"),
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": N_("it uses an algorithm that is no longer considered secure, and no "
                                            "time-stamp proves the signature was made while it still was"),
    "NO_CERTIFICATE_CHAIN_FOUND": N_("the signer's certificate does not lead to a trusted root"),
    "NO_SIGNING_CERTIFICATE_FOUND": N_("the signer's certificate is not in the signature"),
    "REVOKED_NO_POE": N_("the signer's certificate is revoked and nothing proves the signature was made before "
                         "that"),
    "REVOKED_CA_NO_POE": N_("a certificate authority in the chain is revoked and nothing proves the signature is "
                            "older"),
    "OUT_OF_BOUNDS_NO_POE": N_("the signer's certificate is expired (or not yet valid) and no time-stamp proves "
                               "when the signature was made"),
    "TRY_LATER": N_("the certificate's revocation status is not known: the document carries no revocation data "
                    "for that time and none was fetched"),
    "NO_SIGNATURE_FOUND": N_("it carries no signature"),
}

# The reasons signing/verification/indication.py gives for a FORMAT_FAILURE, which the sentence says as they are.
REASONS = (
    N_("the document was changed after the signature in a way its lock (DocMDP/FieldMDP) forbids"),
    N_("the digest over the signed bytes does not match"),
    N_("the signature value does not verify with the signer's public key"),
)

_MODIFIED = {
    "form_filling": N_("form fields were filled in or signatures added after it"),
    "annotations": N_("annotations (comments) were added after it"),
    "other": N_("the document was changed after it"),
}

# What a later revision replaced of what a signed page shows (changes.py: the
# shadow attacks and the incremental saving attack). The verdict's reason
# lists them; the sentence says them after "because".
REPLACED_PAGE_CONTENT = N_("the content of a signed page was replaced")
REPLACED_RESOURCES = N_("the fonts, images or other resources a signed page is drawn with were replaced")
REPLACED_ANNOTATION_APPEARANCE = N_("the appearance of an annotation on a signed page was replaced")
UNREVISED_TAIL = N_("content was appended after the end of the file, outside any revision a reader is told "
                    "about")
REPLACED_AFTER = "after it was signed"
_WHY_REPLACED = N_("after it was signed, {what}: what is shown may not be what was signed")

# An algorithm past its sunset date (algorithms.py): the reason names the algorithm, the date and the
# policy's source; the sentence says whether a time-stamp shows the signature is younger than the date.
NOT_RELIED_ON = "which is not relied on after"
_SUNSET = "{what}, " + NOT_RELIED_ON + " {date} ({source})"
_SUNSET_SAID = N_("{what}, which is not relied on after {date} ({source})")
_WHY_SUNSET = N_("it relies on {reason}, and nothing proves the signature was made before that date")
_WHY_SUNSET_PROVEN = N_("it relies on {reason}, and its time-stamp shows it was made after that date")

# The PDF could only be read leniently (verifier.py): a warning in the report, never a silent pass.
READ_LENIENTLY = N_("a strict reading refused the PDF because {why}; it was read the way PDF readers read it, and "
                  "the signatures were checked over the file's original bytes")


def sunset(what: str, date: dt.date, source: str) -> str:
    """The verdict's reason for an algorithm or key past its sunset date."""
    return _SUNSET.format(what=what, date=date.isoformat(), source=source)


_REPLACED_PARTS = (REPLACED_PAGE_CONTENT, REPLACED_RESOURCES, REPLACED_ANNOTATION_APPEARANCE, UNREVISED_TAIL)
_SUNSET_PARTS = re.compile(r"(?P<what>.+), " + NOT_RELIED_ON + r" (?P<date>\S+) \((?P<source>.+)\)")


def _say_replaced(detail: str, voice: Voice) -> str:
    """A "replaced after signing" reason in the voice's language, from its parts."""
    parts = [part for part in _REPLACED_PARTS if part in detail]
    if not parts:
        return detail
    return voice.gettext(_WHY_REPLACED).format(what="; ".join(voice.gettext(part) for part in parts))


def _say_sunset(detail: str, voice: Voice) -> str:
    """A sunset reason (``sunset()``) in the voice's language; the algorithm and the source as they are."""
    found = _SUNSET_PARTS.fullmatch(detail)
    if found is None:
        return detail
    return voice.gettext(_SUNSET_SAID).format(**found.groupdict())


def replaced(what: tuple[str, ...]) -> str:
    """The verdict's reason for content replaced after a signature."""
    return _WHY_REPLACED.format(what="; ".join(what))


def read_leniently(exc: BaseException) -> str:
    """The report's warning for a PDF only a lenient reading opens."""
    return READ_LENIENTLY.format(why=why_unreadable(exc))


# Why something cannot be read or processed at all, by the kind of failure
# the reader met (the exception's class and its bases, most specific first).
# The parser's own message stays in the debug log: a report names no
# exception class and quotes no parser (issue 14, item 5).
_UNREADABLE = {
    "HybridReferenceFile": N_("it is a hybrid-reference file, whose cross-reference table is completed by a "
                              "cross-reference stream (ISO 32000-1 §7.5.8.4)"),
    "ObjectHeaderReadError": N_("its cross-reference table points to places where no object begins"),
    "PdfDecodeLimitError": N_("it holds compressed data larger than a verification may unpack"),
    "PdfStrictReadError": N_("its structure breaks the rules of the PDF standard (ISO 32000) that a strict reading "
                             "applies"),
    "PdfReadError": N_("its structure is damaged or does not follow the PDF standard (ISO 32000)"),
    "PdfStreamError": N_("one of its data streams is damaged or uses an unknown compression"),
    "PdfError": N_("its structure is damaged or does not follow the PDF standard (ISO 32000)"),
    "RecursionError": N_("its parts refer to each other in an endless loop"),
    "UnicodeError": N_("it holds text in an encoding that cannot be read"),
    "NotImplementedError": N_("it uses a feature this verifier does not implement"),
    "OverflowError": N_("it holds a number too large to be meant"),
    "ValueError": N_("its bytes do not form the structure the standard prescribes"),
    "TypeError": N_("its bytes do not form the structure the standard prescribes"),
    "KeyError": N_("a part the standard requires is missing"),
    "IndexError": N_("a part the standard requires is missing"),
}
_UNREADABLE_OTHERWISE = N_("its content could not be interpreted")

# OUT_OF_BOUNDS_NO_POE because a certificate of the chain (the signer's, a
# certification authority's, the time-stamp authority's) has expired by the
# validation time and no archive time-stamp proves the signature is older
# (lifetime.py). The verdict's reason names the certificate and the date.
EXPIRED_IN_CHAIN = "a certificate of its chain has expired"
_WHY_EXPIRED_IN_CHAIN = N_("a certificate of its chain ({reason}) has expired by the validation time, and no archive "
                            "time-stamp proves the signature existed while that certificate was valid")


def expired_in_chain(name: str, not_after: dt.datetime) -> str:
    """The verdict's reason: which certificate of the chain expired, and when."""
    return f"{EXPIRED_IN_CHAIN}: {name}, valid until {_utc(not_after)}"


CMS_UNREADABLE = "the CMS signature cannot be read: its bytes are not a CMS SignedData structure (RFC 5652) in DER"
OUR_FAULT = "the input cannot be processed because of a fault in the verifier; the fault has been recorded"


def why_unreadable(exc: BaseException) -> str:
    """Why an input (or a part of it) cannot be read, in plain words: never an exception's name."""
    for cls in type(exc).__mro__:
        if cls.__name__ in _UNREADABLE:
            return _UNREADABLE[cls.__name__]
    return _UNREADABLE_OTHERWISE


# What is wrong with an ASiC-E container (asic.py, container.py: LOAN-14's dossier), each naming the file.
_CONTAINER = {
    "missing": N_("{file} is listed in the manifest but missing from the container"),
    "changed": N_("{file} was changed after the manifest was signed: its digest differs from the manifest's"),
    "unlisted": N_("{file} is in the container but not in the signed manifest"),
    "unknown_digest": N_("{file} is listed with a digest algorithm this verifier does not know"),
    "unreadable": N_("{file} is a signed file that cannot be read"),
    "not_seal": N_("the manifest's signature {file} is not made with an organisation's seal certificate"),
}


def say_container_problem(problem: Mapping[str, Any], voice: Voice = ENGLISH) -> str:
    """One finding about a container (``ContainerProblem.as_json``), naming its file."""
    template = _CONTAINER.get(problem["code"])
    if template is None:
        return f"{problem['file']}: {problem['code']}"
    return voice.gettext(template).format(file=repr(problem["file"]))


class _Reported(Protocol):
    def as_json(self) -> dict[str, Any]: ...


def _moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _when(moment: dt.datetime | None, voice: Voice) -> str:
    return voice.moment(moment) if moment else voice.gettext("an unknown time")


def _who(signer: Mapping[str, Any] | None, voice: Voice) -> str:
    _ = voice.gettext
    if signer is None:
        return _("an unidentified signer")
    parts = []
    if signer.get("iin"):
        parts.append(_("IIN {iin}").format(iin=signer["iin"]))
    if signer.get("organisation"):
        parts.append(_("{organisation}, BIN {bin}").format(organisation=signer["organisation"], bin=signer["bin"])
                     if signer.get("bin") else signer["organisation"])
    elif signer.get("bin"):
        parts.append(_("BIN {bin}").format(bin=signer["bin"]))
    if not parts:
        return signer["name"]
    return _("{name} ({details})").format(name=signer["name"], details="; ".join(parts))


def _head(entry: Mapping[str, Any], voice: Voice) -> str:
    _ = voice.gettext
    field = f" {entry['field']!r}" if entry.get("field") else ""
    who = _who(entry.get("signer"), voice)
    if entry["kind"] == "document_timestamp":
        when = _moment((entry.get("timestamp") or {}).get("gen_time"))
        return _("Document time-stamp{field} by {who} at {when}").format(field=field, who=who,
                                                                          when=_when(when, voice))
    stamped = _moment(entry.get("best_signature_time"))
    claimed = _moment(entry.get("claimed_signing_time"))
    if stamped:
        return _("Signature{field} by {who}, time-stamped {when}").format(field=field, who=who,
                                                                           when=voice.moment(stamped))
    if claimed:
        return _("Signature{field} by {who}, claimed {when}").format(field=field, who=who,
                                                                      when=voice.moment(claimed))
    return _("Signature{field} by {who}, signing time unknown").format(field=field, who=who)


def say_signature(entry: Mapping[str, Any], voice: Voice = ENGLISH) -> str:
    """The sentence of one entry of the report's ``signatures`` (its JSON)."""
    _ = voice.gettext
    head = _head(entry, voice)
    sub, detail = entry.get("sub_indication"), entry.get("detail") or ""
    if entry["indication"] == "TOTAL-PASSED":
        words = [_("{head}: valid.").format(head=head)]
        anchor = entry.get("trust_anchor")
        if anchor is not None:
            good = (entry.get("revocation") or {}).get("status") == "good"
            words.append((_("The certificate chains to {anchor} and was not revoked at that time.") if good else
                          _("The certificate chains to {anchor}.")).format(anchor=anchor["subject"]))
    elif entry["indication"] == "TOTAL-FAILED":
        # FORMAT_FAILURE has several causes; its reason names the one found.
        why = detail if sub == "FORMAT_FAILURE" and detail else _WHY.get(sub, detail)
        words = [_("{head}: NOT valid, because {why}.").format(head=head, why=_(why) if why else why)]
    elif sub == "OUT_OF_BOUNDS_NO_POE" and detail.startswith(EXPIRED_IN_CHAIN):
        which = detail[len(EXPIRED_IN_CHAIN):].lstrip(": ")
        why = _(_WHY_EXPIRED_IN_CHAIN).format(reason=which)
        words = [_("{head}: cannot be confirmed, because {why}.").format(head=head, why=why)]
    elif NOT_RELIED_ON in detail:
        why = _WHY_SUNSET if sub == "CRYPTO_CONSTRAINTS_FAILURE_NO_POE" else _WHY_SUNSET_PROVEN
        words = [_("{head}: cannot be confirmed, because {why}.").format(
            head=head, why=_(why).format(reason=_say_sunset(detail, voice)))]
    elif detail.startswith(REPLACED_AFTER):
        words = [_("{head}: cannot be confirmed, because {why}.").format(head=head, why=_say_replaced(detail, voice))]
    else:
        why = _WHY.get(sub, detail)
        words = [_("{head}: cannot be confirmed, because {why}.").format(head=head, why=_(why) if why else why)]
    modification = entry.get("modification")
    said = sub in ("SIG_CONSTRAINTS_FAILURE", "FORMAT_FAILURE") and modification == "other"
    if modification in _MODIFIED and not said:
        words.append(_("Note: {change}.").format(change=_(_MODIFIED[modification])))
    if entry.get("coverage") == "entire_revision" and modification in (None, "none"):
        words.append(_("Only validation data or time-stamps were added after it."))
    return " ".join(words)


def say_document(report: Mapping[str, Any], voice: Voice = ENGLISH) -> str:
    """The whole document in one sentence, from the report's JSON (``indication`` and ``signatures``)."""
    _ = voice.gettext
    signatures = report["signatures"]
    count = len(signatures)
    problems = (report.get("container") or {}).get("problems") or []
    if problems:
        return _("The container is NOT valid: {problems}.").format(
            problems="; ".join(say_container_problem(p, voice) for p in problems))
    if report["indication"] == "TOTAL-PASSED" and signatures:
        if count == 1:
            return _("The signature is valid.")
        return voice.ngettext("All {count} signature valid.", "All {count} signatures valid.", count).format(
            count=count)
    if not signatures:
        return _("The document cannot be confirmed as signed: it carries no signature.")
    failing = [s for s in signatures if s["indication"] != "TOTAL-PASSED"]
    names = ", ".join(repr(s["field"]) if s.get("field") else s["kind"] for s in failing)
    if report["indication"] == "TOTAL-FAILED":
        said = voice.ngettext("The document is NOT valid: {failing} of {count} signature did not pass ({names}).",
                              "The document is NOT valid: {failing} of {count} signatures did not pass ({names}).",
                              count)
    else:
        said = voice.ngettext("The document cannot be confirmed as valid: {failing} of {count} signature did "
                              "not pass ({names}).",
                              "The document cannot be confirmed as valid: {failing} of {count} signatures did "
                              "not pass ({names}).", count)
    return said.format(failing=len(failing), count=count, names=names)


def signature_sentence(report: _Reported) -> str:
    """The English sentence of a ``SignatureReport`` (what its JSON's ``sentence`` says)."""
    return say_signature(report.as_json())


__all__ = ["CMS_UNREADABLE", "ENGLISH", "EXPIRED_IN_CHAIN", "N_", "OUR_FAULT", "READ_LENIENTLY", "REASONS",
           "REPLACED_ANNOTATION_APPEARANCE", "REPLACED_PAGE_CONTENT", "REPLACED_RESOURCES", "UNREVISED_TAIL", "Voice",
           "expired_in_chain", "read_leniently", "replaced", "say_container_problem", "say_document", "say_signature",
           "signature_sentence",
           "sunset", "why_unreadable"]
