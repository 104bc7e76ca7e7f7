"""What the MFO asks of ``ClientService`` and what it answers (issue 21, item 4: typed contracts).

The edges (api/http/routes/clients.py, tests) build these commands from what
they read; the service checks every field and lists every problem
(DOMAIN.md §4), as it did when it took the raw body. A field left out is
``None``, exactly as a body without it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from ca import identity
from ca.errors import InvalidInput, Problem
from registry import ClientFactorRow


@dataclass(frozen=True)
class ClientRegistration:
    """Register a client (LOAN-7): kind, IIN, BIN (a legal entity's, or a joint entrepreneurship's), name, phone."""

    kind: str | None = None
    iin: str | None = None
    bin: str | None = None
    name: str | None = None
    phone: str | None = None
    language: str = "kk"   # the language of the SMS that confirms the phone (kk, ru or en; issue 20)


@dataclass(frozen=True)
class FactorEnrolment:
    """Enrol a factor of ``kind``; each kind reads its own fields and refuses the others.

    sms: ``phone`` (and ``details_change_request`` once a phone is confirmed, LOAN-9);
    totp: nothing; biometric: ``reference`` (and ``provider``); eds: ``certificate``.
    """

    kind: str | None = None
    phone: str | None = None
    details_change_request: str | None = None
    reference: str | None = None
    provider: str | None = None
    certificate: str | None = None
    language: str = "kk"   # the language of the SMS the factor sends (sms: the code; totp: the link), issue 20

    def given(self) -> frozenset[str]:
        """The factor's fields the MFO gave (not ``None``); the SMS's language is every kind's."""
        return frozenset(f.name for f in fields(self) if f.name != "language" and getattr(self, f.name) is not None)


@dataclass(frozen=True)
class FactorView:
    id: str
    kind: str
    status: str
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    phone: str | None = None
    provider: str | None = None
    reference: str | None = None
    certificate_serial: str | None = None
    certificate_issuer: str | None = None
    # Shown once, when a TOTP factor is enrolled.
    secret: str | None = None
    uri: str | None = None

    def as_json(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.__dict__.items() if v is not None and k not in ("created_at", "confirmed_at")}
        return shown | {"created_at": self.created_at.isoformat(),
                        "confirmed_at": self.confirmed_at.isoformat() if self.confirmed_at else None}


@dataclass(frozen=True)
class ClientView:
    id: str
    kind: str
    iin: str
    bin: str | None
    name: str
    phone: str
    created_at: dt.datetime
    factors: tuple[FactorView, ...]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "iin": self.iin, "bin": self.bin, "name": self.name,
                "phone": self.phone, "created_at": self.created_at.isoformat(),
                "factors": [f.as_json() for f in self.factors]}


def factor_view(row: ClientFactorRow) -> FactorView:
    return FactorView(id=row.public_id, kind=row.kind, status=row.status, created_at=row.created_at,
                      confirmed_at=row.confirmed_at, phone=row.phone, provider=row.provider, reference=row.reference,
                      certificate_serial=row.certificate_serial, certificate_issuer=row.certificate_issuer)


def text_field(value: Any, name: str, problems: list[Problem], *, max_length: int,
               required: bool = True) -> str | None:
    """``value`` stripped, or None with its problem added (required, 1-``max_length`` printable characters)."""
    if value is None:
        if required:
            problems.append(Problem(name, "is required"))
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length or not value.isprintable():
        problems.append(Problem(name, f"must be 1-{max_length} printable characters"))
        return None
    return value.strip()


def phone_field(value: Any, problems: list[Problem]) -> str | None:
    """A phone number in the form the registry keeps, or None with its problems added."""
    phone = text_field(value, "phone", problems, max_length=32)
    if phone is None:
        return None
    phone_problems = identity.validate_phone(phone)
    problems += [Problem("phone", m) for m in phone_problems]
    return identity.normalize_phone(phone) if not phone_problems else None


SMS_LANGUAGES = ("kk", "ru", "en")   # the languages of the catalogues (api/pages/locale)


def language_problems(language: str) -> list[Problem]:
    """The SMS's language must be one the client can be written to in."""
    return [] if language in SMS_LANGUAGES else [Problem("language", "must be one of: " + ", ".join(SMS_LANGUAGES))]


def only_fields(factor: FactorEnrolment, allowed: set[str]) -> None:
    """Refuse, every one listed, the fields this kind of factor does not read."""
    extra = sorted(factor.given() - allowed)
    if extra:
        raise InvalidInput("the factor is refused", [Problem(k, "unknown field for this kind of factor")
                                                     for k in extra])


__all__ = ["SMS_LANGUAGES", "ClientRegistration", "ClientView", "FactorEnrolment", "FactorView", "factor_view",
           "language_problems", "only_fields",
           "phone_field", "text_field"]
