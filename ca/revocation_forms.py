"""Revocation application forms (seed 004: root appendix 3, government appendix 4,
national appendices 4 and 5), as strict data.

Like the issuance forms, pydantic gives the shape and ``review`` the rules
the shape cannot say; both report every problem at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from ca import identity
from ca.errors import Problem
from ca.forms import Attachment, _Form, _person_problems
from ca.grounds import ACCREDITATION_EXPIRED, CA_LIQUIDATION, HOLDER_APPLICATION, LEFT_JOB, REASONS

KIND_REVOKE_INDIVIDUAL = "revocation-individual"
KIND_REVOKE_LEGAL = "revocation-legal-entity"
KIND_REVOKE_GOVERNMENT = "revocation-government"
KIND_REVOKE_CA = "revocation-ca"
Reason = Literal[REASONS]  # type: ignore[valid-type]


class _Revocation(_Form):
    serial: str = Field(min_length=1, max_length=64)
    issued_on: dt.date
    reason: Reason | None = None  # type: ignore[valid-type]


class IndividualRevocation(_Revocation):
    """National CA, appendix 4 (004 line 830): IIN, names, e-mail, phone, serial, issue date."""

    iin: str
    surname: str
    given_name: str
    patronymic: str | None = None
    email: str
    phone: str


class LegalEntityRevocation(_Revocation):
    """National CA, appendix 5: BIN, names, short name, region, city, phone, serial, issue date."""

    bin: str
    iin: str
    surname: str
    given_name: str
    patronymic: str | None = None
    short_name: str = Field(min_length=1, max_length=64)
    region: str = Field(min_length=1, max_length=128)
    city: str = Field(min_length=1, max_length=128)
    phone: str


class GovernmentRevocation(_Revocation):
    """Government CA, appendix 4 (004 line 511): the state body's letter; the key carrier is returned."""

    state_body: str = Field(min_length=1, max_length=255)
    state_body_bin: str
    letter_number: str = Field(min_length=1, max_length=64)
    letter_date: dt.date
    iin: str
    surname: str
    given_name: str
    patronymic: str | None = None
    ground: Literal[HOLDER_APPLICATION, LEFT_JOB] = HOLDER_APPLICATION  # type: ignore[valid-type]
    left_job_on: dt.date | None = None
    carrier_returned: bool


class CARevocation(_Revocation):
    """Root CA, appendix 3: a CA asks to revoke its certificate, or reports liquidation or lost accreditation."""

    ca_name: str = Field(min_length=1, max_length=64)
    organisation: str = Field(min_length=1, max_length=64)
    ground: Literal[HOLDER_APPLICATION, CA_LIQUIDATION, ACCREDITATION_EXPIRED] = HOLDER_APPLICATION  # type: ignore[valid-type]


REVOCATION_FORMS: dict[str, type[_Revocation]] = {
    KIND_REVOKE_INDIVIDUAL: IndividualRevocation, KIND_REVOKE_LEGAL: LegalEntityRevocation,
    KIND_REVOKE_GOVERNMENT: GovernmentRevocation, KIND_REVOKE_CA: CARevocation,
}
REVOCATION_KINDS = {KIND_REVOKE_INDIVIDUAL: "national", KIND_REVOKE_LEGAL: "national",
                    KIND_REVOKE_GOVERNMENT: "government", KIND_REVOKE_CA: "root"}
# Paper applications carry these; an application signed with the holder's EDS needs none (NAT-7).
REQUIRED_ATTACHMENTS = {KIND_REVOKE_INDIVIDUAL: ("id-copy",), KIND_REVOKE_LEGAL: ("id-copy", "power-of-attorney"),
                        KIND_REVOKE_GOVERNMENT: ("official-letter",), KIND_REVOKE_CA: ("official-letter",)}


def review(kind: str, form: _Revocation, attachments: list[Attachment], *, signed: bool) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(form, (IndividualRevocation, LegalEntityRevocation, GovernmentRevocation)):
        problems += _person_problems("form.", form.iin, form.surname, form.given_name, form.patronymic)
    if isinstance(form, (IndividualRevocation, LegalEntityRevocation)):
        problems += [Problem("form.phone", m) for m in identity.validate_phone(form.phone)]
    if isinstance(form, IndividualRevocation):
        problems += [Problem("form.email", m) for m in identity.validate_email(form.email)]
    if isinstance(form, LegalEntityRevocation):
        problems += [Problem("form.bin", m) for m in identity.validate_bin(form.bin)]
    if isinstance(form, GovernmentRevocation):
        problems += [Problem("form.state_body_bin", m) for m in identity.validate_bin(form.state_body_bin)]
        if form.ground == LEFT_JOB and form.left_job_on is None:
            problems.append(Problem("form.left_job_on", "GOV-5: the date the holder left is required"))
    if not signed:
        kinds = {a.kind for a in attachments}
        problems += [Problem("attachments", f"a {required} attachment is required (or sign the application "
                                            f"with your valid EDS, NAT-7)")
                     for required in REQUIRED_ATTACHMENTS[kind] if required not in kinds]
    return problems
