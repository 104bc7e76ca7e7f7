"""Loan documents: upload, versions, reading back (DOMAIN.md §3, issue 4).

An MFO uploads a contract or an amendment with its loan terms. Everything
is checked before anything is written, and every problem is reported at
once (DOMAIN.md §4). The upload becomes version 1; each signature, seal,
LTV addition or document time-stamp the signing engine applies becomes the
next version, which must be an incremental update of the one before, so
nothing signed is ever lost and the versions' hashes form a chain. Every
read names the tenant (the MFO): another MFO's document is "not found",
exactly like an id that never existed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from ca.clock import Clock
from ca.errors import ConflictError, InvalidInput, NotFound, Problem
from registry import Conflict, DocumentRow, DocumentStatus, DocumentVersionRow
from signing.documents.forms import FormCheck, FormClaim, FormVerdict, record_downgrade
from signing.documents.limits import DocumentLimits
from signing.documents.metadata import AMENDMENT, CONTRACT, PREFIX, DocumentMetadata, parse_metadata
from signing.documents.pdf_checks import pdf_problems

UPLOADED = "uploaded"
# Why a version exists. The signing engine appends the others; "uploaded" is version 1 only.
VERSION_REASONS = (UPLOADED, "signature", "seal", "dss", "document-timestamp")
STATUS_UPLOADED = DocumentStatus.UPLOADED
_PUBLIC_ID = re.compile(r"[0-9a-f]{32}")
_SERIAL = re.compile(r"[0-9a-fA-F]{1,40}")


class DocumentRows(Protocol):
    def add(self, row: DocumentRow) -> DocumentRow: ...
    def by_id(self, tenant: str, document_id: int) -> DocumentRow | None: ...
    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> DocumentRow | None: ...
    def list(self, tenant: str, *, contract_number: str | None = None, contract_id: int | None = None,
             limit: int = 100, offset: int = 0) -> Sequence[DocumentRow]: ...
    def across_tenants(self, public_id: str) -> DocumentRow | None: ...
    def list_across_tenants(self, *, contract_number: str | None = None, limit: int = 100,
                            offset: int = 0) -> Sequence[DocumentRow]: ...


class VersionRows(Protocol):
    def add(self, row: DocumentVersionRow) -> DocumentVersionRow: ...
    def by_id(self, version_id: int) -> DocumentVersionRow | None: ...
    def by_number(self, document_id: int, number: int) -> DocumentVersionRow | None: ...
    def latest(self, document_id: int) -> DocumentVersionRow | None: ...
    def list(self, document_id: int) -> Sequence[DocumentVersionRow]: ...


class AuditTrail(Protocol):
    def append(self, *, at: dt.datetime, actor: str, action: str, subject: str,
               details: dict[str, Any] | None = None) -> int: ...


class DocumentStore(Protocol):
    """What documents and their versions touch in one unit of work (a ``registry.RegistryTransaction`` is one)."""

    @property
    def documents(self) -> DocumentRows: ...
    @property
    def document_versions(self) -> VersionRows: ...
    @property
    def audit(self) -> AuditTrail: ...


class DocumentStorage(Protocol):
    """The registry as the document service sees it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[DocumentStore]: ...


class EveryTenant:
    """An administrator's read that names no tenant: it reaches every tenant's documents.

    A distinct object, not ``None`` or an empty string, so that a missing
    tenant (an MFO key without one) can never widen a read by accident; only
    the API's read scope (api/http/routes/documents.py) hands it out, and only to
    an administrator.
    """

    def __repr__(self) -> str:
        return "EVERY_TENANT"


EVERY_TENANT = EveryTenant()
Scope = str | EveryTenant


class NotIncrementalUpdate(ConflictError):
    """The new bytes do not extend the previous version: a signature already made would be lost."""


@dataclass(frozen=True)
class VersionView:
    number: int
    sha256: str
    size: int
    reason: str
    created_at: dt.datetime
    previous_sha256: str | None = None
    signature_field: str | None = None
    signer_serial: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "sha256": self.sha256, "size": self.size, "reason": self.reason,
                "created_at": self.created_at.isoformat(), "previous_sha256": self.previous_sha256,
                "signature_field": self.signature_field, "signer_serial": self.signer_serial}


@dataclass(frozen=True)
class DocumentView:
    """What the MFO (or an administrator) sees of a document."""

    id: str
    tenant: str
    kind: str
    status: str
    metadata: DocumentMetadata
    versions: tuple[VersionView, ...]
    created_at: dt.datetime
    created_by: str
    contract: str | None = None            # amendments: the contract's public id
    base_version: int | None = None        # amendments: the contract's version number they were chained to
    amendments: tuple[str, ...] = ()       # contracts: the public ids of their amendments

    @property
    def latest(self) -> VersionView:
        return self.versions[-1]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "tenant": self.tenant, "kind": self.kind, "status": self.status,
                "contract": self.contract, "base_version": self.base_version, "amendments": list(self.amendments),
                "metadata": self.metadata.as_json(), "versions": [v.as_json() for v in self.versions],
                "created_at": self.created_at.isoformat(), "created_by": self.created_by}


@dataclass(frozen=True)
class StoredPdf:
    """One version's bytes, with what a download needs to name them."""

    document_id: str
    number: int
    sha256: str
    content: bytes


def _version_view(row: DocumentVersionRow) -> VersionView:
    return VersionView(number=row.number, sha256=row.sha256, size=row.size, reason=row.reason,
                       created_at=row.created_at, previous_sha256=row.previous_sha256,
                       signature_field=row.signature_field, signer_serial=row.signer_serial)


def _metadata_of(row: DocumentRow, contract: str | None) -> DocumentMetadata:
    return DocumentMetadata(
        kind=row.kind, contract_number=row.contract_number, client_id_number=row.client_id_number,
        client_kind=row.client_kind, loan_amount=row.loan_amount, term_days=row.term_days,
        annual_effective_rate=row.annual_effective_rate, secured=row.secured, purpose=row.purpose,
        template_version=row.template_version, interest_rate=row.interest_rate, title=row.title,
        contract=contract, form=row.form)


class DocumentService:
    def __init__(self, registry: DocumentStorage, clock: Clock, limits: DocumentLimits | None = None,
                 forms: FormCheck | None = None) -> None:
        """``forms``: the tenants' registered forms and status (issue 15; none: no form is checked)."""
        self.registry = registry
        self.clock = clock
        self.limits = limits or DocumentLimits()
        self.forms = forms

    # -- upload ----------------------------------------------------------------

    def upload(self, actor_name: str, tenant: str, pdf: bytes | None, metadata: object) -> DocumentView:
        """Check everything, then store the document and its version 1 in one transaction.

        ``pdf`` None: the file is missing (reported with the rest).
        ``metadata``: a mapping or its JSON text. Raises ``InvalidInput``
        listing every problem, or ``ConflictError`` for an amendment to a
        contract that has not been signed yet; nothing is written then.
        """
        _require_tenant(tenant)
        sha256 = hashlib.sha256(pdf).hexdigest() if pdf is not None else ""
        problems = ([Problem("file", "is required: the PDF to be signed")] if pdf is None
                    else pdf_problems(pdf, max_bytes=self.limits.max_document_bytes))
        values, metadata_problems = parse_metadata(metadata, self.limits)
        problems += metadata_problems
        verdict = FormVerdict()
        with self.registry.transaction(readonly=True) as tx:
            if values.get("kind") == AMENDMENT and values.get("contract") is not None:
                problems += _contract_link_problems(tx, tenant, values)
            if self.forms is not None:
                verdict = self.forms.check(tx, FormClaim(
                    tenant=tenant, form=values.get("form"), kind=values.get("kind"),
                    client_kind=values.get("client_kind"), purpose=values.get("purpose"),
                    template_version=values.get("template_version")))
                problems += verdict.problems
        if verdict.downgrade is not None:   # refused, and audited in a transaction of its own
            with self.registry.transaction() as tx:
                record_downgrade(tx, self.clock.now(), actor_name, tenant, values, verdict)
        if problems:
            raise InvalidInput("the document is refused", problems)
        meta = DocumentMetadata(**values)
        assert pdf is not None  # a missing file is a problem above
        now = self.clock.now()
        with self.registry.transaction() as tx:
            contract_row, base = (self._signed_contract(tx, tenant, meta.contract) if meta.kind == AMENDMENT
                                  else (None, None))
            row = tx.documents.add(DocumentRow(
                public_id=uuid.uuid4().hex, tenant=tenant, kind=meta.kind,
                contract_id=contract_row.id if contract_row else None, base_version_id=base.id if base else None,
                contract_number=meta.contract_number, client_id_number=meta.client_id_number,
                client_kind=meta.client_kind, loan_amount=meta.loan_amount, term_days=meta.term_days,
                annual_effective_rate=meta.annual_effective_rate, interest_rate=meta.interest_rate,
                secured=meta.secured, purpose=meta.purpose, template_version=meta.template_version,
                form=meta.form, title=meta.title, status=STATUS_UPLOADED, created_at=now, created_by=actor_name))
            tx.document_versions.add(DocumentVersionRow(
                document_id=row.id, number=1, sha256=sha256, size=len(pdf), content=pdf, reason=UPLOADED,
                created_at=now, previous_sha256=None))
            # The hash identifies the bytes; the bytes and the client's data stay out of the audit log.
            tx.audit.append(at=now, actor=actor_name, action="document.uploaded", subject=f"document:{row.public_id}",
                            details={"tenant": tenant, "kind": meta.kind, "contract": meta.contract,
                                     "base_version": base.number if base else None, "version": 1,
                                     "sha256": sha256, "size": len(pdf),
                                     "template_version": meta.template_version, "form": meta.form})
            return self.view(tx, row)

    def _signed_contract(self, tx: DocumentStore, tenant: str,
                         public_id: str | None) -> tuple[DocumentRow, DocumentVersionRow]:
        """The contract an amendment is chained to, and its latest version, which must follow a signature.

        Read again inside the writing transaction: the amendment is chained
        to the version that is latest when it is stored.
        """
        contract = tx.documents.by_public_id(tenant, public_id or "", for_update=True)
        if contract is None:  # the check before found it; documents are never deleted
            raise NotFound("no such contract")
        versions = tx.document_versions.list(contract.id)
        if not any(v.reason != UPLOADED for v in versions):
            raise ConflictError("the contract has not been signed yet; an amendment is chained to the latest "
                                "signed version of its contract, so upload it after the contract is signed",
                                [Problem(PREFIX + "contract", "has no signed version yet")])
        return contract, versions[-1]

    # -- versions (for the signing engine) ----------------------------------------

    def add_version(self, tx: DocumentStore, document: DocumentRow, pdf: bytes, *, reason: str,
                    signature_field: str | None = None, signer_serial: str | None = None,
                    actor: str = "signing", base: bytes | None = None, written_here: bool = False,
                    previous: DocumentVersionRow | None = None) -> DocumentVersionRow:
        """Append the next version in the caller's transaction; returns its row. ``previous``: the latest
        version, read after the caller locked ``document`` (FOR UPDATE) in this transaction: not read again.

        ``base``: the previous version's bytes the caller already holds (read in the same unit of work's
        snapshot); used when their SHA-256 is the latest version's, instead of loading them again.
        ``written_here``: the bytes are our signing engine's output over ``base``, so they are not parsed
        again to see that they read (issue 17: no re-parse of a version we just wrote); bytes from
        outside are always parsed.

        The new bytes must begin with the previous version's bytes and add
        to them (an incremental update, ISO 32000-1 §7.5.6): a rewritten
        file could drop a signature already made. Raises
        ``NotIncrementalUpdate`` then, ``InvalidInput`` for bad arguments
        or a PDF that no longer reads.
        """
        problems = []
        if reason not in VERSION_REASONS or reason == UPLOADED:
            problems.append(Problem("reason", "must be one of: " + ", ".join(VERSION_REASONS[1:])))
        if signature_field is not None and not 1 <= len(signature_field) <= 128:
            problems.append(Problem("signature_field", "must be 1-128 characters"))
        if signer_serial is not None and not _SERIAL.fullmatch(signer_serial):
            problems.append(Problem("signer_serial", "must be the certificate serial in hex (at most 40 digits)"))
        if problems:
            raise InvalidInput("the version is refused", problems)
        # The row lock orders concurrent appenders; the unique (document, number) backs it up.
        locked = document if previous is not None else tx.documents.by_public_id(
            document.tenant, document.public_id, for_update=True)
        if previous is None and locked is not None:
            previous = tx.document_versions.latest(locked.id)
        if locked is None or previous is None:
            raise NotFound("no such document")
        prior = base if base is not None and hashlib.sha256(base).hexdigest() == previous.sha256 \
            else previous.content
        if len(pdf) <= previous.size or not pdf.startswith(prior):
            raise NotIncrementalUpdate(
                f"the new bytes are not an incremental update of version {previous.number}; every version must "
                f"keep the previous one's bytes unchanged and append to them",
                [Problem("pdf", f"does not begin with version {previous.number} ({previous.sha256})")])
        unreadable = [] if written_here else pdf_problems(pdf, max_bytes=None, field="pdf")
        if unreadable:
            raise InvalidInput("the version is refused", unreadable)
        now = self.clock.now()
        sha256 = hashlib.sha256(pdf).hexdigest()
        try:
            row = tx.document_versions.add(DocumentVersionRow(
                document_id=locked.id, number=previous.number + 1, sha256=sha256, size=len(pdf), content=pdf,
                reason=reason, signature_field=signature_field, signer_serial=signer_serial, created_at=now,
                previous_sha256=previous.sha256))
        except Conflict as error:
            raise ConflictError("another version of this document was stored at the same time") from error
        tx.audit.append(at=now, actor=actor, action="document.version_added", subject=f"document:{locked.public_id}",
                        details={"tenant": locked.tenant, "version": row.number, "reason": reason, "sha256": sha256,
                                 "previous_sha256": previous.sha256, "size": len(pdf),
                                 "signature_field": signature_field, "signer_serial": signer_serial})
        return row

    # -- reading -------------------------------------------------------------------

    def view(self, tx: DocumentStore, row: DocumentRow) -> DocumentView:
        contract = tx.documents.by_id(row.tenant, row.contract_id) if row.contract_id is not None else None
        base = tx.document_versions.by_id(row.base_version_id) if row.base_version_id is not None else None
        amendments = (tuple(a.public_id for a in tx.documents.list(row.tenant, contract_id=row.id, limit=10_000))
                      if row.kind == CONTRACT else ())
        return DocumentView(
            id=row.public_id, tenant=row.tenant, kind=row.kind, status=row.status,
            metadata=_metadata_of(row, contract.public_id if contract else None),
            versions=tuple(_version_view(v) for v in tx.document_versions.list(row.id)),
            created_at=row.created_at, created_by=row.created_by,
            contract=contract.public_id if contract else None, base_version=base.number if base else None,
            amendments=amendments)

    def get(self, tenant: Scope, public_id: str) -> DocumentView:
        with self.registry.transaction(readonly=True) as tx:
            return self.view(tx, self._document(tx, tenant, public_id))

    def list(self, tenant: Scope, *, contract_number: str | None = None, limit: int = 100,
             offset: int = 0) -> list[DocumentView]:
        _require_tenant(tenant)
        with self.registry.transaction(readonly=True) as tx:
            if isinstance(tenant, EveryTenant):
                rows = tx.documents.list_across_tenants(contract_number=contract_number, limit=limit, offset=offset)
            else:
                rows = tx.documents.list(tenant, contract_number=contract_number, limit=limit, offset=offset)
            return [self.view(tx, row) for row in rows]

    def latest_pdf(self, tenant: Scope, public_id: str) -> StoredPdf:
        with self.registry.transaction(readonly=True) as tx:
            document = self._document(tx, tenant, public_id)
            return _stored(document, tx.document_versions.latest(document.id))

    def version_pdf(self, tenant: Scope, public_id: str, number: int) -> StoredPdf:
        with self.registry.transaction(readonly=True) as tx:
            document = self._document(tx, tenant, public_id)
            version = tx.document_versions.by_number(document.id, number)
            if version is None:
                raise NotFound(f"document {public_id} has no version {number}")
            return _stored(document, version)

    def _document(self, tx: DocumentStore, tenant: Scope, public_id: str) -> DocumentRow:
        _require_tenant(tenant)
        row = None
        if _PUBLIC_ID.fullmatch(public_id):
            row = (tx.documents.across_tenants(public_id) if isinstance(tenant, EveryTenant)
                   else tx.documents.by_public_id(tenant, public_id))
        if row is None:
            raise NotFound(f"no document {public_id}")
        return row


def _stored(document: DocumentRow, version: DocumentVersionRow | None) -> StoredPdf:
    if version is None:
        raise NotFound(f"document {document.public_id} has no version")
    return StoredPdf(document_id=document.public_id, number=version.number, sha256=version.sha256,
                     content=version.content)


def _require_tenant(tenant: Scope) -> None:
    if not isinstance(tenant, EveryTenant) and not tenant:
        raise InvalidInput("a document belongs to a tenant", [Problem("tenant", "is required")])


def _contract_link_problems(tx: DocumentStore, tenant: str, values: dict[str, Any]) -> list[Problem]:
    """An amendment names a contract of the same tenant, for the same client and contract number.

    Another tenant's contract is "not found", as an unknown id is.
    """
    public_id = values["contract"]
    contract = tx.documents.by_public_id(tenant, public_id) if _PUBLIC_ID.fullmatch(public_id) else None
    if contract is None:
        return [Problem(PREFIX + "contract", f"not found: no contract {public_id}")]
    if contract.kind != CONTRACT:
        return [Problem(PREFIX + "contract", "is an amendment; name the contract itself")]
    problems = []
    if values.get("contract_number") not in (None, contract.contract_number):
        problems.append(Problem(PREFIX + "contract_number",
                                f"differs from the contract's ({contract.contract_number}); an amendment is filed "
                                "under its contract's number (LOAN-14: one credit dossier)"))
    if values.get("client_id_number") not in (None, contract.client_id_number):
        problems.append(Problem(PREFIX + "client_id_number", "differs from the contract's client"))
    if values.get("client_kind") not in (None, contract.client_kind):
        problems.append(Problem(PREFIX + "client_kind", f"differs from the contract's ({contract.client_kind})"))
    return problems
