"""Centres, certificates (live and archived) and the registry's counters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import bindparam, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from registry import rawsql
from registry.constraints import constraint_name
from registry.register import holder_value, open_values, register_key, seal_values
from registry.models import (
    CentreRow,
    CertificateArchiveRow,
    CertificateRow,
    CertificateStatus,
    IssuanceJournalRow,
    SequenceRow,
)
from registry.repositories.base import Conflict, _Repository, built

_CENTRES = CentreRow.__table__
_CERTIFICATES = CertificateRow.__table__
_JOURNAL = IssuanceJournalRow.__table__
# search(name=...): the holder's name is sealed, so a name search opens the rows the other filters select,
# oldest first, at most this many, and keeps those whose name holds the words (docs/SECURITY.md, LOAN-15).
NAME_SEARCH_BOUND = 5000


class CentreRepository(_Repository):
    def add(self, row: CentreRow) -> CentreRow:
        return self._add(row)

    def by_code(self, code: str) -> CentreRow | None:
        return self._session.execute(select(CentreRow).where(CentreRow.code == code)).scalar_one_or_none()

    def by_id(self, centre_id: int) -> CentreRow | None:
        return self._session.get(CentreRow, centre_id)

    def status(self, centre_id: int) -> str | None:
        """The centre's status on the issuance hot path: one statement on the DB-API cursor."""
        rows = rawsql.execute(self._tx.connection, "centres.status", _CENTRES, ("id",),
                              lambda ph, _d: f"SELECT status FROM centres WHERE id = {ph}", (centre_id,))
        return rows[0][0] if rows else None

    def all(self) -> list[CentreRow]:
        return list(self._session.execute(select(CentreRow).order_by(CentreRow.id)).scalars())


class CertificateRepository(_Repository):
    def add(self, row: CertificateRow) -> CertificateRow:
        return self._add(row)

    def serial_taken(self, issuer_id: int, serial: str) -> bool:
        stmt = select(CertificateRow.id).where(CertificateRow.issuer_id == issuer_id, CertificateRow.serial == serial)
        return self._session.execute(stmt).first() is not None

    def by_serial(self, serial: str, issuer_id: int | None = None, *,
                  for_update: bool = False) -> list[CertificateRow]:
        def build():  # noqa: ANN202
            stmt = select(CertificateRow).where(CertificateRow.serial == bindparam("serial"))
            if issuer_id is not None:
                stmt = stmt.where(CertificateRow.issuer_id == bindparam("issuer_id"))
            return stmt.with_for_update() if for_update else stmt

        stmt = built(("certificates by serial", issuer_id is not None, for_update), build)
        return list(self._session.execute(stmt, {"serial": serial, "issuer_id": issuer_id}).scalars())

    def record_issuance(self, certificate: dict, journal: dict) -> int:
        """Insert a certificate and its journal row with two Core statements.

        Issuance is the registry's hot path; Core inserts skip the ORM's unit
        of work, which costs several times the certificate's own signature.
        """
        connection = self._tx.connection
        key = register_key(self._tx)        # LOAN-15: one AES-GCM per row under the register key, in memory
        certificate = dict(certificate)
        holder = certificate["holder"]
        certificate["holder"] = holder_value(key, holder)
        certificate["single_key_holder"] = holder_value(key, certificate.get("single_key_holder"))
        if holder.startswith("service:"):   # the CA's own service key: no person, kept open (registry/register.py)
            certificate["service_der"] = certificate["der"]
            open_values(CertificateRow.__sealed__, certificate)
        else:
            seal_values(key, CertificateRow.__sealed__, certificate)
        journal = seal_values(key, IssuanceJournalRow.__sealed__, dict(journal))
        try:
            certificate_id = rawsql.insert(connection, _CERTIFICATES, certificate, returning="id")
            rawsql.insert(connection, _JOURNAL, {**journal, "certificate_id": certificate_id})
        except IntegrityError as error:
            raise Conflict(constraint_name(error)) from error
        return certificate_id

    def _holder(self, holder: str) -> str:
        return holder_value(None if holder.startswith(("service:", "tenant:")) else register_key(self._tx), holder)

    def by_holder(self, holder: str, status: str = CertificateStatus.VALID) -> list[CertificateRow]:
        stmt = select(CertificateRow).where(CertificateRow.holder == self._holder(holder),
                                            CertificateRow.status == status)
        return list(self._session.execute(stmt.order_by(CertificateRow.id)).scalars())

    def by_application(self, application_id: int) -> list[CertificateRow]:
        stmt = select(CertificateRow).where(CertificateRow.application_id == application_id)
        return list(self._session.execute(stmt.order_by(CertificateRow.id)).scalars())

    def active_single_key(self, issuer_id: int, holder: str) -> CertificateRow | None:
        stmt = select(CertificateRow).where(CertificateRow.issuer_id == issuer_id,
                                            CertificateRow.single_key_holder == self._holder(holder))
        return self._session.execute(stmt).scalar_one_or_none()

    def search(self, *, issuer_id: int | None = None, iin: str | None = None, bin: str | None = None,
               profile: str | None = None, status: str | None = None, name: str | None = None,
               limit: int = 100, offset: int = 0, carrier: str | None = None) -> list[CertificateRow]:
        stmt = select(CertificateRow)
        if carrier:
            stmt = stmt.where(CertificateRow.key_carrier == carrier)
        if issuer_id is not None:
            stmt = stmt.where(CertificateRow.issuer_id == issuer_id)
        if iin or bin:   # LOAN-15: the keyed hashes, indexed (ix_certificates_iin, ix_certificates_bin)
            key = register_key(self._tx)
            if iin:
                stmt = stmt.where(CertificateRow.iin_digest == key.digest("iin", iin))
            if bin:
                stmt = stmt.where(CertificateRow.bin_digest == key.digest("bin", bin))
        if profile:
            stmt = stmt.where(CertificateRow.profile == profile)
        if status:
            stmt = stmt.where(CertificateRow.status == status)
        if name:
            # A part of the holder's name, any case (casefold: Kazakh and Russian letters too; the NCA's names
            # are written in capitals, KZ-1): the name is sealed, so the rows are opened and filtered here.
            words = name.casefold()
            rows = self._session.execute(stmt.order_by(CertificateRow.id).limit(NAME_SEARCH_BOUND)).scalars()
            found = [row for row in rows if words in (row.common_name or "").casefold()]
            return found[offset:offset + limit]
        stmt = stmt.order_by(CertificateRow.id).limit(limit).offset(offset)
        return list(self._session.execute(stmt).scalars())

    def count(self) -> int:
        return self._session.execute(select(func.count(CertificateRow.id))).scalar_one()

    def valid_issued_by(self, issuer_id: int) -> list[CertificateRow]:
        stmt = select(CertificateRow).where(CertificateRow.issuer_id == issuer_id,
                                            CertificateRow.status == CertificateStatus.VALID)
        return list(self._session.execute(stmt.order_by(CertificateRow.id)).scalars())

    def status_of(self, issuer_id: int, serial: str) -> tuple[str, dt.datetime | None, str | None] | None:
        """(status, revoked_at, reason) of one certificate, live or archived; None if never issued.

        The OCSP responder's cache miss: one indexed read, no ORM objects.
        """
        for table in (CertificateRow, CertificateArchiveRow):
            stmt = select(table.status, table.revoked_at, table.revocation_reason).where(
                table.issuer_id == issuer_id, table.serial == serial)
            row = self._tx.connection.execute(stmt).first()
            if row is not None:
                return row[0], row[1], row[2]
        return None

    def expired_terminated_before(self, issuer_id: int, cutoff: dt.datetime) -> list[int]:
        """Ids of certificates whose life ended (revoked, or expired) before ``cutoff``."""
        c = CertificateRow
        stmt = select(c.id).where(c.issuer_id == issuer_id).where(
            ((c.revoked_at.is_not(None)) & (c.revoked_at < cutoff)) | ((c.revoked_at.is_(None)) & (c.not_after < cutoff)))
        return [r[0] for r in self._tx.connection.execute(stmt)]

    def archive(self, ids: Sequence[int], at: dt.datetime) -> int:
        """Move rows to ``certificate_archive`` in this transaction; returns how many moved."""
        if not ids:
            return 0
        columns = [c.name for c in CertificateArchiveRow.__table__.columns if c.name not in ("id", "archived_at")]
        source = select(*[CertificateRow.__table__.c[name] for name in columns],
                        literal(at, CertificateArchiveRow.__table__.c.archived_at.type).label("archived_at"))
        moved = 0
        for start in range(0, len(ids), 500):
            chunk = list(ids[start:start + 500])
            self._tx.connection.execute(insert(CertificateArchiveRow).from_select(
                [*columns, "archived_at"], source.where(CertificateRow.id.in_(chunk))))
            moved += self._tx.connection.execute(delete(CertificateRow).where(CertificateRow.id.in_(chunk))).rowcount
        return moved

    def archived(self, issuer_id: int | None = None) -> list[CertificateArchiveRow]:
        stmt = select(CertificateArchiveRow).order_by(CertificateArchiveRow.id)
        if issuer_id is not None:
            stmt = stmt.where(CertificateArchiveRow.issuer_id == issuer_id)
        return list(self._session.execute(stmt).scalars())


_ADVANCE = (update(SequenceRow).where(SequenceRow.name == bindparam("sequence_name"))
            .values(value=SequenceRow.value + 1).returning(SequenceRow.value))


class SequenceRepository(_Repository):
    def advance_existing(self, name: str) -> int | None:
        """The counter moved on and read in one statement (built once); None if it does not exist yet."""
        return self._tx.connection.execute(_ADVANCE, {"sequence_name": name}).scalar_one_or_none()

    def next(self, name: str) -> int:
        """Advance a counter; its row stays locked until the transaction ends.

        The lock is what makes ``seq`` order equal commit order: a second
        writer waits here until the first commits or rolls back.
        """
        connection = self._tx.connection
        value = self.advance_existing(name)
        if value is None:
            try:
                with connection.begin_nested():
                    connection.execute(insert(SequenceRow).values(name=name, value=1))
                return 1
            except IntegrityError:
                value = connection.execute(_ADVANCE, {"sequence_name": name}).scalar_one()
        return value
