"""Revocations and CRLs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from registry.models import CRLRow, RevocationRow
from registry.repositories.base import _Repository


class RevocationRepository(_Repository):
    def add(self, row: RevocationRow) -> RevocationRow:
        return self._add(row)

    def entries(self, centre_id: int) -> list[RevocationRow]:
        stmt = select(RevocationRow).where(RevocationRow.centre_id == centre_id).order_by(RevocationRow.seq)
        return list(self._session.execute(stmt).scalars())

    def crl_entries(self, centre_id: int, *, after_seq: int = 0) -> list[tuple[str, dt.datetime, str, int, dt.datetime]]:
        """(serial hex, revoked_at, reason, seq, valid_to) past ``after_seq``, in order, off the cursor.

        A CRL may hold a million entries; ORM objects would cost more than
        encoding them, so the publisher keeps them and asks only for new ones.
        """
        r = RevocationRow
        stmt = select(r.serial, r.revoked_at, r.reason, r.seq, r.valid_to).where(
            r.centre_id == centre_id, r.seq > after_seq)
        return [tuple(row) for row in self._tx.connection.execute(stmt.order_by(r.seq))]  # type: ignore[misc]

    def last_seq(self, centre_id: int | None = None) -> int:
        stmt = select(func.max(RevocationRow.seq))
        if centre_id is not None:
            stmt = stmt.where(RevocationRow.centre_id == centre_id)
        return self._tx.connection.execute(stmt).scalar() or 0

    def since(self, seq: int, limit: int = 10000) -> list[tuple[int, int, str, dt.datetime, str]]:
        """(seq, centre_id, serial, revoked_at, reason) committed after ``seq``, in order."""
        r = RevocationRow
        stmt = select(r.seq, r.centre_id, r.serial, r.revoked_at, r.reason).where(r.seq > seq)
        return [tuple(row) for row in self._tx.connection.execute(stmt.order_by(r.seq).limit(limit))]  # type: ignore[misc]


class CRLRepository(_Repository):
    def add(self, row: CRLRow) -> CRLRow:
        return self._add(row)

    def last_number(self, centre_id: int) -> int:
        stmt = select(func.max(CRLRow.number)).where(CRLRow.centre_id == centre_id)
        return self._tx.connection.execute(stmt).scalar() or 0

    def latest(self, centre_id: int, kind: str) -> CRLRow | None:
        stmt = (select(CRLRow).where(CRLRow.centre_id == centre_id, CRLRow.kind == kind)
                .order_by(CRLRow.number.desc()).limit(1))
        return self._session.execute(stmt).scalar_one_or_none()

    def latest_meta(self, centre_id: int, kind: str) -> tuple[int, int, dt.datetime, dt.datetime] | None:
        """(number, covered_seq, this_update, next_update) of the newest CRL of a kind, without its DER."""
        stmt = (select(CRLRow.number, CRLRow.covered_seq, CRLRow.this_update, CRLRow.next_update)
                .where(CRLRow.centre_id == centre_id, CRLRow.kind == kind).order_by(CRLRow.number.desc()).limit(1))
        row = self._tx.connection.execute(stmt).first()
        return tuple(row) if row is not None else None  # type: ignore[return-value]

    def numbers(self, centre_id: int) -> list[int]:
        stmt = select(CRLRow.number).where(CRLRow.centre_id == centre_id).order_by(CRLRow.number)
        return [r[0] for r in self._tx.connection.execute(stmt)]
