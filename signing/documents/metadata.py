"""A loan document's metadata: read field by field, every problem reported at once.

The MFO sends the terms of the loan with the PDF. Each field is read on its
own, so a wrong type in one field never hides a limit broken in another;
then the rules across fields apply (LOAN-13's limits, the client's IIN or
BIN against the kind of client). Field names in problems carry the
``metadata.`` prefix the API shows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from ca import identity
from ca.errors import Problem
from signing.documents.limits import DocumentLimits

CONTRACT, AMENDMENT = "contract", "amendment"
# LOAN-1 (seed 003, line 450): the contract and the application to accede to it (заявление о присоединении,
# Civil Code art. 389) are "integral parts of each other and together one document". So there is no kind for
# the accession application: it is inside the contract's PDF, uploaded once and signed once, and a contract
# form (signing/tenants/forms.py) is the contract with its accession application. APPLICATION below is the
# loan application questionnaire (заявление-анкета), a document of its own (LOAN-6).
ACCESSION_KINDS = ("accession_application", "accession")
ACCESSION_REFUSAL = ("LOAN-1: the accession application and the contract are one document: put the accession "
                     "application in the contract's PDF and upload it once as kind contract (one signature covers "
                     "both)")
# LOAN-6's other documents of the credit dossier (LOAN-14), and LOAN-9's
# application to change the client's phone number or bank details. Each is
# filed under its loan's contract number and states the loan's terms.
APPLICATION, CONSENT, SCHEDULE, DETAILS_CHANGE = "application", "consent", "schedule", "details_change"
OTHER_KINDS = (APPLICATION, CONSENT, SCHEDULE)
KINDS = (CONTRACT, AMENDMENT, *OTHER_KINDS, DETAILS_CHANGE)
INDIVIDUAL, ENTREPRENEUR, LEGAL_ENTITY = "individual", "entrepreneur", "legal_entity"
CLIENT_KINDS = (INDIVIDUAL, ENTREPRENEUR, LEGAL_ENTITY)
PURPOSES = ("business", "consumer")
MONEY_PLACES, RATE_PLACES = 2, 2
# Digits before the point that a number may have at all; the limits are far below.
_MAX_DIGITS = 15
PREFIX = "metadata."


@dataclass(frozen=True)
class DocumentMetadata:
    """What the MFO says about the document; amounts in KZT, rates in percent a year."""

    kind: str
    contract_number: str
    client_id_number: str
    client_kind: str
    loan_amount: Decimal
    term_days: int
    annual_effective_rate: Decimal
    secured: bool
    purpose: str
    template_version: str
    interest_rate: Decimal | None = None
    title: str | None = None
    contract: str | None = None   # amendments: the public id of the contract they amend
    form: str | None = None       # the tenant's registered form version it was made on (issue 15)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready; amounts and rates as decimal strings, so no float ever rounds them."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: str(v) if isinstance(v, Decimal) else v for name, v in values.items()}


def parse_metadata(payload: object, limits: DocumentLimits) -> tuple[dict[str, Any], list[Problem]]:
    """(the fields read successfully, every problem). Build ``DocumentMetadata(**values)`` when no problems.

    ``payload``: a mapping, or its JSON text (numbers read as decimals).
    """
    if payload is None:
        return {}, [Problem("metadata", "is required: the loan's terms as a JSON object")]
    if isinstance(payload, (str, bytes)):
        try:
            payload = json.loads(payload, parse_float=Decimal)
        except ValueError as error:
            return {}, [Problem("metadata", f"is not valid JSON: {error}")]
    if not isinstance(payload, Mapping):
        return {}, [Problem("metadata", "must be a JSON object")]
    reader = _Reader(payload)
    values = reader.read_all()
    problems = reader.problems + _rule_problems(values, limits)
    return values, problems


_FIELDS = {f.name for f in fields(DocumentMetadata)}


class _Reader:
    def __init__(self, payload: Mapping) -> None:
        self.payload = payload
        self.problems: list[Problem] = []

    def fail(self, name: str, message: str) -> None:
        self.problems.append(Problem(PREFIX + name, message))

    def read_all(self) -> dict[str, Any]:
        for name in sorted(set(self.payload) - _FIELDS, key=str):
            self.fail(str(name), "unknown field")
        candidates = {
            "kind": self.choice("kind", KINDS),
            "contract_number": self.text("contract_number", 64),
            "client_id_number": self.text("client_id_number", 12),
            "client_kind": self.choice("client_kind", CLIENT_KINDS),
            "loan_amount": self.decimal("loan_amount", MONEY_PLACES),
            "term_days": self.integer("term_days"),
            "annual_effective_rate": self.decimal("annual_effective_rate", RATE_PLACES),
            "secured": self.boolean("secured"),
            "purpose": self.choice("purpose", PURPOSES),
            "template_version": self.text("template_version", 32),
            "interest_rate": self.decimal("interest_rate", RATE_PLACES, required=False),
            "title": self.text("title", 200, required=False),
            "contract": self.text("contract", 32, required=False),
            "form": self.text("form", 32, required=False),
        }
        return {name: value for name, value in candidates.items() if value is not _MISSING}

    def _get(self, name: str, required: bool) -> Any:
        value = self.payload.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
                return _MISSING
            return None
        return value

    def text(self, name: str, max_length: int, required: bool = True) -> Any:
        value = self._get(name, required)
        if value is None or value is _MISSING:
            return value
        if not isinstance(value, str):
            self.fail(name, "must be a string")
            return _MISSING
        value = value.strip()
        if not value:
            self.fail(name, "must not be empty" if required else "must not be empty; leave it out instead")
            return _MISSING
        if len(value) > max_length:
            self.fail(name, f"is longer than {max_length} characters")
            return _MISSING
        if not value.isprintable():
            self.fail(name, "must not contain control characters")
            return _MISSING
        return value

    def choice(self, name: str, options: tuple[str, ...]) -> Any:
        value = self._get(name, True)
        if value is _MISSING:
            return value
        if name == "kind" and isinstance(value, str) and value.lower() in ACCESSION_KINDS:
            self.fail(name, ACCESSION_REFUSAL)
            return _MISSING
        if value not in options:
            self.fail(name, f"must be one of: {', '.join(options)}")
            return _MISSING
        return value

    def decimal(self, name: str, places: int, required: bool = True) -> Any:
        value = self._get(name, required)
        if value is None or value is _MISSING:
            return value
        # JSON true/false are Python ints; a flag is not an amount.
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
            self.fail(name, "must be a number")
            return _MISSING
        try:
            number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
        except InvalidOperation:
            self.fail(name, "must be a number")
            return _MISSING
        if not number.is_finite():
            self.fail(name, "must be a finite number")
            return _MISSING
        if number.adjusted() >= _MAX_DIGITS:
            self.fail(name, "is too large")
            return _MISSING
        if number.as_tuple().exponent < -places:  # type: ignore[operator]
            self.fail(name, f"has more than {places} decimal places")
            return _MISSING
        return number.quantize(Decimal(1).scaleb(-places))

    def integer(self, name: str) -> Any:
        value = self._get(name, True)
        if value is _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, "must be a whole number")
            return _MISSING
        return value

    def boolean(self, name: str) -> Any:
        value = self._get(name, True)
        if value is _MISSING:
            return value
        if not isinstance(value, bool):
            self.fail(name, "must be true or false")
            return _MISSING
        return value


_MISSING: Any = object()


def _rule_problems(values: dict[str, Any], limits: DocumentLimits) -> list[Problem]:
    """The rules across fields, on whatever was read: LOAN-13, the client, the contract link."""
    problems: list[Problem] = []

    def fail(name: str, message: str) -> None:
        problems.append(Problem(PREFIX + name, message))

    amount = values.get("loan_amount")
    if amount is not None and not limits.min_loan_kzt <= amount <= limits.max_loan_kzt:
        fail("loan_amount", f"LOAN-13: a microcredit is from {limits.min_loan_kzt} KZT to {limits.max_loan_mrp} MRP "
                            f"({limits.max_loan_kzt} KZT at {limits.mrp_kzt} KZT per MRP)")
    term = values.get("term_days")
    if term is not None and not limits.min_term_days <= term <= limits.max_term_days:
        fail("term_days", f"LOAN-13: the term is from {limits.min_term_days} days to 36 months "
                          f"({limits.max_term_days} days)")
    effective, nominal = values.get("annual_effective_rate"), values.get("interest_rate")
    if effective is not None and not limits.min_rate_percent <= effective <= limits.max_effective_rate_percent:
        fail("annual_effective_rate", f"LOAN-13: the annual effective rate is at most "
                                      f"{limits.max_effective_rate_percent} % (and, as it includes the reward, at "
                                      f"least {limits.min_rate_percent} %)")
    if nominal is not None and nominal < limits.min_rate_percent:
        fail("interest_rate", f"LOAN-13: the reward rate is at least {limits.min_rate_percent} % a year")
    elif nominal is not None and effective is not None and nominal > effective:
        fail("interest_rate", "must not exceed the annual effective rate, which includes it")
    problems += _client_problems(values.get("client_kind"), values.get("client_id_number"))
    kind, contract = values.get("kind"), values.get("contract")
    if kind == AMENDMENT and "contract" in values and contract is None:
        fail("contract", "is required for an amendment: the id of the contract it amends")
    if kind != AMENDMENT and contract is not None:
        fail("contract", "only an amendment names a contract")
    return problems


def _client_problems(client_kind: str | None, number: str | None) -> list[Problem]:
    """An individual is identified by IIN, a legal entity by BIN, an entrepreneur by either.

    An individual entrepreneur works under the person's IIN; only joint
    entrepreneurship is registered with a BIN, whose 5th digit is then 6.
    """
    if client_kind is None or number is None:
        return []
    field = PREFIX + "client_id_number"
    iin_problems = identity.validate_iin(number)
    if client_kind == INDIVIDUAL:
        return [Problem(field, f"an individual client needs an IIN: {m}") for m in iin_problems]
    bin_problems = identity.validate_bin(number)
    if client_kind == LEGAL_ENTITY:
        if not bin_problems and number[4] == "6":
            bin_problems = ["a BIN of joint entrepreneurship (5th digit 6) is not a legal entity's"]
        return [Problem(field, f"a legal entity needs a BIN: {m}") for m in bin_problems]
    if not iin_problems or (not bin_problems and number[4] == "6"):
        return []
    return [Problem(field, "an entrepreneur is identified by an IIN (or the BIN of a joint entrepreneurship): "
                           + "; ".join(iin_problems))]


def holder_matches(client_kind: str, id_number: str, iin: str | None, bin_: str | None) -> bool:
    """Whether a certificate with this IIN and BIN names the client the document is for: a legal entity by its
    BIN; an individual by the IIN; an entrepreneur by the IIN, or by a joint entrepreneurship's BIN the
    certificate carries (issue 15: a held key bound to that BIN)."""
    if client_kind == LEGAL_ENTITY:
        return bin_ == id_number
    return iin == id_number or (client_kind == ENTREPRENEUR and bin_ is not None and bin_ == id_number)
