"""The verification report as cards a person reads: one per signature and document time-stamp.

The cards are made from the report's JSON, exactly what ``POST /verify``
answers (signing/verification/report.py), in the visitor's language: the
labels from the catalogue, the sentence said again by
signing/verification/words.py in that language, moments in Almaty time.

A personal number is masked as ``mask_iin`` does (docs/architecture/api.md,
"Pages"): the IIN of a natural person shows only its last four digits,
because its first seven are the birth date and the century and sex digit;
a BIN, a legal entity's number in the public register, is shown whole, as
the QR summary page has always shown it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.pages.i18n import Language
from signing.verification.words import N_, say_document, say_signature

TONE = {"TOTAL-PASSED": "passed", "INDETERMINATE": "indeterminate", "TOTAL-FAILED": "failed"}
VERDICT = {"TOTAL-PASSED": N_("Valid"), "INDETERMINATE": N_("Cannot be confirmed"), "TOTAL-FAILED": N_("Not valid")}
KIND = {"signature": N_("Signature"), "document_timestamp": N_("Document time-stamp"), "cms": N_("CMS signature")}
REVOCATION = {"good": N_("not revoked"), "revoked": N_("revoked"), "unknown": N_("status unknown"),
              "not_checked": N_("not checked")}
SOURCE = {"document": N_("from the revocation data in the document"), "online": N_("asked online"),
          "cms": N_("from the revocation data in the signature")}
MODIFICATION = {"none": N_("none"), "form_filling": N_("form fields filled in or signatures added"),
                "annotations": N_("annotations added"), "other": N_("the document was changed")}
FACTOR = {"SMS": N_("one-time code by SMS"), "TOTP": N_("one-time code from an authenticator app"),
          "Biometric": N_("biometric check"), "EDS": N_("the signer's own EDS"), "PIN": N_("PIN"),
          "Password": N_("personal cabinet password")}


def mask_iin(iin: str | None) -> str | None:
    """'850101300123' -> '********0123': the last four digits only."""
    if not iin:
        return None
    return "*" * max(len(iin) - 4, 0) + iin[-4:]


@dataclass
class Card:
    tone: str
    indication: str
    sub_indication: str | None
    verdict: str
    title: str
    sentence: str
    rows: list[tuple[str, str]] = field(default_factory=list)


def _factors(found: dict[str, Any] | None, lang: Language) -> str | None:
    if not found or not found.get("auth_type"):
        return None
    _ = lang.gettext
    names = [_(FACTOR[name]) if name in FACTOR else name for name in str(found["auth_type"]).split("+")]
    return ", ".join(names)


def _signer_rows(signer: dict[str, Any] | None, lang: Language) -> list[tuple[str, str]]:
    _ = lang.gettext
    if not signer:
        return [(_("Signer"), _("not identified"))]
    rows = [(_("Signer"), signer["name"])]
    if signer.get("iin"):
        rows.append((_("IIN"), mask_iin(signer["iin"]) or ""))
    if signer.get("organisation"):
        rows.append((_("Organisation"), signer["organisation"]))
    if signer.get("bin"):
        rows.append((_("BIN"), signer["bin"]))
    return rows


def card(entry: dict[str, Any], lang: Language) -> Card:
    """One entry of the report's ``signatures``."""
    _ = lang.gettext
    indication = entry["indication"]
    title = _(KIND.get(entry["kind"], entry["kind"]))
    if entry.get("field"):
        title += f" «{entry['field']}»"
    rows = _signer_rows(entry.get("signer"), lang)
    stamp = entry.get("timestamp") or {}
    if stamp.get("gen_time"):
        tsa = f" — {stamp['tsa']}" if stamp.get("tsa") else ""
        rows.append((_("Time-stamp"), lang.moment(stamp["gen_time"]) + tsa))
    elif entry.get("claimed_signing_time"):
        rows.append((_("Signing time (claimed, no time-stamp)"), lang.moment(entry["claimed_signing_time"])))
    anchor = entry.get("trust_anchor")
    rows.append((_("Chain up to"), anchor["subject"] if anchor else _("no trusted root")))
    revocation = entry.get("revocation") or {}
    status = revocation.get("status", "not_checked")
    said = _(REVOCATION.get(status, status))
    if revocation.get("source") in SOURCE:
        said += ", " + _(SOURCE[revocation["source"]])
    if revocation.get("checked_at"):
        said += ", " + lang.moment(revocation["checked_at"])
    if revocation.get("revoked_at"):
        said += "; " + _("revoked on {moment}").format(moment=lang.moment(revocation["revoked_at"]))
    rows.append((_("Revocation"), said))
    modification = entry.get("modification")
    rows.append((_("Changes after signing"), _(MODIFICATION[modification]) if modification in MODIFICATION
                 else _("not known")))
    if entry.get("level"):
        rows.append((_("Level"), entry["level"]))
    factors = _factors(entry.get("factors"), lang)
    if factors:
        rows.append((_("Factors recorded"), factors))
    signer = entry.get("signer")
    masked = {**entry, "signer": {**signer, "iin": mask_iin(signer.get("iin"))}} if signer else entry
    return Card(tone=TONE[indication], indication=indication, sub_indication=entry.get("sub_indication"),
                verdict=_(VERDICT[indication]), title=title, sentence=say_signature(masked, lang.voice), rows=rows)


def report_view(report: dict[str, Any], lang: Language) -> dict[str, Any]:
    """The whole report: the document's verdict and sentence, and its cards."""
    _ = lang.gettext
    return {"tone": TONE[report["indication"]], "indication": report["indication"],
            "verdict": _(VERDICT[report["indication"]]), "sentence": say_document(report, lang.voice),
            "sha256": report["document"]["sha256"], "size": lang.size(report["document"]["size"]),
            "validation_time": lang.moment(report["validation_time"]),
            "cards": [card(entry, lang) for entry in report["signatures"]]}


def summary_view(summary: dict[str, Any], lang: Language) -> dict[str, Any]:
    """The QR code's summary of one of our documents (no personal data: signing/verification/public.py)."""
    _ = lang.gettext
    cards = []
    for entry in summary["signatures"]:
        signer = entry["signer"]
        if signer["type"] == "organisation":
            rows = [(_("Organisation"), signer["organisation"]), (_("BIN"), signer["bin"])]
        else:
            rows = [(_("Signer"), _("the time-stamp authority") if signer["type"] == "tsa"
                     else _("a natural person (name not shown here)"))]
        if entry.get("signed_at"):
            label = _("Time-stamp") if entry["time_stamped"] else _("Signing time (claimed, no time-stamp)")
            rows.append((label, lang.moment(entry["signed_at"])))
        modification = entry.get("modification")
        rows.append((_("Changes after signing"), _(MODIFICATION[modification]) if modification in MODIFICATION
                     else _("not known")))
        if entry.get("level"):
            rows.append((_("Level"), entry["level"]))
        title = _(KIND.get(entry["kind"], entry["kind"])) + (f" «{entry['field']}»" if entry.get("field") else "")
        cards.append(Card(tone=TONE[entry["indication"]], indication=entry["indication"],
                          sub_indication=entry.get("sub_indication"), verdict=_(VERDICT[entry["indication"]]),
                          title=title, sentence="", rows=rows))
    return {"tone": TONE[summary["indication"]], "indication": summary["indication"],
            "verdict": _(VERDICT[summary["indication"]]), "sentence": say_document(summary, lang.voice),
            "sha256": summary["sha256"], "document": summary["document"], "version": summary["version"],
            "status": summary["status"], "validation_time": lang.moment(summary["validation_time"]),
            "cards": cards}


__all__ = ["Card", "card", "mask_iin", "report_view", "summary_view"]
