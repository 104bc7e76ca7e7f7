"""Repositories: reads and writes of the registry, flushed, never committed.

The unit of work (``Registry.transaction``) commits at the edge. Domain code
gets rows back and reads their attributes; it never builds queries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry import rawsql
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


_CERTIFICATES = CertificateRow.__table__
_JOURNAL = IssuanceJournalRow.__table__


class _Repository:
    def __init__(self, tx: "RegistryTransaction") -> None:
        self._tx = tx

    @property
    def _session(self) -> Session:
        return self._tx.session

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

    def record_issuance(self, certificate: dict, journal: dict) -> int:
        """Insert a certificate and its journal row with two Core statements.

        Issuance is the registry's hot path; Core inserts skip the ORM's unit
        of work, which costs several times the certificate's own signature.
        """
        connection = self._tx.connection
        try:
            certificate_id = rawsql.insert(connection, _CERTIFICATES, certificate, returning="id")
            rawsql.insert(connection, _JOURNAL, {**journal, "certificate_id": certificate_id})
        except IntegrityError as error:
            raise Conflict(_constraint_of(error)) from error
        return certificate_id

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
    """The repositories of one unit of work, on one database connection.

    The ORM session is made only when a repository needs it: issuance, the
    hot path, writes through the connection alone and skips its cost.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._session: Session | None = None
        self.centres = CentreRepository(self)
        self.certificates = CertificateRepository(self)
        self.applications = ApplicationRepository(self)
        self.journal = JournalRepository(self)
        self.actors = ActorRepository(self)
        self.audit = AuditLog(self)

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.connection, expire_on_commit=False, autoflush=True)
        return self._session

    def flush(self) -> None:
        if self._session is not None:
            self._session.flush()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


class Registry:
    def __init__(self, database: Database) -> None:
        self.database = database

    @contextlib.contextmanager
    def transaction(self) -> Iterator[RegistryTransaction]:
        """One unit of work: committed when the block ends, rolled back on any error."""
        tx: RegistryTransaction | None = None
        try:
            with self.database.engine.connect() as connection, connection.begin():
                tx = RegistryTransaction(connection)
                yield tx
                tx.flush()
        except IntegrityError as error:
            raise Conflict(_constraint_of(error)) from error
        finally:
            if tx is not None:
                tx.close()
