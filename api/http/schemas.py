"""Request bodies of the HTTP API (pydantic), strict: unknown fields are refused."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ca.errors import InvalidInput, Problem
from ca.grounds import REASONS
from ca.profiles import Role as HolderRole
from keys import KeyAlgorithm


# The certification centres (ca.policy.CENTRES); a query naming another is a field problem, not a 404.
CentreCode = Literal["root", "national", "government"]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubjectBody(StrictBody):
    surname: str | None = None
    given_name: str | None = None
    patronymic: str | None = None
    iin: str | None = None
    email: str | None = None
    bin: str | None = None
    organisation: str | None = None
    locality: str | None = None
    state: str | None = None
    common_name: str | None = None
    country: str = "KZ"
    roles: list[HolderRole] = Field(default_factory=list)


class CarrierBody(StrictBody):
    type: Literal["pkcs12"] = "pkcs12"
    password: str = Field(max_length=256, description="at least 8 characters")
    algorithm: KeyAlgorithm | None = None


class HeldBody(StrictBody):
    algorithm: KeyAlgorithm | None = Field(default=None, description="default: the service keys' algorithm")


class IssueBody(StrictBody):
    profile: str
    centre: str | None = Field(default=None, description="defaults to the one centre issuing the profile")
    subject: SubjectBody
    csr_pem: str | None = Field(default=None, description="the holder's PKCS#10 request")
    carrier: CarrierBody | None = Field(default=None, description="the centre generates the key into a PKCS#12")
    held: HeldBody | None = Field(default=None, description="the national CA generates a borrower's signing key "
                                                            "into the service's backend and holds it (issue 15)")


class DestroyKeyBody(StrictBody):
    reason: Literal[REASONS] | None = Field(  # type: ignore[valid-type] - the tuple's members
        default=None, description="RFC 5280 reason of the revocation that comes first; default "
                                  "cessation-of-operation")


class ApplicationBody(StrictBody):
    kind: Literal["ca", "individual", "legal-entity", "government-batch", "revocation-individual",
                  "revocation-legal-entity", "revocation-government", "revocation-ca"]
    form: dict[str, Any] | None = Field(default=None, description="required unless signed_document holds it")
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    csr_pem: str | None = None
    signed_document: str | None = Field(default=None, max_length=200_000,
                                        description="revocation: the form as JSON inside a CMS signed with the "
                                                    "applicant's valid EDS (base64 DER or PEM), NAT-7")


class CourtDecisionBody(StrictBody):
    number: str = Field(min_length=1, max_length=64)
    date: dt.date


class RevokeBody(StrictBody):
    reason: str | None = Field(default=None, description="RFC 5280 reason in kebab case, e.g. key-compromise")
    ground: str = Field(default="holder-application", description="see GET /revocation-grounds")
    centre: str | None = None
    court_decision: CourtDecisionBody | None = None
    left_job_on: dt.date | None = None
    carrier_returned: bool | None = None
    state_body: str | None = Field(default=None, max_length=255)
    letter_number: str | None = Field(default=None, max_length=64)
    letter_date: dt.date | None = None


class ApproveBody(StrictBody):
    passwords: dict[str, str] = Field(default_factory=dict,
                                      description="government batch: PKCS#12 password per IIN; others generated")
    algorithm: KeyAlgorithm | None = None


class RefuseBody(StrictBody):
    reason: str = Field(min_length=1, max_length=64)
    detail: str = Field(min_length=1, max_length=4000)


class ApiKeyBody(StrictBody):
    name: str = Field(min_length=1, max_length=120)
    role: Literal["administrator", "registrar", "auditor", "mfo", "monitor"]
    tenant: str | None = Field(default=None, max_length=64)


def base64_field(value: str | None, field: str) -> bytes | None:
    """A base64 request field's bytes; a 422 naming the field when it is not base64."""
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("the request has invalid fields", [Problem(field, "is not valid base64")]) from None
