"""CSC authorisations (issue 19): found by public id within a tenant, or by the keyed hash of what was handed out."""

from __future__ import annotations

from sqlalchemy import select

from registry.models.csc import CSCActivationRow
from registry.repositories.base import _TenantScoped


class CSCActivationRepository(_TenantScoped):
    row_type = CSCActivationRow

    def by_digest(self, column: str, digest: str, *, for_update: bool = False) -> CSCActivationRow | None:
        """The row whose ``sad_digest``, ``code_digest`` or ``page_token_digest`` is ``digest``."""
        if column not in ("sad_digest", "code_digest", "page_token_digest"):
            raise ValueError(f"no digest column {column}")
        stmt = select(CSCActivationRow).where(getattr(CSCActivationRow, column) == digest)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def of_tenant(self, tenant: str, *, limit: int = 100) -> list[CSCActivationRow]:
        stmt = (select(CSCActivationRow).where(CSCActivationRow.tenant == tenant)
                .order_by(CSCActivationRow.id.desc()).limit(limit))
        return list(self._session.execute(stmt).scalars())
