"""Applications to the centres: submit, review, approve (issue) or refuse.

A submission is reviewed at once: every field problem, the CSR's proof of
possession and key strength, and (government CA) any holder who already has
a key, are listed together and nothing is written. A well-formed
application waits for a registrar's decision until its due date, counted in
Kazakhstan's working days.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Protocol
from zoneinfo import ZoneInfo

from ca.clock import Clock
from ca.issuance import IssuedCertificate, IssueRequest, JournalContext, KeySource
from ca.issuer import IssuingCA
from ca.calendar import WorkingCalendar
from ca.errors import ConflictError, InvalidInput, NotFound, Problem, QoltanbaError
from ca.forms import (
    KIND_CA,
    KIND_GOVERNMENT,
    KIND_INDIVIDUAL,
    KINDS,
    CAApplication,
    GovernmentBatchApplication,
    IndividualApplication,
    LegalEntityApplication,
    parse,
    parse_attachments,
    review,
)
from ca.keycheck import csr_der, parse_csr
from ca.grounds import REVOCATION_REFUSAL_REASONS
from ca.policy import REFUSAL_REASONS, HierarchyPolicy
from ca.revocation_forms import REVOCATION_KINDS
from ca.profiles import Role
from ca.subject import SubjectData
from keys import KeyAlgorithm, KeyBackend
from registry import ApplicationRow, ApplicationStatus, Conflict, Registry, RegistryTransaction

ALMATY = ZoneInfo("Asia/Almaty")
SUBMITTED, ISSUED, REFUSED = ApplicationStatus.SUBMITTED, ApplicationStatus.ISSUED, ApplicationStatus.REFUSED


@dataclass(frozen=True)
class ApplicationView:
    id: int
    centre: str
    kind: str
    status: str
    form: dict
    attachments: list
    submitted_at: dt.datetime
    submitted_by: str
    due_date: dt.date
    overdue: bool
    decided_at: dt.datetime | None
    decided_by: str | None
    refusal_reason: str | None
    refusal_detail: str | None
    certificate_serials: list[str] = field(default_factory=list)
    target_serial: str | None = None   # revocation applications: the certificate to revoke
    signed: bool = False               # submitted as a CMS signed with the applicant's EDS (NAT-7)


@dataclass(frozen=True)
class CarrierPasswords:
    """PKCS#12 carrier passwords of a government batch, by holder IIN: never in a repr, a log or the audit log."""

    by_iin: Mapping[str, str] = field(default_factory=dict, repr=False)

    def get(self, iin: str) -> str | None:
        return self.by_iin.get(iin)

    def __getitem__(self, iin: str) -> str:
        return self.by_iin[iin]

    def __bool__(self) -> bool:
        return bool(self.by_iin)

    def as_json(self) -> dict[str, str]:
        return dict(self.by_iin)


@dataclass(frozen=True)
class Approval:
    application: ApplicationView
    certificates: list[IssuedCertificate]
    generated_passwords: CarrierPasswords


class Centres(Protocol):
    """What the applications service reads of the hierarchy (ca.hierarchy.Hierarchy)."""

    def issuing_ca(self, code: str, tx: RegistryTransaction | None = None) -> IssuingCA: ...


class Issuer(Protocol):
    """What an approved application asks of issuance (ca.issuance.Issuance)."""

    def issue(self, request: IssueRequest, *, tx: RegistryTransaction | None = None) -> IssuedCertificate: ...


class ApplicationService:
    def __init__(self, registry: Registry, clock: Clock, policy: HierarchyPolicy, centres: Centres,
                 issuance: Issuer, calendar: WorkingCalendar | None = None) -> None:
        self.registry = registry
        self.clock = clock
        self.policy = policy
        self.centres = centres
        self.issuance = issuance
        self.calendar = calendar or WorkingCalendar()

    def today(self) -> dt.date:
        return self.clock.now().astimezone(ALMATY).date()

    def view(self, tx: RegistryTransaction, row: ApplicationRow) -> ApplicationView:
        """What an applicant or registrar sees of an application row (any kind)."""
        centre = tx.centres.by_id(row.centre_id)
        serials = [c.serial for c in tx.certificates.by_application(row.id)]
        return ApplicationView(
            id=row.id, centre=centre.code if centre else "?", kind=row.kind, status=row.status, form=row.form,
            attachments=row.attachments, submitted_at=row.submitted_at, submitted_by=row.submitted_by,
            due_date=row.due_date, overdue=row.status == SUBMITTED and self.today() > row.due_date,
            decided_at=row.decided_at, decided_by=row.decided_by, refusal_reason=row.refusal_reason,
            refusal_detail=row.refusal_detail, certificate_serials=serials, target_serial=row.target_serial,
            signed=row.signed_document is not None)

    # -- submission ----------------------------------------------------------

    def submit(self, kind: str, form: object, attachments: object, csr: bytes | None,
               actor: str) -> ApplicationView:
        parsed, problems = parse(kind, form)
        atts, att_problems = parse_attachments(attachments if attachments is not None else [])
        problems += att_problems
        if parsed is not None:
            problems += review(kind, parsed, atts)
        if kind in KINDS and kind != KIND_GOVERNMENT:
            if csr is None:
                problems.append(Problem("csr", "a certificate request (PKCS#10) is required"))
            else:
                problems += parse_csr(csr)[1]
        elif csr is not None:
            problems.append(Problem("csr", "the government CA generates the keys itself (GOV-3); send no CSR"))
        if isinstance(parsed, GovernmentBatchApplication):
            problems += self._holders_with_keys(parsed)
        if problems:
            raise InvalidInput("the application is refused", problems)
        centre_code = KINDS[kind]
        now = self.clock.now()
        due = self.calendar.add_working_days(now.astimezone(ALMATY).date(),
                                             self.policy.centre(centre_code).review_working_days)
        ca = self.centres.issuing_ca(centre_code)
        with self.registry.transaction() as tx:
            row = tx.applications.add(ApplicationRow(
                centre_id=ca.centre_id, kind=kind, status=SUBMITTED, form=parsed.model_dump(mode="json"),
                attachments=[a.model_dump(mode="json") for a in atts], csr_der=csr_der(csr) if csr else None,
                profile=getattr(parsed, "profile", None), submitted_by=actor, submitted_at=now, due_date=due))
            tx.audit.append(at=now, actor=actor, action="application.submitted", subject=f"application:{row.id}",
                            details={"kind": kind, "centre": centre_code, "due_date": due.isoformat()})
            return self.view(tx, row)

    def _holders_with_keys(self, form: GovernmentBatchApplication) -> list[Problem]:
        ca = self.centres.issuing_ca("government")
        problems = []
        with self.registry.transaction() as tx:
            for i, person in enumerate(form.persons):
                holder = SubjectData(iin=person.iin, bin=form.state_body_bin).holder
                if tx.certificates.active_single_key(ca.centre_id, holder):
                    problems.append(Problem(f"form.persons.{i}.iin",
                                            "GOV-4: this holder already has a valid key; revoke it first"))
        return problems

    # -- reading -------------------------------------------------------------

    def get(self, application_id: int) -> ApplicationView:
        with self.registry.transaction() as tx:
            row = tx.applications.by_id(application_id)
            if row is None:
                raise NotFound(f"no application {application_id}")
            return self.view(tx, row)

    def list(self, *, centre: str | None = None, status: str | None = None, overdue: bool = False,
             limit: int = 100, offset: int = 0) -> list[ApplicationView]:
        centre_id = self.centres.issuing_ca(centre).centre_id if centre else None
        with self.registry.transaction() as tx:
            rows = tx.applications.search(centre_id=centre_id, status=status,
                                          overdue_on=self.today() if overdue else None, limit=limit, offset=offset)
            return [self.view(tx, r) for r in rows]

    # -- decisions -----------------------------------------------------------

    def refuse(self, application_id: int, reason: str, detail: str, actor: str) -> ApplicationView:
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = self._pending(tx, application_id)
            centre = tx.centres.by_id(row.centre_id)
            reasons = REVOCATION_REFUSAL_REASONS if row.kind in REVOCATION_KINDS else REFUSAL_REASONS[centre.code]
            if not any(r.code == reason for r in reasons):
                known = ", ".join(r.code for r in reasons)
                raise InvalidInput("unknown refusal reason", [Problem("reason", f"{reason!r}; the {centre.code} "
                                                                                f"centre refuses for: {known}")])
            if not detail.strip():
                raise InvalidInput("a refusal needs its reasons", [Problem("detail", "is required")])
            row.status, row.decided_at, row.decided_by = REFUSED, now, actor
            row.refusal_reason, row.refusal_detail = reason, detail.strip()
            tx.applications.flush()
            tx.audit.append(at=now, actor=actor, action="application.refused", subject=f"application:{row.id}",
                            details={"reason": reason})
            return self.view(tx, row)

    def approve(self, application_id: int, actor: str, *, passwords: CarrierPasswords | None = None,
                token: KeyBackend | None = None, algorithm: KeyAlgorithm | None = None) -> Approval:
        """Issue what the application asks for, all in one transaction."""
        now = self.clock.now()
        generated: dict[str, str] = {}
        try:
            with self.registry.transaction() as tx:
                row = self._pending(tx, application_id)
                if row.kind in REVOCATION_KINDS:
                    raise ConflictError(f"application {application_id} asks for a revocation; approve it "
                                        "through the revocation applications")
                requests = self._requests(row, actor, passwords or CarrierPasswords(), generated, token, algorithm)
                issued = [self.issuance.issue(r, tx=tx) for r in requests]
                row.status, row.decided_at, row.decided_by = ISSUED, now, actor
                tx.applications.flush()
                tx.audit.append(at=now, actor=actor, action="application.approved", subject=f"application:{row.id}",
                                details={"serials": [i.serial for i in issued]})
                view = self.view(tx, row)
        except Conflict as conflict:
            raise ConflictError(f"the registry refused the issuance ({conflict.constraint})",
                                [Problem("form", "GOV-4: a holder already has a valid key")]) from conflict
        return Approval(view, issued, CarrierPasswords(generated))

    def _pending(self, tx: RegistryTransaction, application_id: int) -> ApplicationRow:
        row = tx.applications.by_id(application_id, for_update=True)
        if row is None:
            raise NotFound(f"no application {application_id}")
        if row.status != SUBMITTED:
            raise ConflictError(f"application {application_id} is already {row.status}")
        return row

    def _requests(self, row: ApplicationRow, actor: str, passwords: CarrierPasswords, generated: dict[str, str],
                  token: KeyBackend | None, algorithm: KeyAlgorithm | None) -> list[IssueRequest]:
        form = parse(row.kind, row.form)[0]
        if isinstance(form, GovernmentBatchApplication):
            journal = JournalContext(state_body=form.state_body, letter_number=form.letter_number,
                                     letter_date=form.letter_date, form_numbers=form.form_numbers)
            requests = []
            for person in form.persons:
                if token is not None:
                    key = KeySource(token=token, token_label=f"gov-{person.iin}", algorithm=algorithm)
                else:
                    password = passwords.get(person.iin)
                    if password is None:
                        password = generated[person.iin] = secrets.token_urlsafe(12)
                    key = KeySource(pkcs12_password=password.encode(), algorithm=algorithm)
                subject = SubjectData(surname=person.surname, given_name=person.given_name,
                                      patronymic=person.patronymic, iin=person.iin, email=person.email,
                                      bin=form.state_body_bin, organisation=form.state_body,
                                      country=person.country, state=person.region, roles=(Role.EMPLOYEE,))
                requests.append(IssueRequest(centre="government", profile="government-employee", subject=subject,
                                             key=key, actor=actor, application_id=row.id, journal=journal))
            return requests
        key = KeySource(csr=row.csr_der)
        if isinstance(form, CAApplication):
            subject = SubjectData(common_name=form.ca_name, organisation=form.organisation, country=form.country,
                                  locality=form.city, state=form.region)
            return [IssueRequest(centre="root", profile="subordinate-ca", subject=subject, key=key, actor=actor,
                                 application_id=row.id, validity=dt.timedelta(days=365 * form.validity_years))]
        if isinstance(form, (IndividualApplication, LegalEntityApplication)):
            legal = isinstance(form, LegalEntityApplication)
            subject = SubjectData(surname=form.surname, given_name=form.given_name, patronymic=form.patronymic,
                                  iin=form.iin, email=form.email, locality=form.city, state=form.region,
                                  bin=form.bin if legal else None,
                                  organisation=form.short_name if legal else None,
                                  roles=(form.role,) if legal else ())
            return [IssueRequest(centre="national", profile=form.profile, subject=subject, key=key, actor=actor,
                                 application_id=row.id)]
        raise QoltanbaError("corrupt-application", f"application {row.id} has an unreadable form")


__all__ = ["Approval", "ApplicationService", "ApplicationView", "CarrierPasswords", "KIND_CA", "KIND_INDIVIDUAL"]
