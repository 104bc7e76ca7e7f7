"""What the cabinet's services touch in the registry (their ``…Store``), and the account's facts (issue 16).

A ``registry.RegistryTransaction`` satisfies every Protocol here
(tests/unit/test_typed_contracts.py checks the registry provides them).
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from registry import (
    BorrowerAccountRow,
    BorrowerCeremonyRow,
    BorrowerSessionRow,
    ClientFactorRow,
    ClientRow,
    DocumentRow,
    SigningRequestRow,
)
from signing.factors.authorisation import AuditTrail
from signing.factors.otp import CodeStore


class Secrets(Protocol):
    def seal(self, plaintext: bytes, context: str) -> bytes: ...

    def open(self, sealed: bytes, context: str) -> bytes: ...

    def keyed_hash(self, *parts: str | bytes) -> str: ...

    def matches(self, expected_hex: str, *parts: str | bytes) -> bool: ...


class AccountRows(Protocol):
    def add(self, row: BorrowerAccountRow) -> BorrowerAccountRow: ...
    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> BorrowerAccountRow | None: ...
    def of_client(self, client_id: int, *, for_update: bool = False) -> BorrowerAccountRow | None: ...
    def by_id(self, account_id: int, *, for_update: bool = False) -> BorrowerAccountRow | None: ...
    def invited(self, public_id: str, *, for_update: bool = False) -> BorrowerAccountRow | None: ...


class CeremonyRows(Protocol):
    def add(self, row: BorrowerCeremonyRow) -> BorrowerCeremonyRow: ...
    def by_public_id(self, account_id: int, public_id: str, *,
                     for_update: bool = False) -> BorrowerCeremonyRow | None: ...
    def of_account(self, account_id: int, *, purpose: str | None = None,
                   for_update: bool = False) -> list[BorrowerCeremonyRow]: ...


class SessionRows(Protocol):
    def add(self, row: BorrowerSessionRow) -> BorrowerSessionRow: ...
    def by_token_id(self, token_id: str, *, for_update: bool = False) -> BorrowerSessionRow | None: ...


class ClientRows(Protocol):
    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> ClientRow | None: ...
    def by_id(self, tenant: str, client_id: int) -> ClientRow | None: ...
    def by_id_number(self, tenant: str, id_number: str) -> ClientRow | None: ...


class FactorRows(Protocol):
    def add(self, row: ClientFactorRow) -> ClientFactorRow: ...
    def of_client(self, client_id: int, *, kind: str | None = None, status: str | None = None,
                  for_update: bool = False) -> list[ClientFactorRow]: ...


class BorrowerReads(Protocol):
    def documents_of(self, tenant: str, client_id: int, id_number: str, *, limit: int = 200) -> list[DocumentRow]: ...
    def requests_of(self, tenant: str, client_id: int, *, limit: int = 200) -> list[SigningRequestRow]: ...


class AccountStore(CodeStore, Protocol):
    """One unit of work of the cabinet (a ``registry.RegistryTransaction`` is one)."""

    @property
    def borrower_accounts(self) -> AccountRows: ...
    @property
    def borrower_ceremonies(self) -> CeremonyRows: ...
    @property
    def borrower_sessions(self) -> SessionRows: ...
    @property
    def borrower_documents(self) -> BorrowerReads: ...
    @property
    def clients(self) -> ClientRows: ...
    @property
    def client_factors(self) -> FactorRows: ...
    @property
    def audit(self) -> AuditTrail: ...


class AccountStorage(Protocol):
    """The registry as the cabinet sees it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[AccountStore]: ...


@dataclass(frozen=True)
class CabinetPolicy:
    """The cabinet's limits (our choices where the rules are silent; docs/architecture/signing.md)."""

    invitation_ttl: dt.timedelta = dt.timedelta(hours=72)
    ceremony_ttl: dt.timedelta = dt.timedelta(minutes=30)
    movements: int = 3
    lockout_failures: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=15)
    session_idle: dt.timedelta = dt.timedelta(minutes=30)
    session_absolute: dt.timedelta = dt.timedelta(hours=8)
    assertion_max_age: dt.timedelta = dt.timedelta(minutes=5)
    skew: dt.timedelta = dt.timedelta(seconds=60)


__all__ = ["AccountStorage", "AccountStore", "CabinetPolicy", "Secrets"]
