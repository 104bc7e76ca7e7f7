"""Evidence of a client's signature, and the report the MFO's seal signs (issue 5).

For every client signature made through a signing request the registry keeps
an evidence record: the policy applied, each factor proven (when, from which
address, the provider's assertion id and the challenge it answered), the
authorisation, the document's SHA-256 before and after the signature (and
after the seal), the client's address and user agent as the MFO backend
reported them, and the earliest payout time (LOAN-11).

The report is that record as canonical JSON (keys sorted, no spaces, UTF-8),
signed by the MFO's seal as a detached CMS with our TSA's time-stamp on the
signature: anyone with our root certificate checks it with

    openssl cms -verify -binary -inform DER -in evidence.p7s -content evidence.json -CAfile root.pem

This is our answer to DocuSign's certificate of completion and SIGEX's
document card: the PDF proves what was signed, the report proves how the
client was identified.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from ca.errors import ConflictError, NotFound
from registry import (
    ClientRow,
    DocumentRow,
    EvidenceRecordRow,
    FactorProofRow,
    SigningRequestRow,
)
from signing.factors.authorisation import AuditTrail

log = logging.getLogger(__name__)
FORMAT = "qoltanba-evidence/1"


class EvidenceRows(Protocol):
    def add(self, row: EvidenceRecordRow) -> EvidenceRecordRow: ...
    def of_request(self, request_id: int, *, for_update: bool = False) -> EvidenceRecordRow | None: ...


class ProofRows(Protocol):
    def of_request(self, request_id: int) -> list[FactorProofRow]: ...


class RequestRows(Protocol):
    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> SigningRequestRow | None: ...


class EvidenceStore(Protocol):
    """What evidence reads and writes in one unit of work (a ``registry.RegistryTransaction`` is one)."""

    @property
    def evidence(self) -> EvidenceRows: ...
    @property
    def factor_proofs(self) -> ProofRows: ...
    @property
    def signing_requests(self) -> RequestRows: ...
    @property
    def audit(self) -> AuditTrail: ...


class EvidenceStorage(Protocol):
    """The registry as the evidence service sees it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[EvidenceStore]: ...


@dataclass(frozen=True)
class SignatureEvidence:
    """The client's signature as the evidence record names it: its field, level, signer, version, and way."""

    field: str
    level: str
    signer_serial: str
    version: int
    way: str    # "held-key" (the key the service holds) or "client-eds" (the client's own token)

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "level": self.level, "signer_serial": self.signer_serial,
                "version": self.version, "way": self.way}


class DetachedSealer(Protocol):
    def seal_detached(self, tenant: str, content: bytes) -> bytes: ...


def canonical(record: dict) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class EvidenceView:
    id: str
    request: str
    record: dict
    report: bytes | None
    signature: bytes | None


class EvidenceService:
    def __init__(self, registry: EvidenceStorage, clock, sealer: DetachedSealer) -> None:
        self.registry = registry
        self.clock = clock
        self.sealer = sealer

    def record(self, tx: EvidenceStore, *, request: SigningRequestRow, document: DocumentRow,
               client: ClientRow, signature: SignatureEvidence, digest_before: str, digest_after: str,
               signed_at: dt.datetime) -> EvidenceRecordRow:
        """Write the evidence of the client's signature, in the transaction that stores it."""
        proofs = tx.factor_proofs.of_request(request.id)
        public_id = secrets.token_hex(16)
        record = {
            "format": FORMAT,
            "evidence": public_id,
            "signing_request": request.public_id,
            "tenant": request.tenant,
            "document": {"id": document.public_id, "kind": document.kind, "contract_number": document.contract_number,
                         "title": document.title, "template_version": document.template_version},
            "client": {"id": client.public_id, "kind": client.kind, "iin": client.iin, "bin": client.bin,
                       "name": client.name},
            "policy": request.requirement,
            "review": {"requested_at": request.created_at.isoformat(), "until": request.review_until.isoformat(),
                       "waived": request.review_waived},
            "factors": [{"factor": p.factor, "at": p.proven_at.isoformat(), **p.details} for p in proofs],
            "authorisation": request.authorisation,
            "signature": signature.as_json(),
            "document_sha256_before": digest_before,
            "document_sha256_after": digest_after,
            "signed_at": signed_at.isoformat(),
            "reported_by_mfo": {"client_ip": request.client_ip, "user_agent": request.user_agent},
            "earliest_payout_at": request.earliest_payout_at.isoformat() if request.earliest_payout_at else None,
            "seal": None,
        }
        return tx.evidence.add(EvidenceRecordRow(
            public_id=public_id, tenant=request.tenant, request_id=request.id, document_id=document.id,
            policy=request.policy, digest_before=digest_before, digest_after=digest_after,
            signer_serial=signature.signer_serial, signed_at=signed_at, record=record, created_at=self.clock.now()))

    def sealed(self, tx: EvidenceStore, request: SigningRequestRow, *, sha256: str, signer_serial: str,
               at: dt.datetime) -> None:
        row = tx.evidence.of_request(request.id, for_update=True)
        if row is None:
            return
        row.digest_sealed = sha256
        # A new dict: the JSON column notices assignment, not mutation.
        row.record = {**row.record, "seal": {"document_sha256": sha256, "signer_serial": signer_serial,
                                            "sealed_at": at.isoformat()}}

    def report(self, actor: str, tenant: str, request_id: int) -> EvidenceView:
        """Seal the record as it stands (once); later calls return the same report."""
        view = self.seal_report(actor, tenant, request_id, view=True)
        assert view is not None
        return view

    def seal_report(self, actor: str, tenant: str, request_id: int, *, view: bool = False) -> EvidenceView | None:
        """``report`` for a caller that only needs the report sealed (confirm): no view is read back."""
        with self.registry.transaction(readonly=True) as tx:
            row = tx.evidence.of_request(request_id)
            if row is None:
                raise NotFound("this signing request has no evidence yet: the client has not signed")
            if row.report is not None:
                return _view(tx, row) if view else None
            record = {**row.record, "reported_at": self.clock.now().isoformat()}
        content = canonical(record)
        signature = self.sealer.seal_detached(tenant, content)   # the tenant's own seal (issue 15)
        with self.registry.transaction() as tx:
            row = tx.evidence.of_request(request_id, for_update=True)
            if row.report is None:
                row.report, row.report_signature, row.reported_at = content, signature, self.clock.now()
                tx.audit.append(at=row.reported_at, actor=actor, action="evidence.reported",
                                subject=f"evidence:{row.public_id}",
                                details={"tenant": tenant, "policy": row.policy, "document_sha256": row.digest_after,
                                         "sealed_sha256": row.digest_sealed, "report_bytes": len(content)})
            return _view(tx, row) if view else None

    def for_request(self, actor: str, tenant: str, request_id: str) -> EvidenceView:
        """The sealed report of a signing request of this tenant, sealing it now if that failed before."""
        with self.registry.transaction(readonly=True) as tx:
            request = tx.signing_requests.by_public_id(tenant, request_id) if len(request_id) == 32 else None
            if request is None:
                raise NotFound(f"no signing request {request_id}")
            view = self.get(tx, request)
            internal = request.id
        return view if view.report is not None else self.report(actor, tenant, internal)

    def get(self, tx: EvidenceStore, request: SigningRequestRow) -> EvidenceView:
        row = tx.evidence.of_request(request.id)
        if row is None:
            raise ConflictError(f"the signing request is {request.status}; evidence exists once the client signed")
        return _view(tx, row)


def _view(tx: EvidenceStore, row: EvidenceRecordRow) -> EvidenceView:
    request = tx.signing_requests.by_public_id(row.tenant, row.record["signing_request"])
    return EvidenceView(id=row.public_id, request=request.public_id if request else "", record=row.record,
                        report=row.report, signature=row.report_signature)


__all__ = ["FORMAT", "EvidenceService", "EvidenceStorage", "EvidenceStore", "EvidenceView", "SignatureEvidence",
           "canonical"]
