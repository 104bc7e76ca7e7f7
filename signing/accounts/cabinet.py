"""What the borrower sees in the cabinet (issue 16): their documents, signing requests, signed copies, evidence.

"Their" is: the documents of the borrower's tenant that name the client
(``client_id_number``) or that the MFO put before the client to sign, and the
signing requests made for the client. Anything else — another borrower's,
another tenant's — answers 404, as if it did not exist. The bytes and the
evidence come from the services the MFO's API uses (``DocumentService``,
``EvidenceService``), scoped to the borrower's tenant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ca.errors import NotFound
from registry import DocumentRow, SigningRequestRow, SigningRequestStatus
from signing.accounts.store import AccountStorage
from signing.accounts.views import Borrower, iso
from signing.documents.service import DocumentService, StoredPdf
from signing.requests.evidence import EvidenceService, EvidenceView

DONE = (SigningRequestStatus.SIGNED, SigningRequestStatus.SEALED)


@dataclass(frozen=True)
class CabinetDocument:
    id: str
    kind: str
    title: str | None
    contract_number: str
    status: str
    loan_amount: str
    created_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "title": self.title, "contract_number": self.contract_number,
                "status": self.status, "loan_amount": self.loan_amount, "created_at": iso(self.created_at)}


@dataclass(frozen=True)
class CabinetRequest:
    id: str
    document: str
    status: str
    created_at: dt.datetime
    review_until: dt.datetime
    expires_at: dt.datetime
    signed_at: dt.datetime | None

    @property
    def evidence(self) -> bool:
        return self.status in DONE

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "document": self.document, "status": self.status, "created_at": iso(self.created_at),
                "review_until": iso(self.review_until), "expires_at": iso(self.expires_at),
                "signed_at": iso(self.signed_at), "evidence": self.evidence}


@dataclass(frozen=True)
class Desk:
    documents: tuple[CabinetDocument, ...]
    requests: tuple[CabinetRequest, ...]

    def as_json(self) -> dict[str, Any]:
        return {"documents": [d.as_json() for d in self.documents], "requests": [r.as_json() for r in self.requests]}


def _document(row: DocumentRow) -> CabinetDocument:
    return CabinetDocument(id=row.public_id, kind=row.kind, title=row.title, contract_number=row.contract_number,
                           status=row.status, loan_amount=str(row.loan_amount), created_at=row.created_at)


def _request(row: SigningRequestRow, documents: dict[int, str]) -> CabinetRequest:
    return CabinetRequest(id=row.public_id, document=documents.get(row.document_id, ""), status=row.status,
                          created_at=row.created_at, review_until=row.review_until, expires_at=row.expires_at,
                          signed_at=row.signed_at)


class BorrowerCabinet:
    def __init__(self, registry: AccountStorage, documents: DocumentService, evidence: EvidenceService) -> None:
        self.registry = registry
        self.documents = documents
        self.evidence_service = evidence

    def _rows(self, who: Borrower) -> tuple[list[DocumentRow], list[SigningRequestRow]]:
        with self.registry.transaction(readonly=True) as tx:
            client = tx.clients.by_id(who.tenant, who.client_id)
            if client is None:
                return [], []
            return (tx.borrower_documents.documents_of(who.tenant, client.id, client.id_number),
                    tx.borrower_documents.requests_of(who.tenant, client.id))

    def desk(self, who: Borrower) -> Desk:
        documents, requests = self._rows(who)
        ids = {d.id: d.public_id for d in documents}
        return Desk(tuple(_document(d) for d in documents), tuple(_request(r, ids) for r in requests))

    def pdf(self, who: Borrower, document_id: str) -> StoredPdf:
        """The document's latest version: the signed copy once signed (and sealed)."""
        documents, _ = self._rows(who)
        if document_id not in {d.public_id for d in documents}:
            raise NotFound(f"no document {document_id}")
        return self.documents.latest_pdf(who.tenant, document_id)

    def evidence(self, who: Borrower, request_id: str) -> EvidenceView:
        _, requests = self._rows(who)
        if request_id not in {r.public_id for r in requests}:
            raise NotFound(f"no signing request {request_id}")
        return self.evidence_service.for_request(f"borrower:{who.account}", who.tenant, request_id)


__all__ = ["BorrowerCabinet", "CabinetDocument", "CabinetRequest", "Desk"]
