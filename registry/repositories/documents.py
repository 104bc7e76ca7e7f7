"""Loan documents, their versions, signing authorisations and sessions, and trust anchors."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select

from registry.models import (
    DocumentRow,
    DocumentVersionRow,
    SigningAuthorisationRow,
    SigningSessionRow,
    TrustAnchorRow,
)
from registry.repositories.base import _Repository, _TenantScoped, built
from registry.sealing import digest


class DocumentRepository(_TenantScoped):
    """Loan documents. Every read names the tenant inside the query itself.

    Another tenant's document is simply not found, exactly like an id that
    was never issued, so no caller can leak it by forgetting a check.
    """

    row_type = DocumentRow

    def by_id(self, tenant: str, document_id: int) -> DocumentRow | None:
        # By primary key: a row this unit of work already holds is not read again (a signing step reads its
        # document several times).
        row = self._by_id(DocumentRow, document_id)
        return row if row is not None and row.tenant == tenant else None

    def of_client(self, tenant: str, id_number: str, *, limit: int = 100) -> Sequence[DocumentRow]:
        """LOAN-15: the tenant's documents naming this IIN/BIN, found by its keyed hash."""
        stmt = select(DocumentRow).where(DocumentRow.tenant == tenant, DocumentRow.client_id_number_digest ==
                                         digest(self._session, tenant, "iin", id_number))
        return list(self._session.execute(stmt.order_by(DocumentRow.id).limit(limit)).scalars())

    def for_public_verification(self, public_id: str) -> DocumentRow | None:
        """The one read without a tenant: the public page behind a stamp's QR code (issue 6).

        The 128-bit random id printed on the paper is the capability; the
        caller shows only the hash and the signature summary, no loan data.
        """
        stmt = select(DocumentRow).where(DocumentRow.public_id == public_id)
        return self._session.execute(stmt).scalar_one_or_none()

    def across_tenants(self, public_id: str) -> DocumentRow | None:
        """An administrator's read by id that names no tenant (the ids are 128-bit random, unique)."""
        stmt = select(DocumentRow).where(DocumentRow.public_id == public_id)
        return self._session.execute(stmt).scalar_one_or_none()

    def list(self, tenant: str, *, contract_number: str | None = None, contract_id: int | None = None,
             limit: int = 100, offset: int = 0) -> Sequence[DocumentRow]:
        return self._list(select(DocumentRow).where(DocumentRow.tenant == tenant), contract_number, contract_id,
                          limit, offset)

    def list_across_tenants(self, *, contract_number: str | None = None, limit: int = 100,
                            offset: int = 0) -> Sequence[DocumentRow]:
        """An administrator's list that names no tenant: every tenant's documents, in upload order."""
        return self._list(select(DocumentRow), contract_number, None, limit, offset)

    def _list(self, stmt, contract_number: str | None, contract_id: int | None, limit: int,  # noqa: ANN001
              offset: int) -> Sequence[DocumentRow]:
        if contract_number is not None:
            stmt = stmt.where(DocumentRow.contract_number == contract_number)
        if contract_id is not None:
            stmt = stmt.where(DocumentRow.contract_id == contract_id)
        stmt = stmt.order_by(DocumentRow.id).limit(limit).offset(offset)
        return list(self._session.execute(stmt).scalars())


class DocumentVersionRepository(_Repository):
    """A document's versions: appended, never updated or deleted.

    Rows come back without their PDF bytes; ``content`` loads when read.
    """

    def add(self, row: DocumentVersionRow) -> DocumentVersionRow:
        return self._add(row)

    def latest(self, document_id: int) -> DocumentVersionRow | None:
        stmt = built(("latest version",), lambda: select(DocumentVersionRow).where(
            DocumentVersionRow.document_id == bindparam("document_id")).order_by(
            DocumentVersionRow.number.desc()).limit(1))
        return self._session.execute(stmt, {"document_id": document_id}).scalar_one_or_none()

    def by_number(self, document_id: int, number: int) -> DocumentVersionRow | None:
        stmt = select(DocumentVersionRow).where(DocumentVersionRow.document_id == document_id,
                                                DocumentVersionRow.number == number)
        return self._session.execute(stmt).scalar_one_or_none()

    def by_id(self, version_id: int) -> DocumentVersionRow | None:
        return self._by_id(DocumentVersionRow, version_id)

    def list(self, document_id: int) -> Sequence[DocumentVersionRow]:
        stmt = built(("versions",), lambda: select(DocumentVersionRow).where(
            DocumentVersionRow.document_id == bindparam("document_id")).order_by(DocumentVersionRow.number))
        return list(self._session.execute(stmt, {"document_id": document_id}).scalars())


class SigningAuthorisationRepository(_TenantScoped):
    row_type = SigningAuthorisationRow


class SigningSessionRepository(_TenantScoped):
    row_type = SigningSessionRow


class TrustAnchorRepository(_Repository):
    """Certificates imported into the verification trust store; not tenant data."""

    def add(self, row: TrustAnchorRow) -> TrustAnchorRow:
        return self._add(row)

    def by_sha256(self, sha256: str) -> TrustAnchorRow | None:
        return self._session.execute(select(TrustAnchorRow).where(TrustAnchorRow.sha256 == sha256)
                                     ).scalar_one_or_none()

    def all(self) -> list[TrustAnchorRow]:
        return list(self._session.execute(select(TrustAnchorRow).order_by(TrustAnchorRow.id)).scalars())

    def remove(self, row: TrustAnchorRow) -> None:
        self._session.delete(row)
        self._session.flush()
