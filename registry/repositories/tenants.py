"""Tenants and their contract forms."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from registry.models import ContractFormRow, TenantRow
from registry.repositories.base import _Repository, _TenantScoped, built


class TenantRepository(_Repository):
    def add(self, row: TenantRow) -> TenantRow:
        return self._add(row)

    def by_code(self, code: str, *, for_update: bool = False) -> TenantRow | None:
        def build():  # noqa: ANN202
            stmt = select(TenantRow).where(TenantRow.code == bindparam("code"))
            return stmt.with_for_update() if for_update else stmt

        return self._session.execute(built(("tenant", for_update), build), {"code": code}).scalar_one_or_none()

    def status_of(self, code: str) -> str | None:
        """The tenant's status alone (a column read: its seal and policy are not loaded); None if unknown."""
        stmt = built(("tenant status",), lambda: select(TenantRow.status).where(TenantRow.code == bindparam("code")))
        return self._session.execute(stmt, {"code": code}).scalar_one_or_none()

    def by_bin(self, bin_: str) -> TenantRow | None:
        return self._session.execute(select(TenantRow).where(TenantRow.bin == bin_)).scalar_one_or_none()

    def all(self) -> list[TenantRow]:
        return list(self._session.execute(select(TenantRow).order_by(TenantRow.id)).scalars())


class ContractFormRepository(_TenantScoped):
    row_type = ContractFormRow

    def of_tenant(self, tenant: str, *, kind: str | None = None) -> list[ContractFormRow]:
        stmt = select(ContractFormRow).where(ContractFormRow.tenant == tenant)
        if kind is not None:
            stmt = stmt.where(ContractFormRow.kind == kind)
        return list(self._session.execute(stmt.order_by(ContractFormRow.id)).scalars())

    def count_of_tenant(self, tenant: str) -> int:
        stmt = select(func.count()).select_from(ContractFormRow).where(ContractFormRow.tenant == tenant)
        return int(self._session.execute(stmt).scalar_one())
