"""The credit dossier of one loan (LOAN-14), exported as one ASiC-E container sealed by the tenant.

DOMAIN.md LOAN-14 (seed 003, lines 1006-1045): the dossier keeps the
application, the contract, its amendments, the schedule signed by both
parties, the consents and the correspondence. A loan here is a tenant's
contract number with every document filed under it: the contract, its
amendments (linked to the contract) and the applications, consents and
schedules with that number (before the contract is filed, those alone).
The container (ETSI EN 319 162-1 ASiC-E, ``signing/verification/asic.py``)
holds:

- ``documents/<nn>-<kind>-<id>/v<n>-<reason>.pdf``: every version of every
  document, the upload and each signed state;
- ``evidence/<request>.json`` and ``.json.p7s``: the evidence report of each
  client signature, sealed by the tenant (``evidence.py``; sealed now if it
  was not yet);
- ``correspondence/sms.json``: each SMS sent for the loan's signing requests,
  its text as the borrower received it with the one-time code withheld
  (only its keyed hash is kept); ``correspondence/notices.json``: the status
  notices pushed to the MFO's backend (its webhook's deliveries);
- ``dossier.json``: the index of all of it;
- ``META-INF/ASiCManifest.xml`` with each file's SHA-256, and
  ``META-INF/signature001.p7s``: the tenant's seal over the manifest, a
  detached CAdES with our TSA's signature time-stamp (``sealing.py``).

Anyone checks it with ``qoltanba verify`` or ``POST /verify``
(``signing/verification/container.py``). Each export is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from ca.errors import ConflictError, NotFound, Problem
from registry import DocumentRow, SigningRequestRow
from signing.documents.metadata import AMENDMENT, CONTRACT, OTHER_KINDS
from signing.documents import EveryTenant, Scope
from signing.factors.otp import SIGNING
from signing.factors.sms import code_text, masked
from signing.requests.evidence import EvidenceView, canonical
from signing.verification.asic import DataFile, manifest_xml, write_container

FORMAT = "qoltanba-dossier/1"
MEDIA_TYPE = "application/vnd.etsi.asic-e+zip"
WITHHELD = "******"      # the one-time code in a kept SMS: never stored, so never shown
SMS_KIND = "sms"


class DossierStore(Protocol):
    """What an export reads (the registry's transaction provides it)."""

    @property
    def documents(self) -> Any: ...
    @property
    def document_versions(self) -> Any: ...
    @property
    def signing_requests(self) -> Any: ...
    @property
    def client_factors(self) -> Any: ...
    @property
    def one_time_codes(self) -> Any: ...
    @property
    def webhook_deliveries(self) -> Any: ...
    @property
    def audit(self) -> Any: ...


class DossierStorage(Protocol):
    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[DossierStore]: ...


class Sealer(Protocol):
    def seal_detached(self, tenant: str, content: bytes, *, long_term: bool = False) -> bytes: ...


class EvidenceReports(Protocol):
    def for_request(self, actor: str, tenant: str, request_id: str) -> EvidenceView: ...


Say = Callable[[str, str], str]


@dataclass(frozen=True)
class Dossier:
    """One exported container: its bytes and what it holds."""

    contract: str | None          # the loan's contract, None while only its application or consents are filed
    contract_number: str
    filename: str
    content: bytes
    files: tuple[str, ...]
    tenant: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def as_json(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "contract": self.contract, "contract_number": self.contract_number,
                "filename": self.filename,
                "sha256": self.sha256, "size": len(self.content), "files": list(self.files)}


class DossierService:
    def __init__(self, registry: DossierStorage, clock, sealer: Sealer,  # noqa: ANN001 - ca.clock.Clock
                 evidence: EvidenceReports, say: Say) -> None:
        self.registry = registry
        self.clock = clock
        self.sealer = sealer
        self.evidence = evidence
        self.say = say

    def export(self, actor: str, scope: Scope, document_id: str) -> Dossier:
        """The loan's dossier, ``document_id`` naming its contract or any document filed under it.

        ``scope``: the tenant (an MFO's own), or ``EVERY_TENANT`` for an administrator who names none: the
        document's tenant then, whose seal signs.
        """
        with self.registry.transaction(readonly=True) as tx:
            anchor = self._anchor(tx, scope, document_id)
            tenant = anchor.tenant
            documents = self._documents(tx, tenant, anchor)
            head = documents[0]                            # the contract, when it is filed
            contract = head.public_id if head.kind == CONTRACT else None
            requests = [r for d in documents for r in tx.signing_requests.of_document(tenant, d.id)]
            files, index = self._document_files(tx, documents)
            sms = self._sms(tx, requests, documents)
            notices = [_notice(n) for r in requests
                       for n in tx.webhook_deliveries.of_tenant(tenant, subject=r.public_id, limit=1000)]
        signed = [r for r in requests if r.signed_at is not None]
        evidence = [self.evidence.for_request(actor, tenant, r.public_id) for r in signed]
        for view in evidence:
            files += [DataFile(f"evidence/{view.request}.json", "application/json", view.report or b""),
                      DataFile(f"evidence/{view.request}.json.p7s", "application/pkcs7-signature",
                               view.signature or b"")]
        now = self.clock.now()
        files += [DataFile("correspondence/sms.json", "application/json", canonical({"messages": sms})),
                  DataFile("correspondence/notices.json", "application/json", canonical({"notices": notices}))]
        files.insert(0, DataFile("dossier.json", "application/json", canonical({
            "format": FORMAT, "tenant": tenant, "contract": contract, "contract_number": head.contract_number,
            "exported_at": now.isoformat(), "exported_by": actor,
            "documents": index, "signing_requests": [_request(r, documents) for r in requests],
            "evidence": [f"evidence/{v.request}.json" for v in evidence],
            "correspondence": ["correspondence/sms.json", "correspondence/notices.json"]})))
        manifest = manifest_xml(files)
        content = write_container(files, manifest, self.sealer.seal_detached(tenant, manifest, long_term=True))
        dossier = Dossier(contract, head.contract_number, f"dossier-{head.public_id}.asice", content,
                          tuple(f.name for f in files), tenant)
        with self.registry.transaction() as tx:
            tx.audit.append(at=now, actor=actor, action="dossier.exported", subject=f"document:{head.public_id}",
                            details={"tenant": tenant, "contract_number": head.contract_number,
                                     "files": len(files), "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
                                     "sha256": dossier.sha256})
        return dossier

    def _anchor(self, tx: DossierStore, scope: Scope, document_id: str) -> DocumentRow:
        """The document named; of a tenant's loan, so not a details change (LOAN-9 is the client's, not a loan's)."""
        row = None
        if 0 < len(document_id) <= 32:
            row = (tx.documents.across_tenants(document_id) if isinstance(scope, EveryTenant)
                   else tx.documents.by_public_id(scope, document_id))
        if row is None:
            raise NotFound(f"no document {document_id}")     # another tenant's too: the same answer
        if row.kind not in (CONTRACT, AMENDMENT, *OTHER_KINDS):
            raise ConflictError("this document is filed under no loan, so there is no dossier to make of it",
                                [Problem("document_id", f"is a {row.kind}, not a loan's document")])
        return row

    def _documents(self, tx: DossierStore, tenant: str, anchor: DocumentRow) -> list[DocumentRow]:
        """The loan's documents, its contract first: the contract, its amendments, and the applications,
        consents and schedules under its number (before the contract is filed: those alone)."""
        rows = {}
        for row in tx.documents.list(tenant, contract_number=anchor.contract_number, limit=1000):
            if row.kind in (CONTRACT, AMENDMENT, *OTHER_KINDS):
                rows[row.id] = row
        rows.setdefault(anchor.id, anchor)
        contracts = [r.id for r in rows.values() if r.kind == CONTRACT]
        for contract in contracts:
            for row in tx.documents.list(tenant, contract_id=contract, limit=1000):
                rows.setdefault(row.id, row)
        return sorted(rows.values(), key=lambda r: (r.kind != CONTRACT, r.created_at, r.id))

    def _document_files(self, tx: DossierStore, documents: list[DocumentRow]) -> tuple[list[DataFile], list]:
        files, index = [], []
        for number, doc in enumerate(documents, 1):
            versions = []
            for version in tx.document_versions.list(doc.id):
                name = f"documents/{number:02d}-{doc.kind}-{doc.public_id}/v{version.number}-{version.reason}.pdf"
                files.append(DataFile(name, "application/pdf", version.content))
                versions.append({"number": version.number, "file": name, "sha256": version.sha256,
                                 "reason": version.reason, "signature_field": version.signature_field,
                                 "signer_serial": version.signer_serial, "created_at": version.created_at.isoformat()})
            index.append({"id": doc.public_id, "kind": doc.kind, "title": doc.title, "status": doc.status,
                          "contract_number": doc.contract_number, "created_at": doc.created_at.isoformat(),
                          "versions": versions})
        return files, index

    def _sms(self, tx: DossierStore, requests: list[SigningRequestRow], documents: list[DocumentRow]) -> list:
        """Each code SMS sent for the loan's requests, as the borrower read it, the code withheld."""
        kinds = {d.id: d for d in documents}
        messages = []
        for request in requests:
            doc = kinds[request.document_id]
            for factor in tx.client_factors.of_client(request.client_id, kind=SMS_KIND):
                for code in tx.one_time_codes.sent(factor.id, request.id, SIGNING):
                    minutes = int((code.expires_at - code.created_at).total_seconds() // 60)
                    text = code_text(self.say, request.language, code=WITHHELD, kind=doc.kind,
                                     number=doc.contract_number, digest=(code.document_sha256 or "")[:8],
                                     minutes=minutes)
                    messages.append({"channel": "sms", "signing_request": request.public_id, "to": masked(
                        factor.phone or ""), "sent_at": code.created_at.isoformat(), "language": request.language,
                        "text": text, "code": "withheld: only its keyed hash is kept"})
        return sorted(messages, key=lambda m: m["sent_at"])


def _request(row: SigningRequestRow, documents: list[DocumentRow]) -> dict[str, Any]:
    doc = next(d for d in documents if d.id == row.document_id)
    return {"id": row.public_id, "document": doc.public_id, "status": row.status, "policy": row.policy,
            "document_sha256": row.document_sha256, "created_at": _iso(row.created_at),
            "review_until": _iso(row.review_until), "signed_at": _iso(row.signed_at),
            "sealed_at": _iso(row.sealed_at), "earliest_payout_at": _iso(row.earliest_payout_at)}


def _notice(row) -> dict[str, Any]:  # noqa: ANN001 - WebhookDeliveryRow
    return {"channel": "webhook", "id": row.public_id, "event": row.event, "subject": row.subject,
            "payload": row.payload, "status": row.status, "created_at": _iso(row.created_at),
            "delivered_at": _iso(row.delivered_at)}


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


__all__ = ["FORMAT", "MEDIA_TYPE", "Dossier", "DossierService", "DossierStorage", "DossierStore"]
