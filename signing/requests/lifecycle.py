"""Signing requests: a document put before its client under the policy chosen for it (issue 5).

The MFO backend creates a request for a document and a client; the policy comes from the document's kind, the
client's kind and the loan's purpose (``signing/policies/policy.py``). The client gets a random token through
the MFO backend and proves the factors through the client API (``signing/requests/proofs.py``).

States::

    open ──factors, then the client's signature──> signed ──MFO seal──> sealed
      ├── cancelled   (by the MFO backend)
      ├── expired     (the policy's request lifetime passed)
      └── locked      (more wrong codes or refused assertions than the policy tolerates)

Every change is an audit entry and an event for the MFO backend's webhook, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from ca.errors import ConflictError, InvalidInput, NotFound, Problem, QoltanbaError
from ca.policy import NATIONAL
from registry import (
    CentreRow,
    CertificateRow,
    CertificateStatus,
    ClientFactorRow,
    ClientRow,
    DocumentRow,
    DocumentStatus,
    DocumentVersionRow,
    FactorProofRow,
    FactorStatus,
    SigningRequestRow,
    SigningRequestStatus,
)
from signing.documents.metadata import AMENDMENT, holder_matches
from signing.factors import FactorRefused, RequestLocked
from signing.factors.authorisation import AuditTrail
from signing.requests.events import StatusChanged
from signing.webhooks.service import Event, OutboxStore
from signing.policies.loader import load_rule
from signing.policies.policy import BUSINESS, CONSUMER, Factor, SigningPolicies, SigningRule
from signing.tenants.policies import TenantPolicies

OPEN, SIGNED, SEALED, CANCELLED, EXPIRED, LOCKED = (SigningRequestStatus.OPEN, SigningRequestStatus.SIGNED,
                                                   SigningRequestStatus.SEALED, SigningRequestStatus.CANCELLED,
                                                   SigningRequestStatus.EXPIRED, SigningRequestStatus.LOCKED)
STATUSES = (OPEN, SIGNED, SEALED, CANCELLED, EXPIRED, LOCKED)
# What the borrower reads (the page, the SMS, the stamp) is said in one of these, named by the MFO (issue 20).
LANGUAGES, DEFAULT_LANGUAGE = ("kk", "ru", "en"), "kk"


class RequestRows(Protocol):
    def add(self, row: SigningRequestRow) -> SigningRequestRow: ...
    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> SigningRequestRow | None: ...
    def of_document(self, tenant: str, document_id: int, *, status: str | None = None,
                    for_update: bool = False) -> list[SigningRequestRow]: ...
    def open_expired(self, now: dt.datetime, limit: int = 100) -> list[SigningRequestRow]: ...


class DocumentRows(Protocol):
    def by_id(self, tenant: str, document_id: int) -> DocumentRow | None: ...
    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> DocumentRow | None: ...


class VersionRows(Protocol):
    def latest(self, document_id: int) -> DocumentVersionRow | None: ...


class ClientRows(Protocol):
    def by_id(self, tenant: str, client_id: int) -> ClientRow | None: ...
    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> ClientRow | None: ...


class FactorRows(Protocol):
    def of_client(self, client_id: int, *, kind: str | None = None, status: str | None = None,
                  for_update: bool = False) -> list[ClientFactorRow]: ...
    def kinds(self, client_id: int, *, status: str) -> set[str]: ...


class ProofRows(Protocol):
    def of_request(self, request_id: int) -> list[FactorProofRow]: ...


class CertificateRows(Protocol):
    def search(self, *, issuer_id: int | None = None, iin: str | None = None, bin: str | None = None,  # noqa: A002
               profile: str | None = None, status: str | None = None, name: str | None = None, limit: int = 100,
               offset: int = 0) -> list[CertificateRow]: ...


class CentreRows(Protocol):
    def all(self) -> list[CentreRow]: ...   # read by the hierarchy's issuing_ca(code, tx)


class RequestStore(OutboxStore, Protocol):
    """What a request's life touches in one unit of work, its webhook event included (a
    ``registry.RegistryTransaction`` is one)."""

    @property
    def signing_requests(self) -> RequestRows: ...
    @property
    def documents(self) -> DocumentRows: ...
    @property
    def document_versions(self) -> VersionRows: ...
    @property
    def clients(self) -> ClientRows: ...
    @property
    def client_factors(self) -> FactorRows: ...
    @property
    def factor_proofs(self) -> ProofRows: ...
    @property
    def certificates(self) -> CertificateRows: ...
    @property
    def centres(self) -> CentreRows: ...
    @property
    def audit(self) -> AuditTrail: ...


class RequestStorage(Protocol):
    """The registry as signing requests see it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[RequestStore]: ...


class Events(Protocol):
    """Where status changes go (the webhook outbox)."""

    def enqueue(self, tx: OutboxStore, *, tenant: str, event: Event) -> None: ...

    def kick(self) -> None: ...


class Centres(Protocol):
    """What signing requests read of the hierarchy (ca.hierarchy.Hierarchy)."""

    def issuing_ca(self, code: str, tx: RequestStore): ...  # noqa: ANN201 - ca.issuer.IssuingCA


@dataclass(frozen=True)
class RequestView:
    id: str
    tenant: str
    document: str
    client: str
    status: str
    policy: dict
    proven: tuple[dict, ...]
    review_until: dt.datetime
    review_waived: bool
    expires_at: dt.datetime
    failures: int
    wrong_tries_left: int
    seal: bool
    level: str | None
    created_at: dt.datetime
    signer_serial: str | None = None
    signed_at: dt.datetime | None = None
    sealed_at: dt.datetime | None = None
    earliest_payout_at: dt.datetime | None = None
    token: str | None = None   # only when the request is made
    language: str = DEFAULT_LANGUAGE

    def as_json(self) -> dict[str, Any]:
        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None

        shown = {"id": self.id, "document": self.document, "client": self.client, "status": self.status,
                 "policy": self.policy, "proven": list(self.proven), "review_until": iso(self.review_until),
                 "review_waived": self.review_waived, "expires_at": iso(self.expires_at), "failures": self.failures,
                 "wrong_tries_left": self.wrong_tries_left, "seal": self.seal, "level": self.level,
                 "created_at": iso(self.created_at), "signer_serial": self.signer_serial,
                 "signed_at": iso(self.signed_at), "sealed_at": iso(self.sealed_at),
                 "earliest_payout_at": iso(self.earliest_payout_at), "language": self.language}
        return shown | ({"token": self.token} if self.token else {})


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rule_of(row: SigningRequestRow) -> SigningRule:
    """The rule as it was when the request was made: later policy changes do not move open requests."""
    return load_rule(row.requirement)


class SigningRequests:
    def __init__(self, registry: RequestStorage, clock, policies: SigningPolicies, events: Events, centres: Centres,
                 *, mrp_kzt: int, tenant_policies: TenantPolicies | None = None) -> None:
        """``tenant_policies``: the rules a tenant's own policy sets (issue 15); none: ``policies`` for all."""
        self.registry = registry
        self.clock = clock
        self.policies = policies
        self.tenant_policies = tenant_policies
        self.events = events
        self.centres = centres
        self.mrp_kzt = mrp_kzt

    # -- the MFO backend's side ------------------------------------------------------------

    def create(self, actor: str, tenant: str, *, document: str, client: str, level: str | None = None,
               seal: bool = True, waive_review: bool = False, client_ip: str | None = None,
               user_agent: str | None = None, language: str = DEFAULT_LANGUAGE) -> RequestView:
        problems: list[Problem] = []
        if language not in LANGUAGES:
            problems.append(Problem("language", "must be one of: " + ", ".join(LANGUAGES)))
        if client_ip is not None:
            try:
                client_ip = str(ipaddress.ip_address(client_ip))
            except ValueError:
                problems.append(Problem("client_ip", "is not an IPv4 or IPv6 address"))
        if user_agent is not None and (len(user_agent) > 512 or not user_agent.isprintable()):
            problems.append(Problem("user_agent", "must be at most 512 printable characters"))
        now = self.clock.now()
        token = secrets.token_urlsafe(32)
        with self.registry.transaction() as tx:
            doc = tx.documents.by_public_id(tenant, document, for_update=True) if len(document) == 32 else None
            person = tx.clients.by_public_id(tenant, client) if len(client) == 32 else None
            if doc is None:
                problems.append(Problem("document", f"not found: no document {document}"))
            if person is None:
                problems.append(Problem("client", f"not found: no client {client}"))
            rule = None
            if doc is not None and person is not None:
                if (person.kind, person.id_number) != (doc.client_kind, doc.client_id_number):
                    problems.append(Problem("client", "is not the document's client (kind and IIN/BIN differ)"))
                else:
                    rule = self.rule_for(tx, doc)
                    if waive_review and not rule.review_waivable:
                        problems.append(Problem("waive_review", f"{rule.name}: the review window of this document "
                                                                "cannot be waived (LOAN-5)"))
                    problems += self._reachable(tx, person, rule)
            if problems:
                raise InvalidInput("the signing request is refused", problems)
            assert doc is not None and person is not None and rule is not None
            if doc.status != DocumentStatus.UPLOADED:
                raise ConflictError(f"the client can no longer sign: the document is {doc.status}")
            if any(r.status == OPEN for r in tx.signing_requests.of_document(tenant, doc.id)):
                raise ConflictError("the document already has an open signing request; cancel it first")
            latest = tx.document_versions.latest(doc.id)
            row = tx.signing_requests.add(SigningRequestRow(
                public_id=secrets.token_hex(16), tenant=tenant, document_id=doc.id, client_id=person.id,
                policy=rule.name, requirement=rule.as_json(), status=OPEN, document_sha256=latest.sha256,
                token_digest=token_digest(token), level=level, seal=seal,
                review_until=now + (dt.timedelta(0) if waive_review else rule.review), review_waived=waive_review,
                expires_at=now + self.policies.request_ttl, failures=0, client_ip=client_ip, user_agent=user_agent,
                language=language, created_at=now, created_by=actor, updated_at=now))
            tx.audit.append(at=now, actor=actor, action="signing_request.created", subject=f"request:{row.public_id}",
                            details={"tenant": tenant, "document": doc.public_id, "policy": rule.name,
                                     "review_until": row.review_until.isoformat(), "review_waived": waive_review})
            self._event(tx, row, doc, previous=None)
            view = self.view(tx, row, token=token)
        self.events.kick()
        return view

    def get(self, tenant: str, request_id: str) -> RequestView:
        with self.registry.transaction(readonly=True) as tx:
            row = self.by_id(tx, tenant, request_id)
            if not (row.status == OPEN and self.clock.now() >= row.expires_at):
                return self.view(tx, row)
        # Its time is up: mark it expired (and tell the webhook) before showing it.
        with self.registry.transaction() as tx:
            row = self.by_id(tx, tenant, request_id, for_update=True)
            self.guard(tx, row)
            view = self.view(tx, row)
        self.events.kick()
        return view

    def cancel(self, actor: str, tenant: str, request_id: str) -> RequestView:
        with self.registry.transaction() as tx:
            row = self.by_id(tx, tenant, request_id, for_update=True)
            error = self.guard(tx, row)
            if error is None:
                self.transition(tx, row, CANCELLED, actor)
                view = self.view(tx, row)
        self.events.kick()
        if error is not None:
            raise error
        return view

    def expire_due(self) -> int:
        """Mark open requests past their lifetime expired (the dispatcher calls this)."""
        now = self.clock.now()
        with self.registry.transaction() as tx:
            rows = tx.signing_requests.open_expired(now)
            for row in rows:
                self.transition(tx, row, EXPIRED, "system")
        if rows:
            self.events.kick()
        return len(rows)

    # -- shared with the client's side -------------------------------------------------------

    def by_id(self, tx: RequestStore, tenant: str, request_id: str, *,
              for_update: bool = False) -> SigningRequestRow:
        row = tx.signing_requests.by_public_id(tenant, request_id, for_update=for_update) \
            if len(request_id) == 32 else None
        if row is None:
            raise NotFound(f"no signing request {request_id}")
        return row

    def rule_for(self, tx: RequestStore, doc: DocumentRow) -> SigningRule:
        """LOAN-3's exception holds for a business contract and the amendments of one."""
        business = doc.purpose == BUSINESS
        if business and doc.kind == AMENDMENT and doc.contract_id is not None:
            contract = tx.documents.by_id(doc.tenant, doc.contract_id)
            business = contract is not None and contract.purpose == BUSINESS
        policies = self.tenant_policies.of(tx, doc.tenant) if self.tenant_policies else self.policies
        return policies.rule_for(doc.kind, doc.client_kind, BUSINESS if business else CONSUMER)

    def guard(self, tx: RequestStore, row: SigningRequestRow) -> QoltanbaError | None:
        """Why the request can take no factor now (expiring it when its time is up), or None."""
        if row.status == OPEN and self.clock.now() >= row.expires_at:
            self.transition(tx, row, EXPIRED, "system")
        if row.status == OPEN:
            return None
        if row.status == LOCKED:
            return RequestLocked()
        if row.status in (SIGNED, SEALED):
            return ConflictError(f"the document is signed already (request {row.status})")
        return ConflictError(f"the signing request is {row.status}; the MFO starts a new one")

    def fail(self, tx: RequestStore, row: SigningRequestRow, factor: str, field: str, reason: str,
             actor: str) -> QoltanbaError:
        """Count a failed factor; past the policy's tolerance the request locks. Returns what to raise."""
        row.failures += 1
        limit = self.policies.codes.max_failures
        tx.audit.append(at=self.clock.now(), actor=actor, action="factor.failed", subject=f"request:{row.public_id}",
                        details={"tenant": row.tenant, "factor": factor, "reason": f"{field} {reason}",
                                 "failures": row.failures})
        if row.failures > limit:
            self.transition(tx, row, LOCKED, actor, failures=row.failures)
            return RequestLocked(f"the signing request is locked after {row.failures} failed attempts; the MFO "
                                 "starts a new one")
        left = limit - row.failures
        return FactorRefused(f"the {factor} factor is refused",
                             [Problem(field, f"{reason}; {left} more failed attempts are tolerated, then the "
                                             "request locks")])

    def transition(self, tx: RequestStore, row: SigningRequestRow, status: str, actor: str,
                   **details: Any) -> None:
        previous, row.status, row.updated_at = row.status, status, self.clock.now()
        tx.audit.append(at=row.updated_at, actor=actor, action=f"signing_request.{status}",
                        subject=f"request:{row.public_id}",
                        details={"tenant": row.tenant, "previous": previous, **details})
        self._event(tx, row, tx.documents.by_id(row.tenant, row.document_id), previous=previous)

    def held_certificate(self, tx: RequestStore, client: ClientRow) -> CertificateRow | None:
        """The client's valid certificate of our national CA whose key the service holds, newest first."""
        national = self.centres.issuing_ca(NATIONAL, tx).centre_id
        now = self.clock.now()
        found = tx.certificates.search(issuer_id=national, iin=client.iin, status=CertificateStatus.VALID, limit=1000)
        rows = [r for r in found
                if r.key_handle and r.not_before <= now <= r.not_after
                and holder_matches(client.kind, client.id_number, r.iin, r.bin)]
        return rows[-1] if rows else None

    def view(self, tx: RequestStore, row: SigningRequestRow, token: str | None = None) -> RequestView:
        doc = tx.documents.by_id(row.tenant, row.document_id)
        client = tx.clients.by_id(row.tenant, row.client_id)
        proven = tuple({"factor": p.factor, "at": p.proven_at.isoformat()} for p in tx.factor_proofs.of_request(row.id))
        return RequestView(
            id=row.public_id, tenant=row.tenant, document=doc.public_id, client=client.public_id, status=row.status,
            policy=row.requirement, proven=proven, review_until=row.review_until, review_waived=row.review_waived,
            expires_at=row.expires_at, failures=row.failures,
            wrong_tries_left=max(0, self.policies.codes.max_failures - row.failures), seal=row.seal, level=row.level,
            created_at=row.created_at, signer_serial=row.signer_serial, signed_at=row.signed_at,
            sealed_at=row.sealed_at, earliest_payout_at=row.earliest_payout_at, token=token,
            language=row.language or DEFAULT_LANGUAGE)

    def _reachable(self, tx: RequestStore, client: ClientRow, rule: SigningRule) -> list[Problem]:
        """Whether the client's enrolled factors can meet the rule at all; the problems if not."""
        active = {Factor(kind) for kind in tx.client_factors.kinds(client.id, status=FactorStatus.ACTIVE)}
        held = self.held_certificate(tx, client) is not None
        if Factor.EDS in active and rule.satisfied_by(active):
            return []
        if held and rule.satisfied_by(active - {Factor.EDS}):
            return []
        wanted = sorted({f.value for a in rule.any_of for f in a.all_of} - {f.value for f in active})
        advice = f"enrol {', '.join(wanted)}" if wanted else "enrol more factors of different kinds"
        if not held and Factor.EDS not in {f for a in rule.any_of for f in a.all_of}:
            advice += ", or issue the client a key the service holds"
        return [Problem("client", f"cannot meet policy {rule.name} with the factors enrolled: {advice}")]

    def _event(self, tx: RequestStore, row: SigningRequestRow, doc: DocumentRow | None,
               previous: str | None) -> None:
        event = StatusChanged(request=row.public_id, document=doc.public_id if doc else None, status=row.status,
                              previous=previous, at=row.updated_at, policy=row.policy,
                              earliest_payout_at=row.earliest_payout_at)
        self.events.enqueue(tx, tenant=row.tenant, event=event)


__all__ = ["CANCELLED", "DEFAULT_LANGUAGE", "EXPIRED", "LANGUAGES", "LOCKED", "OPEN", "SEALED", "SIGNED", "STATUSES", "RequestStorage", "RequestStore",
           "RequestView", "SigningRequests", "rule_of", "token_digest"]
