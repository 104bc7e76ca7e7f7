"""What every repository shares: the registry's errors and the flush that turns a conflict into one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.constraints import constraint_name
from registry.unit_of_work import UnitOfWork


class RegistryError(Exception):
    pass


class Conflict(RegistryError):
    """A uniqueness rule of the registry refused the write.

    ``constraint`` is the constraint's declared name (registry/constraints.py),
    the same on SQLite and PostgreSQL.
    """

    def __init__(self, constraint: str) -> None:
        super().__init__(constraint)
        self.constraint = constraint


class _Repository:
    def __init__(self, tx: UnitOfWork) -> None:
        self._tx = tx

    @property
    def _session(self) -> Session:
        return self._tx.session

    def _add(self, row):  # noqa: ANN001, ANN202 - any mapped row
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as error:
            raise Conflict(constraint_name(error)) from error
        return row


class _TenantScoped(_Repository):
    """Rows found by public id within one tenant; another tenant's are not found."""

    row_type: type

    def add(self, row):
        return self._add(row)

    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False):
        stmt = select(self.row_type).where(self.row_type.tenant == tenant, self.row_type.public_id == public_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()
