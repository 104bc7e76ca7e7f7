"""Applications and the issuance journal."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from registry.models import ApplicationRow, ApplicationStatus, IssuanceJournalRow
from registry.repositories.base import _Repository


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
            stmt = stmt.where(ApplicationRow.status == ApplicationStatus.SUBMITTED, ApplicationRow.due_date < overdue_on)
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
