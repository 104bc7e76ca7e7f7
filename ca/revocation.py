"""Revoking certificates (DOMAIN.md §1: ROOT-6, GOV-5, NAT-5..8).

One revocation is one transaction: the certificate's row turns ``revoked``
with date, time and reason (NAT-5), the revocation journal gets its line
(GOV-5, appendix 5), the audit log its entry, and the global revocation
sequence advances. After the commit, listeners (the OCSP cache) replace the
certificate's answer and the centre's CRLs are published again: the CRL is
the official notice (ROOT-6, NAT-8). If the process dies between the commit
and the CRL, ``CRLPublisher.reconcile`` publishes it at the next start.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from ca.approvals import Approval, DualControlRequired
from ca.errors import ConflictError, InvalidInput, NotFound, NotPermitted, Problem
from ca.grounds import (
    CA_PROFILES,
    CENTRE_STOPPED,
    COURT_DECISION,
    GROUNDS,
    HOLDER_APPLICATION,
    LEFT_JOB,
    LEFT_JOB_REPORT_DAYS,
    REASONS,
)
from ca.issuer import IssuingCA
from ca.policy import CENTRES, GOVERNMENT, ROOT
from ca.clock import Clock
from registry import CentreRow, CentreStatus, CertificateRow, CertificateStatus, Registry, RegistryTransaction
from registry import RevocationRow

log = logging.getLogger(__name__)
ALMATY = ZoneInfo("Asia/Almaty")
REVOCATION_SEQUENCE = "revocation"
# The dual-controlled actions of this module (issue 8).
CA_REVOCATION, CENTRE_STOP = "ca-certificate.revoke", "centre.stop"
_SERIAL = re.compile(r"^[0-9a-f]{1,40}$")

JOURNAL_COLUMNS = ("number", "holder_name", "state_body", "letter_number", "letter_date", "valid_from", "valid_to",
                   "revoked_at", "certificate_serial", "reason", "ground", "court_decision_number",
                   "court_decision_date", "left_job_on", "reported_late", "carrier_returned", "administrator",
                   "recorded_at")


@dataclass(frozen=True)
class CourtDecision:
    number: str
    date: dt.date


@dataclass(frozen=True)
class RevocationRequest:
    serial: str
    actor: str
    reason: str | None = None
    ground: str = HOLDER_APPLICATION
    centre: str | None = None
    court_decision: CourtDecision | None = None
    left_job_on: dt.date | None = None
    carrier_returned: bool | None = None
    application_id: int | None = None
    state_body: str | None = None
    letter_number: str | None = None
    letter_date: dt.date | None = None
    administrator: bool = False   # the actor holds the administrator role
    # A CA certificate is revoked only with a second administrator's approval (issue 8, ca/approvals.py).
    approval: Approval | None = None


@dataclass(frozen=True)
class Revocation:
    serial: str
    centre: str
    revoked_at: dt.datetime
    reason: str
    ground: str
    seq: int
    reported_late: bool = False

    def as_json(self) -> dict:
        return {"serial": self.serial, "centre": self.centre, "revoked_at": self.revoked_at.isoformat(),
                "reason": self.reason, "ground": self.ground, "reported_late": self.reported_late}


class RevocationListener(Protocol):
    """Told of each committed revocation in this process (the OCSP responder's cache)."""

    def revoked(self, centre_id: int, serial: str, revoked_at: dt.datetime, reason: str) -> None: ...


class Publisher(Protocol):
    def publish(self, code: str, *, after_revocation: bool = True) -> object: ...


# -- the storage the service uses (Boulder's per-role storage interface) -----------


class CertificateRows(Protocol):
    def by_serial(self, serial: str, issuer_id: int | None = None, *,
                  for_update: bool = False) -> list[CertificateRow]: ...
    def valid_issued_by(self, issuer_id: int) -> list[CertificateRow]: ...


class CentreRows(Protocol):
    def by_id(self, centre_id: int) -> CentreRow | None: ...
    def all(self) -> list[CentreRow]: ...   # read by the authority's issuing_ca(code, tx)


class Sequences(Protocol):
    def next(self, name: str) -> int: ...


class RevocationRows(Protocol):
    def add(self, row: RevocationRow) -> RevocationRow: ...
    def entries(self, centre_id: int) -> list[RevocationRow]: ...


class AuditTrail(Protocol):
    def append(self, *, at: dt.datetime, actor: str, action: str, subject: str,
               details: dict[str, Any] | None = None) -> int: ...


class RevocationStore(Protocol):
    """What revoking reads and writes in one unit of work (``registry.RegistryTransaction`` is one)."""

    @property
    def certificates(self) -> CertificateRows: ...
    @property
    def centres(self) -> CentreRows: ...
    @property
    def sequences(self) -> Sequences: ...
    @property
    def revocations(self) -> RevocationRows: ...
    @property
    def audit(self) -> AuditTrail: ...
    def flush(self) -> None: ...


class RevocationStorage(Protocol):
    """The registry as the revocation service sees it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[RevocationStore]: ...


class Centres(Protocol):
    """What revocation reads of the hierarchy (ca.hierarchy.Hierarchy)."""

    def issuing_ca(self, code: str, tx: RegistryTransaction | None = None) -> IssuingCA: ...


def normalise_serial(serial: str) -> str:
    """Hex as the registry keeps it: lower case, no colons or 0x, no leading zeros."""
    text = serial.strip().lower().replace(":", "")
    text = text[2:] if text.startswith("0x") else text
    text = text.lstrip("0") or "0"
    return text


class RevocationService:
    registry: RevocationStorage

    def __init__(self, registry: Registry, clock: Clock, centres: Centres, publisher: Publisher | None = None,
                 listeners: Iterable[RevocationListener] = ()) -> None:
        self.registry = registry
        self.clock = clock
        self.centres = centres
        self.publisher = publisher
        self.listeners = list(listeners)

    # -- checks --------------------------------------------------------------

    def _request_problems(self, request: RevocationRequest, serial: str) -> list[Problem]:
        problems: list[Problem] = []
        if not _SERIAL.match(serial):
            problems.append(Problem("serial", "must be the certificate's serial number in hex (at most 40 digits)"))
        ground = GROUNDS.get(request.ground)
        if ground is None:
            problems.append(Problem("ground", f"unknown ground {request.ground!r}; known: {', '.join(GROUNDS)}"))
        if request.reason is not None and request.reason not in REASONS:
            problems.append(Problem("reason", f"unknown reason {request.reason!r}; known: {', '.join(REASONS)}"))
        elif ground is not None and request.reason is not None and request.reason not in ground.reasons:
            problems.append(Problem("reason", f"a {ground.code} revocation takes one of: {', '.join(ground.reasons)}"))
        if request.centre is not None and request.centre not in CENTRES:
            problems.append(Problem("centre", f"unknown centre {request.centre!r}; known: {', '.join(CENTRES)}"))
        today = self.clock.now().astimezone(ALMATY).date()
        decision = request.court_decision
        if request.ground == COURT_DECISION:
            if decision is None or not decision.number.strip():
                problems.append(Problem("court_decision.number", "a court decision's number is required"))
            if decision is not None and decision.date > today:
                problems.append(Problem("court_decision.date", "a decision in force cannot be dated in the future"))
        elif decision is not None:
            problems.append(Problem("court_decision", "only a court-decision revocation takes a court decision"))
        if request.ground == LEFT_JOB:
            if request.left_job_on is None:
                problems.append(Problem("left_job_on", "GOV-5: the date the holder left the job is required"))
            elif request.left_job_on > today:
                problems.append(Problem("left_job_on", "cannot be in the future"))
        return problems

    def _certificate_problems(self, request: RevocationRequest, cert: CertificateRow, centre: str) -> list[Problem]:
        ground = GROUNDS[request.ground]
        problems = []
        if centre not in ground.centres:
            problems.append(Problem("ground", f"the {centre} centre does not revoke on {ground.code} "
                                              f"({ground.rule}); it is for: {', '.join(sorted(ground.centres))}"))
        is_ca = cert.profile in CA_PROFILES
        if ground.ca_level is True and not is_ca:
            problems.append(Problem("ground", f"{ground.code} applies to CA certificates only"))
        if ground.ca_level is False and is_ca:
            problems.append(Problem("ground", f"{ground.code} does not apply to CA certificates"))
        if cert.profile == "root-ca":
            problems.append(Problem("serial", "the root certificate has no issuer to revoke it; stop the hierarchy "
                                              "by withdrawing the root from trust stores"))
        if (centre == GOVERNMENT and request.ground == HOLDER_APPLICATION and cert.key_carrier in ("pkcs12", "token")
                and request.carrier_returned is None):
            problems.append(Problem("carrier_returned", "GOV-5: say whether the key carrier was returned"))
        return problems

    # -- revoking ------------------------------------------------------------

    def revoke(self, request: RevocationRequest) -> Revocation:
        """Revoke one certificate; raises InvalidInput listing every problem, and writes nothing then."""
        with self.registry.transaction() as tx:
            revocation, centre_id = self.revoke_in(tx, request)
        self.after_commit([(centre_id, revocation)])
        return revocation

    def _find(self, tx: RevocationStore, serial: str, centre: str | None) -> tuple[CertificateRow, str]:
        issuer_id = self.centres.issuing_ca(centre, tx).centre_id if centre else None
        rows = tx.certificates.by_serial(serial, issuer_id, for_update=True)
        if not rows:
            raise NotFound(f"no certificate with serial {serial}" + (f" at the {centre} centre" if centre else ""))
        if len(rows) > 1:
            raise InvalidInput("the serial is ambiguous", [Problem("centre", "name the issuing centre")])
        return rows[0], tx.centres.by_id(rows[0].issuer_id).code  # type: ignore[union-attr]

    def revoke_in(self, tx: RevocationStore, request: RevocationRequest) -> tuple[Revocation, int]:
        """Check and record one revocation inside the caller's unit of work; returns it and the issuer's id.

        The caller commits, then calls ``after_commit`` with the result.
        """
        cert, centre = self._checked(tx, request)
        if cert.profile in CA_PROFILES and not (request.approval is not None and request.approval.covers(
                CA_REVOCATION, request.actor, serial=cert.serial)):
            raise DualControlRequired(CA_REVOCATION, "revoking a CA certificate needs a second administrator's "
                                                     "approval (dual control): ask with POST /approvals")
        return self._record(tx, request, cert, centre), cert.issuer_id

    def check(self, request: RevocationRequest) -> tuple[str, str, bool]:
        """Every check of ``revoke`` without revoking: (serial, issuing centre, whether it is a CA certificate)."""
        with self.registry.transaction(readonly=True) as tx:
            cert, centre = self._checked(tx, request)
            return cert.serial, centre, cert.profile in CA_PROFILES

    def _checked(self, tx: RevocationStore, request: RevocationRequest) -> tuple[CertificateRow, str]:
        serial = normalise_serial(request.serial)
        problems = self._request_problems(request, serial)
        if problems:
            raise InvalidInput("the certificate cannot be revoked", problems)
        cert, centre = self._find(tx, serial, request.centre)
        problems = self._certificate_problems(request, cert, centre)
        if problems:
            raise InvalidInput("the certificate cannot be revoked", problems)
        if cert.status != CertificateStatus.VALID:
            raise ConflictError(f"certificate {serial} is already {cert.status}")
        if (cert.profile in CA_PROFILES or cert.holder.startswith("service:")) and not request.administrator:
            raise NotPermitted("revoking a CA or service certificate needs the administrator role")
        return cert, centre

    def _record(self, tx: RevocationStore, request: RevocationRequest, cert: CertificateRow,
                centre: str) -> Revocation:
        ground = GROUNDS[request.ground]
        reason = request.reason or ground.default_reason
        now = self.clock.now().replace(microsecond=0)
        today = now.astimezone(ALMATY).date()
        late = bool(request.left_job_on and (today - request.left_job_on).days > LEFT_JOB_REPORT_DAYS)
        seq = tx.sequences.next(REVOCATION_SEQUENCE)
        cert.status, cert.revoked_at, cert.revocation_reason = CertificateStatus.REVOKED, now, reason
        cert.single_key_holder = None   # GOV-4: the holder may now be given a new key
        decision = request.court_decision
        tx.revocations.add(RevocationRow(
            seq=seq, centre_id=cert.issuer_id, certificate_id=cert.id, serial=cert.serial, revoked_at=now,
            reason=reason, ground=ground.code, court_decision_number=decision.number if decision else None,
            court_decision_date=decision.date if decision else None, left_job_on=request.left_job_on,
            reported_late=late, carrier_returned=request.carrier_returned, application_id=request.application_id,
            holder_name=cert.common_name, state_body=request.state_body or cert.organisation,
            letter_number=request.letter_number, letter_date=request.letter_date, valid_from=cert.not_before,
            valid_to=cert.not_after, administrator=request.actor, recorded_at=now))
        tx.audit.append(at=now, actor=request.actor, action="certificate.revoked", subject=cert.serial,
                        details={"centre": centre, "reason": reason, "ground": ground.code, "seq": seq,
                                 "application_id": request.application_id,
                                 "court_decision": decision.number if decision else None,
                                 "reported_late": late,
                                 **({"approval": request.approval.id, "approved_by": request.approval.approved_by}
                                    if request.approval is not None else {})})
        return Revocation(serial=cert.serial, centre=centre, revoked_at=now, reason=reason, ground=ground.code,
                          seq=seq, reported_late=late)

    def after_commit(self, revocations: list[tuple[int, Revocation]]) -> None:
        for centre_id, revocation in revocations:
            for listener in self.listeners:
                try:
                    listener.revoked(centre_id, revocation.serial, revocation.revoked_at, revocation.reason)
                except Exception:  # noqa: BLE001 - the revocation stands; the watcher catches up
                    log.exception("revocation listener failed for %s", revocation.serial)
        if self.publisher is not None:
            for code in sorted({r.centre for _, r in revocations}):
                try:
                    self.publisher.publish(code, after_revocation=True)
                except Exception:  # noqa: BLE001 - committed; reconcile publishes it on the next round
                    log.exception("CRL publication after revocation failed for %s", code)

    # -- a centre stops work -------------------------------------------------

    def check_stop(self, code: str, *, administrator: bool) -> None:
        """Every check of ``stop_centre`` without stopping."""
        if not administrator:
            raise NotPermitted("stopping a centre needs the administrator role")
        if code not in CENTRES:
            raise InvalidInput("unknown centre", [Problem("centre", f"known: {', '.join(CENTRES)}")])
        with self.registry.transaction(readonly=True) as tx:
            self._running_centre(tx, code)

    def _running_centre(self, tx: RevocationStore, code: str):  # noqa: ANN202 - (IssuingCA, CentreRow)
        ca = self.centres.issuing_ca(code, tx)
        centre_row = tx.centres.by_id(ca.centre_id)
        if centre_row is None or centre_row.status == CentreStatus.STOPPED:
            raise ConflictError(f"the {code} centre has already stopped")
        return ca, centre_row

    def stop_centre(self, code: str, actor: str, *, administrator: bool,
                    approval: Approval | None = None) -> list[Revocation]:
        """Revoke every certificate the centre issued, then its own (NAT-5, ROOT-6), in one transaction.

        The centre is marked ``stopped`` and issues nothing more; revoking its
        CA certificate at the parent makes everything below fail validation.
        A second administrator must have approved (dual control, issue 8).
        """
        self.check_stop(code, administrator=administrator)
        if approval is None or not approval.covers(CENTRE_STOP, actor, centre=code):
            raise DualControlRequired(CENTRE_STOP, "stopping a centre needs a second administrator's approval "
                                                   "(dual control): ask with POST /approvals")
        done: list[tuple[int, Revocation]] = []
        with self.registry.transaction() as tx:
            ca, centre_row = self._running_centre(tx, code)
            for cert in tx.certificates.valid_issued_by(ca.centre_id):
                request = RevocationRequest(serial=cert.serial, actor=actor, ground=CENTRE_STOPPED,
                                            administrator=True)
                done.append((cert.issuer_id, self._record(tx, request, cert, code)))
            if code != ROOT:
                parent = self.centres.issuing_ca(ROOT, tx)
                own = tx.certificates.by_serial(centre_row.certificate_serial, parent.centre_id)
                if own and own[0].status == CertificateStatus.VALID:
                    request = RevocationRequest(serial=own[0].serial, actor=actor, ground=CENTRE_STOPPED,
                                                administrator=True, approval=approval)
                    done.append((own[0].issuer_id, self._record(tx, request, own[0], ROOT)))
            centre_row.status = CentreStatus.STOPPED
            tx.flush()
            tx.audit.append(at=self.clock.now(), actor=actor, action="centre.stopped", subject=code,
                            details={"revoked": len(done), "approval": approval.id,
                                     "approved_by": approval.approved_by})
        self.after_commit(done)
        return [r for _, r in done]

    # -- the revocation journal ---------------------------------------------

    def journal(self, centre: str) -> list[RevocationRow]:
        with self.registry.transaction() as tx:
            ca = self.centres.issuing_ca(centre, tx)
            return tx.revocations.entries(ca.centre_id)

    def journal_csv(self, centre: str) -> str:
        """The revocation journal (GOV-5, appendix 5 columns, plus the grounds) as CSV."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(JOURNAL_COLUMNS)
        for number, row in enumerate(self.journal(centre), start=1):
            writer.writerow([number, row.holder_name, row.state_body or "", row.letter_number or "",
                             _iso(row.letter_date), _iso(row.valid_from), _iso(row.valid_to), _iso(row.revoked_at),
                             row.serial, row.reason, row.ground, row.court_decision_number or "",
                             _iso(row.court_decision_date), _iso(row.left_job_on), str(row.reported_late).lower(),
                             "" if row.carrier_returned is None else str(row.carrier_returned).lower(),
                             row.administrator, _iso(row.recorded_at)])
        return out.getvalue()


def _iso(value: dt.date | dt.datetime | None) -> str:
    return value.isoformat() if value is not None else ""
