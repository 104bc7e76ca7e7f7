"""Each tenant's standard forms, version by version, and the check a document's upload runs against them.

Seed 002: the regulator's consent to offer microcredits approves the MFO's
standard contract form, and a changed form needs that consent again unless
the change follows a change of law or of the MFO's requisites. So a
version of a form whose kind needs the consent (``CONSENT_KINDS``: the
contract, which with its accession application is one document, LOAN-1)
carries the consent's date, or, for a later version, the reason it needs
none (``change-of-law``, ``change-of-requisites``). Forms of other kinds
(amendment, schedule, consent, application, details change) are
registered with their PDF or its hash alone.

Once a tenant has registered a form, each of its documents names the form
version it was made on (``metadata.form``), and the signing policy follows
the form's kind: a document declared as another kind than its form's is
refused, and when the declared kind's rule is weaker (a contract declared
as a consent would be signed under LOAN-6 instead of LOAN-2) the refusal
is audited as a downgrade. A tenant that has registered no form yet keeps
the free ``template_version`` of before issue 15.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from ca.clock import Clock
from ca.errors import ConflictError, InvalidInput, NotFound, Problem
from registry import Conflict, ContractFormRow, Registry, TenantStatus
from signing.documents.forms import FormClaim, FormVerdict
from signing.documents.metadata import CONTRACT, KINDS, PREFIX
from signing.documents.pdf_checks import pdf_problems
from signing.policies.floor import weaker_kind
from signing.tenants.policies import TenantPolicies
from signing.tenants.seals import TenantSuspended

CONSENT_KINDS = (CONTRACT,)
NO_CONSENT_REASONS = ("change-of-law", "change-of-requisites")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._/-]{0,31}")
MAX_FORM_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class NewForm:
    kind: str
    version: str
    pdf: bytes | None = None
    sha256: str | None = None
    consent_date: dt.date | None = None
    no_consent_reason: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class FormView:
    id: str
    tenant: str
    kind: str
    version: str
    sha256: str
    has_pdf: bool
    consent_date: dt.date | None
    no_consent_reason: str | None
    note: str | None
    registered_at: dt.datetime
    registered_by: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "tenant": self.tenant, "kind": self.kind, "version": self.version,
                "sha256": self.sha256, "has_pdf": self.has_pdf,
                "consent_date": self.consent_date.isoformat() if self.consent_date else None,
                "no_consent_reason": self.no_consent_reason, "note": self.note,
                "registered_at": self.registered_at.isoformat(), "registered_by": self.registered_by}


def _view(row: ContractFormRow) -> FormView:
    return FormView(id=row.public_id, tenant=row.tenant, kind=row.kind, version=row.version, sha256=row.sha256,
                    has_pdf=row.pdf is not None, consent_date=row.consent_date,
                    no_consent_reason=row.no_consent_reason, note=row.note, registered_at=row.registered_at,
                    registered_by=row.registered_by)


class ContractForms:
    def __init__(self, registry: Registry, clock: Clock) -> None:
        self.registry = registry
        self.clock = clock

    def register(self, actor: str, tenant: str, form: NewForm) -> FormView:
        """Register one version of one of the tenant's forms; every problem listed, nothing written on any."""
        problems = _form_problems(form, self.clock.now().date())
        with self.registry.transaction(readonly=True) as tx:
            row = tx.tenants.by_code(tenant) if tenant else None
            if row is None:
                raise NotFound(f"no tenant {tenant}")
            if row.status != TenantStatus.ACTIVE:
                raise TenantSuspended(tenant)
            earlier = tx.contract_forms.of_tenant(tenant, kind=form.kind) if form.kind in KINDS else []
        problems += _consent_problems(form, first=not earlier)
        if any(f.version == form.version for f in earlier):
            problems.append(Problem("version", f"the {form.kind} form has a version {form.version} already"))
        if problems:
            raise InvalidInput("the form is refused", problems)
        sha256 = hashlib.sha256(form.pdf).hexdigest() if form.pdf is not None else str(form.sha256)
        now = self.clock.now()
        try:
            with self.registry.transaction() as tx:
                added = tx.contract_forms.add(ContractFormRow(
                    public_id=secrets.token_hex(16), tenant=tenant, kind=form.kind, version=form.version,
                    sha256=sha256, pdf=form.pdf, consent_date=form.consent_date,
                    no_consent_reason=form.no_consent_reason, note=form.note, registered_at=now,
                    registered_by=actor))
                tx.audit.append(at=now, actor=actor, action="form.registered", subject=f"form:{added.public_id}",
                                details={"tenant": tenant, "kind": form.kind, "version": form.version,
                                         "sha256": sha256, "consent_date": form.consent_date.isoformat()
                                         if form.consent_date else None,
                                         "no_consent_reason": form.no_consent_reason,
                                         "previous": earlier[-1].public_id if earlier else None})
                return _view(added)
        except Conflict:
            raise ConflictError("the form is refused", [Problem("version", f"the {form.kind} form has a version "
                                                                           f"{form.version} already")]) from None

    def list(self, tenant: str, kind: str | None = None) -> list[FormView]:
        with self.registry.transaction(readonly=True) as tx:
            return [_view(r) for r in tx.contract_forms.of_tenant(tenant, kind=kind)]

    def get(self, tenant: str, form_id: str) -> FormView:
        with self.registry.transaction(readonly=True) as tx:
            row = tx.contract_forms.by_public_id(tenant, form_id) if _HEX32.fullmatch(form_id) else None
            if row is None:
                raise NotFound(f"no form {form_id}")
            return _view(row)


class TenantForms:
    """The check a document's upload runs in its own unit of work (signing/documents/forms.py's ``FormCheck``)."""

    def __init__(self, policies: TenantPolicies) -> None:
        self.policies = policies

    def check(self, tx: Any, claim: FormClaim) -> FormVerdict:
        row = tx.tenants.by_code(claim.tenant) if claim.tenant else None
        problems: list[Problem] = []
        if row is not None and row.status != TenantStatus.ACTIVE:
            problems.append(Problem("tenant", "is suspended: it uploads and signs nothing until resumed"))
        registered = row is not None and tx.contract_forms.count_of_tenant(claim.tenant) > 0
        if claim.form is None:
            if registered:
                problems.append(Problem(PREFIX + "form", "is required: the id of the registered form version the "
                                                         "document was made on"))
            return FormVerdict(tuple(problems))
        form = tx.contract_forms.by_public_id(claim.tenant, claim.form) if _HEX32.fullmatch(claim.form) else None
        if form is None:   # another tenant's form is not found, as an unknown id is
            problems.append(Problem(PREFIX + "form", f"not found: no registered form version {claim.form} of "
                                                     "this tenant"))
            return FormVerdict(tuple(problems))
        if claim.template_version is not None and claim.template_version != form.version:
            problems.append(Problem(PREFIX + "template_version", f"differs from the form's version ({form.version})"))
        downgrade = None
        if claim.kind is not None and claim.kind != form.kind:
            why = []
            if claim.client_kind is not None and claim.purpose is not None:
                policies = self.policies.of(tx, claim.tenant)
                why = weaker_kind(policies, claim.kind, form.kind, claim.client_kind, claim.purpose)
            message = (f"the form {form.version} is registered as a {form.kind}; the document is signed under the "
                       f"form's kind, so declare it as a {form.kind}")
            if why:
                downgrade = "; ".join(why)
                message += (f" (a {claim.kind}'s rule {downgrade}: LOAN-2 is the floor for documents with loan "
                            "terms)")
            problems.append(Problem(PREFIX + "kind", message))
        return FormVerdict(tuple(problems), downgrade=downgrade, form_kind=form.kind, form_version=form.version)


def _form_problems(form: NewForm, today: dt.date) -> list[Problem]:
    problems = []
    if form.kind not in KINDS:
        problems.append(Problem("kind", f"must be one of: {', '.join(KINDS)}"))
    if not isinstance(form.version, str) or not _VERSION.fullmatch(form.version):
        problems.append(Problem("version", "must be 1-32 characters: letters, digits and . _ / -"))
    if (form.pdf is None) == (form.sha256 is None):
        problems.append(Problem("pdf", "give the form's PDF or its SHA-256 (sha256), exactly one"))
    elif form.pdf is not None:
        problems += pdf_problems(form.pdf, max_bytes=MAX_FORM_BYTES, field="pdf")
    elif not _SHA256.fullmatch(form.sha256 or ""):
        problems.append(Problem("sha256", "must be 64 lower-case hexadecimal digits"))
    if form.consent_date is not None and form.consent_date > today:
        problems.append(Problem("consent_date", "is in the future"))
    if form.note is not None and not 1 <= len(form.note) <= 500:
        problems.append(Problem("note", "must be 1-500 characters"))
    return problems


def _consent_problems(form: NewForm, *, first: bool) -> list[Problem]:
    """Seed 002: a contract form's version needs the regulator's consent, or (a later one) a reason it needs none."""
    if form.kind not in CONSENT_KINDS:
        if form.no_consent_reason is not None:
            return [Problem("no_consent_reason", f"a {form.kind} form needs no regulator's consent to skip")]
        return []
    if form.no_consent_reason is not None and form.no_consent_reason not in NO_CONSENT_REASONS:
        return [Problem("no_consent_reason", f"must be one of: {', '.join(NO_CONSENT_REASONS)}")]
    if form.consent_date is not None and form.no_consent_reason is not None:
        return [Problem("no_consent_reason", "give the consent's date or the reason no consent is needed, not both")]
    if form.consent_date is None and first:
        return [Problem("consent_date", "is required: the regulator's consent to offer microcredits approves the "
                                        "standard contract form (seed 002)")]
    if form.consent_date is None and form.no_consent_reason is None:
        return [Problem("consent_date", "a changed contract form needs the regulator's consent again (its date), "
                                        "unless the change follows a change of law or of requisites "
                                        f"(no_consent_reason: {', '.join(NO_CONSENT_REASONS)})")]
    return []


__all__ = ["CONSENT_KINDS", "NO_CONSENT_REASONS", "ContractForms", "FormView", "NewForm", "TenantForms"]
