"""What the console says, in the page's language: names of centres, kinds, statuses, reasons, grounds, refusals.

The services (ca/) keep their lists as codes with English texts (ca/policy.py's
refusal reasons, ca/grounds.py's revocation grounds and RFC 5280 reasons);
the console shows each code's words from the catalogue, and the code itself
beside them, so staff and the API's users speak of the same thing.
"""

from __future__ import annotations

from api.pages.i18n import Language
from ca.errors import QoltanbaError
from signing.verification.words import N_


CENTRES = {"root": N_("Root CA"), "national": N_("National CA"), "government": N_("Government-bodies CA")}
KINDS = {"individual": N_("Certificate: individual"), "legal-entity": N_("Certificate: legal entity"),
         "government-batch": N_("Certificates: state body's employees"), "ca": N_("Certificate: certification centre"),
         "revocation-individual": N_("Revocation: individual"), "revocation-legal-entity": N_("Revocation: legal entity"),
         "revocation-government": N_("Revocation: state body's employee"),
         "revocation-ca": N_("Revocation: certification centre")}
STATUSES = {"submitted": N_("Waiting for a decision"), "issued": N_("Issued"), "refused": N_("Refused"),
            "revoked": N_("Revoked"), "valid": N_("In force"), "pending": N_("Waiting for a second administrator"),
            "approved": N_("Approved"), "executed": N_("Approved and carried out"), "failed": N_("Approved, failed"),
            "rejected": N_("Rejected"), "expired": N_("Lapsed")}
# RFC 6960 §2.2's certificate statuses, and the responseStatus values an answer may carry instead.
OCSP_ANSWERS = {"good": N_("good"), "revoked": N_("revoked"), "unknown": N_("unknown"),
                "unauthorized": N_("unauthorized"), "malformed_request": N_("malformed request"),
                "internal_error": N_("internal error"), "try_later": N_("try later")}
ROLES = {"administrator": N_("administrator"), "registrar": N_("registrar"), "auditor": N_("auditor")}
# The refusal reasons of ca/policy.py (REFUSAL_REASONS) and ca/grounds.py (REVOCATION_REFUSAL_REASONS), by code.
REFUSALS = {"documents-missing": N_("The required documents are missing"),
            "information-unreliable": N_("The information given is unreliable"),
            "form-incorrect": N_("The application is not filled in correctly"),
            "data-mismatch": N_("The application does not match the applicant's documents"),
            "key-unacceptable": N_("The public key or its proof of possession is not acceptable"),
            "not-a-participant": N_("The applicant is not a participant of the state bodies' system"),
            "holder-has-key": N_("The holder already has a valid private key"),
            "not-the-holder": N_("The applicant is not the holder or their representative"),
            "already-revoked": N_("The certificate is already revoked")}
# ca/grounds.py's GROUNDS and RFC 5280 §5.3.1's reason codes.
GROUNDS = {"holder-application": N_("The holder's application"), "court-decision": N_("A court decision in force"),
           "left-job": N_("The holder left the job or changed post"),
           "ca-liquidation": N_("The certification centre reported its liquidation"),
           "accreditation-expired": N_("The certification centre's accreditation expired"),
           "centre-stopped": N_("The issuing centre stopped work")}
REASONS = {"unspecified": N_("Unspecified"), "key-compromise": N_("Key compromise"),
           "ca-compromise": N_("CA compromise"), "affiliation-changed": N_("Affiliation changed"),
           "superseded": N_("Superseded"), "cessation-of-operation": N_("Cessation of operation"),
           "privilege-withdrawn": N_("Privilege withdrawn")}
ACTIONS = {"ca-certificate.revoke": N_("Revoke a CA certificate"), "centre.stop": N_("Stop a centre"),
           "ca-key.create": N_("Create a CA key"), "ca-key.retire": N_("Retire a CA key"),
           "signing-policy.change": N_("Change the signing policy")}
# The application forms' fields (ca/forms.py, ca/revocation_forms.py), as the paper forms name them, in their order.
FORM_FIELDS = {"ca_name": N_("Certification centre's name"), "organisation": N_("Organisation"),
               "state_body": N_("State body"), "state_body_bin": N_("State body's BIN"),
               "letter_number": N_("Letter number"), "letter_date": N_("Letter date"),
               "form_numbers": N_("Form numbers"), "bin": N_("BIN"), "short_name": N_("Short name"),
               "surname": N_("Surname"), "given_name": N_("Given name"), "patronymic": N_("Patronymic"),
               "iin": N_("IIN"), "position": N_("Position"), "role": N_("Role in the organisation"),
               "country": N_("Country"), "region": N_("Region"), "city": N_("City"), "email": N_("E-mail"),
               "phone": N_("Phone"), "serial": N_("Certificate serial number"), "issued_on": N_("Issued on"),
               "reason": N_("Revocation reason"), "ground": N_("Ground for revocation"),
               "left_job_on": N_("Left the job on"), "carrier_returned": N_("Key carrier returned"),
               "usage_areas": N_("Areas of use"), "validity_years": N_("Validity, years"),
               "accreditation_number": N_("Accreditation certificate number"),
               "accreditation_date": N_("Accreditation date"), "profile": N_("Certificate profile"),
               "eds_tool": N_("EDS tool"), "algorithm": N_("Algorithm"), "key_custody": N_("Who keeps the key"),
               "persons": N_("People")}
FORM_VALUES = {"profile": {"individual-sign": N_("Individual, for signing"),
                           "individual-auth": N_("Individual, for authentication"),
                           "legal-sign": N_("Legal entity's employee, for signing"),
                           "legal-auth": N_("Legal entity's employee, for authentication")},
               "key_custody": {"holder": N_("The holder, on their own carrier"),
                               "service": N_("The centre, for the borrower (held key)")},
               "role": {"first-head": N_("First head"), "may-sign": N_("Has the right to sign"),
                        "financial": N_("Financial documents"), "hr": N_("Human resources"),
                        "employee": N_("Employee")}}
ATTACHMENTS = {"id-copy": N_("Copy of the identity document"), "state-registration": N_("State registration"),
               "power-of-attorney": N_("Power of attorney"),
               "accreditation-certificate": N_("Accreditation certificate (notarised copy)"),
               "official-letter": N_("Official letter")}
# The fields of the console's forms, as a message about each names them.
FIELDS = {"reason": N_("Choose the reason from the list."),
          "detail": N_("Write the reasons for the refusal: the applicant is told them."),
          "ground": N_("This ground does not apply to this certificate or centre."),
          "court_decision.number": N_("Give the court decision's number."),
          "court_decision.date": N_("Give the court decision's date; it cannot be in the future."),
          "court_decision": N_("A court decision is given only for a revocation by a court decision."),
          "left_job_on": N_("Give the day the holder left the job (not in the future)."),
          "carrier_returned": N_("Say whether the key carrier was returned (GOV-5)."),
          "letter_date": N_("Give the letter's date as a date."),
          "serial": N_("Give a serial number in hexadecimal digits."),
          "query": N_("Type what to search for."),
          "iin": N_("An IIN has 12 digits."), "bin": N_("A BIN has 12 digits."),
          "centre": N_("Choose a centre from the list."), "form": N_("The application's form cannot be used.")}


def word(language: Language, table: dict[str, str], code: str | None) -> str:
    """The words for ``code`` from ``table`` in ``language``; an unknown code is shown as it is."""
    if code is None:
        return ""
    return language.gettext(table[code]) if code in table else code


def refusal(language: Language, error: QoltanbaError) -> list[str]:
    """What staff are told when a service refuses: one line, then one per field problem."""
    _ = language.gettext
    head = {
        "invalid-input": _("Nothing was changed. Correct the following and try again:"),
        "conflict": _("Nothing was changed: this was already decided or done meanwhile."),
        "not-found": _("There is no such record. It may have been archived."),
        "forbidden": _("Your role does not allow this. Nothing was changed."),
        "dual-control-required": _("This needs a second administrator's approval."),
        "rate-limited": _("Too many requests from your address. Please try again in a minute."),
    }.get(error.code, _("The action was refused. Nothing was changed."))
    lines = [head]
    seen = set()
    for problem in error.problems:
        said = word(language, FIELDS, problem.field) if problem.field in FIELDS else _(
            "The field “{field}” is not valid.").format(field=problem.field)
        if said not in seen:
            seen.add(said)
            lines.append(said)
    return lines


__all__ = ["ACTIONS", "ATTACHMENTS", "CENTRES", "FIELDS", "FORM_FIELDS", "FORM_VALUES", "GROUNDS", "KINDS", "N_", "OCSP_ANSWERS", "REASONS", "REFUSALS", "ROLES", "STATUSES",
           "refusal", "word"]
