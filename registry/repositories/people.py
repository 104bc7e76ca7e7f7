"""People and access (issue 8): API-key actors, console users and sessions, approvals, CA key retirements."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select

from registry.models import ActorRow, ApprovalRow, CaKeyRetirementRow, ConsoleSessionRow, PersonRow
from registry.repositories.base import _Repository, built


class ActorRepository(_Repository):
    def add(self, row: ActorRow) -> ActorRow:
        return self._add(row)

    def by_key_id(self, key_id: str) -> ActorRow | None:
        stmt = built(("actor by key",), lambda: select(ActorRow).where(ActorRow.key_id == bindparam("key_id")))
        return self._session.execute(stmt, {"key_id": key_id}).scalar_one_or_none()

    def by_name(self, name: str) -> ActorRow | None:
        return self._session.execute(select(ActorRow).where(ActorRow.name == name)).scalar_one_or_none()

    def all(self) -> Sequence[ActorRow]:
        return list(self._session.execute(select(ActorRow).order_by(ActorRow.id)).scalars())


class PeopleRepository(_Repository):
    """Console users (issue 8); looked up by name, locked for the login's read-modify-write."""

    def add(self, row: PersonRow) -> PersonRow:
        return self._add(row)

    def by_name(self, name: str, *, for_update: bool = False) -> PersonRow | None:
        stmt = select(PersonRow).where(PersonRow.name == name)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def by_id(self, person_id: int) -> PersonRow | None:
        return self._session.get(PersonRow, person_id)

    def all(self) -> list[PersonRow]:
        return list(self._session.execute(select(PersonRow).order_by(PersonRow.id)).scalars())


class ConsoleSessionRepository(_Repository):
    def add(self, row: ConsoleSessionRow) -> ConsoleSessionRow:
        return self._add(row)

    def by_token_id(self, token_id: str, *, for_update: bool = False) -> ConsoleSessionRow | None:
        stmt = select(ConsoleSessionRow).where(ConsoleSessionRow.token_id == token_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def open_of(self, person_id: int) -> list[ConsoleSessionRow]:
        stmt = select(ConsoleSessionRow).where(ConsoleSessionRow.person_id == person_id,
                                               ConsoleSessionRow.ended_at.is_(None))
        return list(self._session.execute(stmt.order_by(ConsoleSessionRow.id)).scalars())


class ApprovalRepository(_Repository):
    """Dual-control requests (issue 8); the row lock makes a decision happen once."""

    def add(self, row: ApprovalRow) -> ApprovalRow:
        return self._add(row)

    def by_public_id(self, public_id: str, *, for_update: bool = False) -> ApprovalRow | None:
        stmt = select(ApprovalRow).where(ApprovalRow.public_id == public_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def search(self, *, status: str | None = None, limit: int = 100) -> list[ApprovalRow]:
        stmt = select(ApprovalRow)
        if status is not None:
            stmt = stmt.where(ApprovalRow.status == status)
        return list(self._session.execute(stmt.order_by(ApprovalRow.id.desc()).limit(limit)).scalars())


class CaKeyRetirementRepository(_Repository):
    """CA keys destroyed under dual control (issue 8); the unique handle makes it happen once."""

    def add(self, row: CaKeyRetirementRow) -> CaKeyRetirementRow:
        return self._add(row)

    def by_handle(self, handle: str) -> CaKeyRetirementRow | None:
        return self._session.execute(select(CaKeyRetirementRow).where(CaKeyRetirementRow.handle == handle)
                                     ).scalar_one_or_none()
