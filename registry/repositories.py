"""Repositories: reads and writes of the registry, flushed, never committed.

The unit of work (``Registry.transaction``) commits at the edge. Domain code
gets rows back and reads their attributes; it never builds queries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.audit import AuditLog
from registry.db import Database
from registry.models import ActorRow, ApplicationRow, CentreRow, CertificateRow, IssuanceJournalRow


class RegistryError(Exception):
    pass


class Conflict(RegistryError):
    """A uniqueness rule of the registry refused the write."""

    def __init__(self, constraint: str) -> None:
        super().__init__(constraint)
        self.constraint = constraint


def _constraint_of(error: IntegrityError) -> str:
    text = str(error.orig)
    for name in ("uq_certificates_single_key_holder", "uq_certificates_issuer_serial",
                 "fingerprint_sha256", "actors.name", "actors_name", "centres.code", "centres_code"):
        if name in text:
            return name
    # SQLite names columns, not constraints.
    if "certificates.issuer_id, certificates.single_key_holder" in text:
        return "uq_certificates_single_key_holder"
    if "certificates.issuer_id, certificates.serial" in text:
        return "uq_certificates_issuer_serial"
    return "unique"


class _Repository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _add(self, row):  # noqa: ANN001, ANN202 - any mapped row
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as error:
            raise Conflict(_constraint_of(error)) from error
        return row


class CentreRepository(_Repository):
    def add(self, row: CentreRow) -> CentreRow:
        return self._add(row)

    def by_code(self, code: str) -> CentreRow | None:
        return self._session.execute(select(CentreRow).where(CentreRow.code == code)).scalar_one_or_none()

    def by_id(self, centre_id: int) -> CentreRow | None:
        return self._session.get(CentreRow, centre_id)

    def all(self) -> list[CentreRow]:
        return list(self._session.execute(select(CentreRow).order_by(CentreRow.id)).scalars())


class CertificateRepository(_Repository):
    def add(self, row: CertificateRow) -> CertificateRow:
        return self._add(row)

    def serial_taken(self, issuer_id: int, serial: str) -> bool:
        stmt = select(CertificateRow.id).where(CertificateRow.issuer_id == issuer_id, CertificateRow.serial == serial)
        return self._session.execute(stmt).first() is not None

    def by_serial(self, serial: str, issuer_id: int | None = None) -> list[CertificateRow]:
        stmt = select(CertificateRow).where(CertificateRow.serial == serial)
        if issuer_id is not None:
            stmt = stmt.where(CertificateRow.issuer_id == issuer_id)
        return list(self._session.execute(stmt).scalars())

    def by_holder(self, holder: str, status: str = "valid") -> list[CertificateRow]:
        stmt = select(CertificateRow).where(CertificateRow.holder == holder, CertificateRow.status == status)
        return list(self._session.execute(stmt.order_by(CertificateRow.id)).scalars())

    def by_application(self, application_id: int) -> list[CertificateRow]:
        stmt = select(CertificateRow).where(CertificateRow.application_id == application_id)
        return list(self._session.execute(stmt.order_by(CertificateRow.id)).scalars())

    def active_single_key(self, issuer_id: int, holder: str) -> CertificateRow | None:
        stmt = select(CertificateRow).where(CertificateRow.issuer_id == issuer_id,
                                            CertificateRow.single_key_holder == holder)
        return self._session.execute(stmt).scalar_one_or_none()

    def search(self, *, issuer_id: int | None = None, iin: str | None = None, bin: str | None = None,
               profile: str | None = None, status: str | None = None,
               limit: int = 100, offset: int = 0) -> list[CertificateRow]:
        stmt = select(CertificateRow)
        if issuer_id is not None:
            stmt = stmt.where(CertificateRow.issuer_id == issuer_id)
        if iin:
            stmt = stmt.where(CertificateRow.iin == iin)
        if bin:
            stmt = stmt.where(CertificateRow.bin == bin)
        if profile:
            stmt = stmt.where(CertificateRow.profile == profile)
        if status:
            stmt = stmt.where(CertificateRow.status == status)
        stmt = stmt.order_by(CertificateRow.id).limit(limit).offset(offset)
        return list(self._session.execute(stmt).scalars())

    def count(self) -> int:
        return self._session.execute(select(func.count(CertificateRow.id))).scalar_one()


class ApplicationRepository(_Repository):
    def add(self, row: ApplicationRow) -> ApplicationRow:
        return self._add(row)

    def by_id(self, application_id: int, *, for_update: bool = False) -> ApplicationRow | None:
        stmt = select(ApplicationRow).where(ApplicationRow.id == application_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def search(self, *, centre_id: int | None = None, status: str | None = None,
               overdue_on: dt.date | None = None, limit: int = 100, offset: int = 0) -> list[ApplicationRow]:
        stmt = select(ApplicationRow)
        if centre_id is not None:
            stmt = stmt.where(ApplicationRow.centre_id == centre_id)
        if status:
            stmt = stmt.where(ApplicationRow.status == status)
        if overdue_on is not None:
            stmt = stmt.where(ApplicationRow.status == "submitted", ApplicationRow.due_date < overdue_on)
        stmt = stmt.order_by(ApplicationRow.id).limit(limit).offset(offset)
        return list(self._session.execute(stmt).scalars())

    def flush(self) -> None:
        self._session.flush()


class JournalRepository(_Repository):
    def add(self, row: IssuanceJournalRow) -> IssuanceJournalRow:
        return self._add(row)

    def entries(self, centre_id: int | None = None) -> list[IssuanceJournalRow]:
        stmt = select(IssuanceJournalRow).order_by(IssuanceJournalRow.id)
        if centre_id is not None:
            stmt = stmt.where(IssuanceJournalRow.centre_id == centre_id)
        return list(self._session.execute(stmt).scalars())


class ActorRepository(_Repository):
    def add(self, row: ActorRow) -> ActorRow:
        return self._add(row)

    def by_key_id(self, key_id: str) -> ActorRow | None:
        return self._session.execute(select(ActorRow).where(ActorRow.key_id == key_id)).scalar_one_or_none()

    def by_name(self, name: str) -> ActorRow | None:
        return self._session.execute(select(ActorRow).where(ActorRow.name == name)).scalar_one_or_none()

    def all(self) -> Sequence[ActorRow]:
        return list(self._session.execute(select(ActorRow).order_by(ActorRow.id)).scalars())


class RegistryTransaction:
    """The repositories of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.centres = CentreRepository(session)
        self.certificates = CertificateRepository(session)
        self.applications = ApplicationRepository(session)
        self.journal = JournalRepository(session)
        self.actors = ActorRepository(session)
        self.audit = AuditLog(session)


class Registry:
    def __init__(self, database: Database) -> None:
        self.database = database

    @contextlib.contextmanager
    def transaction(self) -> Iterator[RegistryTransaction]:
        try:
            with self.database.session() as session:
                yield RegistryTransaction(session)
        except IntegrityError as error:
            raise Conflict(_constraint_of(error)) from error
