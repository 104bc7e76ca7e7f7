"""The borrower's account in the personal cabinet (issue 16): accounts, ceremonies, sessions, their reads."""

from __future__ import annotations

from sqlalchemy import or_, select

from registry.models import BorrowerAccountRow, BorrowerCeremonyRow, BorrowerSessionRow, DocumentRow, SigningRequestRow
from registry.repositories.base import _Repository, _TenantScoped
from registry.sealing import digest


class BorrowerAccountRepository(_TenantScoped):
    row_type = BorrowerAccountRow

    def of_client(self, client_id: int, *, for_update: bool = False) -> BorrowerAccountRow | None:
        stmt = select(BorrowerAccountRow).where(BorrowerAccountRow.client_id == client_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def invited(self, public_id: str, *, for_update: bool = False) -> BorrowerAccountRow | None:
        """The account an invitation token names (its public id is in the token; the tenant is the account's)."""
        stmt = select(BorrowerAccountRow).where(BorrowerAccountRow.public_id == public_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def by_id(self, account_id: int, *, for_update: bool = False) -> BorrowerAccountRow | None:
        stmt = select(BorrowerAccountRow).where(BorrowerAccountRow.id == account_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()


class BorrowerCeremonyRepository(_Repository):
    """An account's ceremonies; found through the account, which is found within its tenant."""

    def add(self, row: BorrowerCeremonyRow) -> BorrowerCeremonyRow:
        return self._add(row)

    def by_public_id(self, account_id: int, public_id: str, *,
                     for_update: bool = False) -> BorrowerCeremonyRow | None:
        stmt = select(BorrowerCeremonyRow).where(BorrowerCeremonyRow.account_id == account_id,
                                                 BorrowerCeremonyRow.public_id == public_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def of_account(self, account_id: int, *, purpose: str | None = None,
                   for_update: bool = False) -> list[BorrowerCeremonyRow]:
        stmt = select(BorrowerCeremonyRow).where(BorrowerCeremonyRow.account_id == account_id)
        if purpose is not None:
            stmt = stmt.where(BorrowerCeremonyRow.purpose == purpose)
        if for_update:
            stmt = stmt.with_for_update()
        return list(self._session.execute(stmt.order_by(BorrowerCeremonyRow.id)).scalars())


class BorrowerSessionRepository(_Repository):
    def add(self, row: BorrowerSessionRow) -> BorrowerSessionRow:
        return self._add(row)

    def by_token_id(self, token_id: str, *, for_update: bool = False) -> BorrowerSessionRow | None:
        stmt = select(BorrowerSessionRow).where(BorrowerSessionRow.token_id == token_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()


class BorrowerDocumentRepository(_Repository):
    """What the cabinet shows a borrower: their documents and signing requests, within their tenant only."""

    def documents_of(self, tenant: str, client_id: int, id_number: str, *, limit: int = 200) -> list[DocumentRow]:
        asked = select(SigningRequestRow.document_id).where(SigningRequestRow.tenant == tenant,
                                                            SigningRequestRow.client_id == client_id)
        named = DocumentRow.client_id_number_digest == digest(self._session, tenant, "iin", id_number)  # LOAN-15
        stmt = (select(DocumentRow).where(DocumentRow.tenant == tenant, or_(named, DocumentRow.id.in_(asked)))
                .order_by(DocumentRow.id.desc()).limit(limit))
        return list(self._session.execute(stmt).scalars())

    def requests_of(self, tenant: str, client_id: int, *, limit: int = 200) -> list[SigningRequestRow]:
        stmt = (select(SigningRequestRow).where(SigningRequestRow.tenant == tenant,
                                                SigningRequestRow.client_id == client_id)
                .order_by(SigningRequestRow.id.desc()).limit(limit))
        return list(self._session.execute(stmt).scalars())
