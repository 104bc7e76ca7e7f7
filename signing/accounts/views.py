"""What the cabinet's services take and answer (issue 16): frozen dataclasses with ``as_json()`` for the edge.

Also the checks of what a borrower types: a password, a phone, bank details.
An IBAN is checked as ISO 13616-1 says (two letters, two check digits, the
national part; the number mod 97 is 1 once the first four characters are
moved to the end); a Kazakh IBAN is 20 characters (the National Bank of
Kazakhstan's IBAN structure: KZ, 2 check digits, 3 bank-code characters, 13
account characters). A BIC is ISO 9362: 4 letters (bank), the country code,
2 characters (location), and an optional 3-character branch.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from ca.errors import Problem
from registry import BorrowerAccountRow, BorrowerCeremonyRow, ClientRow
from signing.factors.enrolment import phone_field, text_field
from signing.factors.sms import masked

IBAN_KZ = re.compile(r"^KZ[0-9]{2}[0-9A-Z]{16}$")
BIC_KZ = re.compile(r"^[A-Z]{4}KZ[0-9A-Z]{2}([0-9A-Z]{3})?$")
MIN_PASSWORD, MAX_PASSWORD = 10, 128


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def iban_problems(iban: str) -> list[str]:
    if not IBAN_KZ.fullmatch(iban):
        return ["must be a Kazakh IBAN: KZ, 2 check digits and 16 letters or digits (20 characters, no spaces)"]
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    return [] if int(digits) % 97 == 1 else ["has wrong check digits (ISO 13616 mod 97)"]


def password_problems(password: object, iin: str | None = None) -> list[Problem]:
    if not isinstance(password, str) or not password:
        return [Problem("password", "is required")]
    problems = []
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        problems.append(Problem("password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"))
    if iin and iin in password:
        problems.append(Problem("password", "must not contain your IIN"))
    if password.strip() != password or not password.strip():
        problems.append(Problem("password", "must not start or end with a space"))
    return problems


@dataclass(frozen=True)
class DetailsChange:
    """LOAN-9: a new phone and/or new bank details (IBAN, BIC, bank name); a field left out is not changed."""

    phone: str | None = None
    bank_account: str | None = None
    bank_bic: str | None = None
    bank_name: str | None = None

    def checked(self, current_phone: str) -> tuple[str | None, str | None, str | None, str | None]:
        """The normalised values, or ``InvalidInput`` listing every problem."""
        from ca.errors import InvalidInput

        problems: list[Problem] = []
        phone = phone_field(self.phone, problems) if self.phone is not None else None
        if phone is not None and phone == current_phone:
            problems.append(Problem("phone", "is the phone in force already"))
        bank = [self.bank_account, self.bank_bic, self.bank_name]
        account = bic = name = None
        if any(v is not None for v in bank):
            account = text_field(self.bank_account, "bank_account", problems, max_length=34)
            if account is not None:
                account = account.replace(" ", "").upper()
                problems += [Problem("bank_account", m) for m in iban_problems(account)]
            bic = text_field(self.bank_bic, "bank_bic", problems, max_length=11)
            if bic is not None:
                bic = bic.strip().upper()
                if not BIC_KZ.fullmatch(bic):
                    problems.append(Problem("bank_bic", "must be a Kazakh BIC (ISO 9362): 4 letters, KZ, 2 "
                                                        "characters, optionally 3 more"))
            name = text_field(self.bank_name, "bank_name", problems, max_length=200)
        if self.phone is None and all(v is None for v in bank):
            problems.append(Problem("phone", "give a new phone, or new bank details (bank_account, bank_bic, "
                                             "bank_name), or both"))
        if problems:
            raise InvalidInput("the change is refused", problems)
        return phone, account, bic, name


@dataclass(frozen=True)
class AccountView:
    """The account as its borrower (and, without the bank details, the MFO) sees it."""

    id: str
    tenant: str
    client: str
    status: str
    name: str
    kind: str
    iin: str
    phone: str
    totp: bool
    created_at: dt.datetime
    registered_at: dt.datetime | None
    locked_until: dt.datetime | None
    bank_account: str | None = None
    bank_bic: str | None = None
    bank_name: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "tenant": self.tenant, "client": self.client, "status": self.status,
                "name": self.name, "kind": self.kind, "iin": self.iin, "phone": self.phone, "totp": self.totp,
                "created_at": iso(self.created_at), "registered_at": iso(self.registered_at),
                "locked_until": iso(self.locked_until), "bank_account": self.bank_account,
                "bank_bic": self.bank_bic, "bank_name": self.bank_name}


def account_view(row: BorrowerAccountRow, client: ClientRow, *, own: bool) -> AccountView:
    """``own``: the borrower's own view (phone and bank details); the MFO sees the phone masked and no bank."""
    return AccountView(
        id=row.public_id, tenant=row.tenant, client=client.public_id, status=row.status, name=client.name,
        kind=client.kind, iin=client.iin, phone=client.phone if own else masked(client.phone),
        totp=row.totp_confirmed_at is not None, created_at=row.created_at, registered_at=row.registered_at,
        locked_until=row.locked_until, bank_account=row.bank_account if own else None,
        bank_bic=row.bank_bic if own else None, bank_name=row.bank_name if own else None)


@dataclass(frozen=True)
class CeremonyView:
    """The factors an account action needs and which are given; ``data_to_sign`` is what the EDS signs."""

    id: str
    purpose: str
    status: str
    required: tuple[str, ...]
    proven: tuple[str, ...]
    movements: tuple[str, ...]
    data_to_sign: bytes
    phone: str | None
    expires_at: dt.datetime
    completed_at: dt.datetime | None

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(f for f in self.required if f not in self.proven)

    def as_json(self) -> dict[str, Any]:
        import base64

        return {"id": self.id, "purpose": self.purpose, "status": self.status, "required": list(self.required),
                "proven": list(self.proven), "missing": list(self.missing), "movements": list(self.movements),
                "data_to_sign": base64.b64encode(self.data_to_sign).decode(), "phone": self.phone,
                "expires_at": iso(self.expires_at), "completed_at": iso(self.completed_at)}


def ceremony_data(row: BorrowerCeremonyRow, account: BorrowerAccountRow) -> bytes:
    """The text the borrower's EDS signs: what is done, to which account, and the ceremony's nonce."""
    lines = [f"Qoltanba personal cabinet: {row.purpose}", f"tenant: {account.tenant}",
             f"account: {account.public_id}", f"ceremony: {row.public_id}", f"nonce: {row.nonce}"]
    for label, value in (("new phone", row.new_phone), ("new bank account", row.new_bank_account),
                         ("new bank BIC", row.new_bank_bic), ("new bank name", row.new_bank_name)):
        if value is not None:
            lines.append(f"{label}: {value}")
    return ("\n".join(lines) + "\n").encode()


def ceremony_view(row: BorrowerCeremonyRow, account: BorrowerAccountRow, phone: str | None) -> CeremonyView:
    return CeremonyView(id=row.public_id, purpose=row.purpose, status=row.status, required=tuple(row.required),
                        proven=tuple(row.proven), movements=tuple(row.movements),
                        data_to_sign=ceremony_data(row, account), phone=masked(phone) if phone else None,
                        expires_at=row.expires_at, completed_at=row.completed_at)


@dataclass(frozen=True)
class NewSession:
    """A login: the token is returned once (bearer for the API, the cookie for the pages)."""

    token: str
    account: str
    expires_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        return {"token": self.token, "account": self.account, "expires_at": iso(self.expires_at)}


@dataclass(frozen=True)
class Borrower:
    """Who a session token belongs to."""

    account: str
    tenant: str
    client_id: int
    session: str


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    uri: str

    def as_json(self) -> dict[str, Any]:
        return {"secret": self.secret, "uri": self.uri}


@dataclass(frozen=True)
class Invitation:
    """The MFO's command: invite a client to the cabinet; SMS texts in ``language``."""

    language: str = "kk"


__all__ = ["AccountView", "Borrower", "CeremonyView", "DetailsChange", "Invitation", "NewSession", "TotpEnrolment",
           "account_view", "ceremony_data", "ceremony_view", "iban_problems", "password_problems"]
