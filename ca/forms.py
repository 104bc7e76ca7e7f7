"""The centres' application forms (seed 004 appendices), as strict data.

Pydantic gives the shape (types, required fields, unknown fields refused);
``review`` adds the rules the shape cannot say: IIN/BIN checksums, names,
e-mail, phone, the 64-character short name, the attachments each centre
requires. Both report every problem at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ca import identity
from ca.errors import Problem
from ca.profiles import Role

KIND_CA, KIND_INDIVIDUAL, KIND_LEGAL, KIND_GOVERNMENT = "ca", "individual", "legal-entity", "government-batch"
KINDS = {KIND_CA: "root", KIND_INDIVIDUAL: "national", KIND_LEGAL: "national", KIND_GOVERNMENT: "government"}


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Attachment(_Form):
    """An attached document: recorded by kind, name and digest (the file stays with the registrar)."""

    kind: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=255)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    person_iin: str | None = None


class CAApplication(_Form):
    """Root CA, appendix 1 (004 lines 99, 152): a CA asks for its certificate."""

    country: str = Field(min_length=2, max_length=2)
    region: str = Field(min_length=1, max_length=128)
    city: str = Field(min_length=1, max_length=128)
    organisation: str = Field(min_length=1, max_length=64)
    ca_name: str = Field(min_length=1, max_length=64)
    email: str
    usage_areas: list[str] = Field(min_length=1)
    validity_years: int = Field(ge=1, le=20)
    accreditation_number: str = Field(min_length=1, max_length=64)
    accreditation_date: dt.date


class _Person(_Form):
    iin: str
    surname: str
    given_name: str
    patronymic: str | None = None
    region: str = Field(min_length=1, max_length=128)
    city: str = Field(min_length=1, max_length=128)
    email: str
    phone: str


class IndividualApplication(_Person):
    """National CA, appendix 1 (004 line 714)."""

    usage_areas: list[str] = Field(min_length=1)
    validity_years: Literal[1] = 1
    eds_tool: str = Field(min_length=1, max_length=128)
    algorithm: str = Field(min_length=1, max_length=64)
    profile: Literal["individual-sign", "individual-auth"] = "individual-sign"
    # "service": the centre generates the signing key in its backend and holds it for the borrower
    # (issue 15, ca/held_keys.py): no CSR then.
    key_custody: Literal["holder", "service"] = "holder"


class LegalEntityApplication(_Person):
    """National CA, appendix 2 (004 line 750): the organisation, then its representative."""

    bin: str
    organisation: str = Field(min_length=1, max_length=255)
    short_name: str = Field(min_length=1)
    role: Role = Role.EMPLOYEE
    usage_areas: list[str] = Field(min_length=1)
    validity_years: Literal[1] = 1
    eds_tool: str = Field(min_length=1, max_length=128)
    algorithm: str = Field(min_length=1, max_length=64)
    profile: Literal["legal-sign", "legal-auth"] = "legal-sign"
    key_custody: Literal["holder", "service"] = "holder"


class GovernmentPerson(_Form):
    """One person of a state body's list (appendix 1, line 366)."""

    iin: str
    surname: str
    given_name: str
    patronymic: str | None = None
    position: str = Field(min_length=1, max_length=128)
    country: str = Field(default="KZ", min_length=2, max_length=2)
    region: str = Field(min_length=1, max_length=128)
    email: str | None = None


class GovernmentBatchApplication(_Form):
    """Government-bodies CA: a state body's letter listing its people (GOV-2)."""

    state_body: str = Field(min_length=1, max_length=64)
    state_body_bin: str
    letter_number: str = Field(min_length=1, max_length=64)
    letter_date: dt.date
    form_numbers: str | None = Field(default=None, max_length=120)
    persons: list[GovernmentPerson] = Field(min_length=1, max_length=500)


FORMS: dict[str, type[_Form]] = {
    KIND_CA: CAApplication, KIND_INDIVIDUAL: IndividualApplication,
    KIND_LEGAL: LegalEntityApplication, KIND_GOVERNMENT: GovernmentBatchApplication,
}

REQUIRED_ATTACHMENTS = {
    KIND_CA: ("accreditation-certificate",),          # ROOT-2, line 101: notarised copy
    KIND_INDIVIDUAL: ("id-copy",),                     # NAT-2
    KIND_LEGAL: ("id-copy", "state-registration", "power-of-attorney"),  # NAT-2
    KIND_GOVERNMENT: ("official-letter",),             # GOV-2, plus an ID copy per person
}


def parse(kind: str, payload: object) -> tuple[_Form | None, list[Problem]]:
    model = FORMS.get(kind)
    if model is None:
        return None, [Problem("kind", f"unknown application kind {kind!r}; known: {', '.join(FORMS)}")]
    try:
        return model.model_validate(payload), []
    except ValidationError as error:
        return None, [Problem("form." + ".".join(str(p) for p in e["loc"]) if e["loc"] else "form", e["msg"])
                      for e in error.errors()]


def _person_problems(prefix: str, iin: str, surname: str, given_name: str, patronymic: str | None) -> list[Problem]:
    problems = [Problem(prefix + "iin", m) for m in identity.validate_iin(iin)]
    for name, value in (("surname", surname), ("given_name", given_name), ("patronymic", patronymic)):
        if value is not None:
            problems.extend(Problem(prefix + name, m) for m in identity.validate_person_name(value))
    return problems


def review(kind: str, form: _Form, attachments: list[Attachment]) -> list[Problem]:
    """Every problem with a well-shaped form, at once (NAT-3, GOV-2, ROOT-4)."""
    problems: list[Problem] = []
    if isinstance(form, _Person):
        problems += _person_problems("form.", form.iin, form.surname, form.given_name, form.patronymic)
        problems += [Problem("form.phone", m) for m in identity.validate_phone(form.phone)]
    if isinstance(form, (_Person, CAApplication)):
        problems += [Problem("form.email", m) for m in identity.validate_email(form.email)]
    if isinstance(form, (IndividualApplication, LegalEntityApplication)) and form.key_custody == "service" \
            and not form.profile.endswith("-sign"):
        problems.append(Problem("form.key_custody", "the service holds signing keys only (individual-sign, "
                                                    "legal-sign)"))
    if isinstance(form, LegalEntityApplication):
        problems += [Problem("form.bin", m) for m in identity.validate_bin(form.bin)]
        if len(form.short_name) > 64:
            problems.append(Problem("form.short_name", f"NAT-2: at most 64 characters, got {len(form.short_name)}"))
    if isinstance(form, GovernmentBatchApplication):
        problems += [Problem("form.state_body_bin", m) for m in identity.validate_bin(form.state_body_bin)]
        seen: set[str] = set()
        for i, person in enumerate(form.persons):
            prefix = f"form.persons.{i}."
            problems += _person_problems(prefix, person.iin, person.surname, person.given_name, person.patronymic)
            if person.email:
                problems += [Problem(prefix + "email", m) for m in identity.validate_email(person.email)]
            if person.iin in seen:
                problems.append(Problem(prefix + "iin", "GOV-4: the same person is listed twice"))
            seen.add(person.iin)
            if not any(a.kind == "id-copy" and a.person_iin == person.iin for a in attachments):
                problems.append(Problem(prefix + "iin", "GOV-2: no ID copy attached for this person"))
    kinds = {a.kind for a in attachments}
    for required in REQUIRED_ATTACHMENTS[kind]:
        if required not in kinds:
            problems.append(Problem("attachments", f"a {required} attachment is required"))
    return problems


def parse_attachments(payload: object) -> tuple[list[Attachment], list[Problem]]:
    if not isinstance(payload, list):
        return [], [Problem("attachments", "must be a list")]
    result, problems = [], []
    for i, item in enumerate(payload):
        try:
            result.append(Attachment.model_validate(item))
        except ValidationError as error:
            problems += [Problem(f"attachments.{i}." + ".".join(str(p) for p in e["loc"]), e["msg"])
                         for e in error.errors()]
    return result, problems
