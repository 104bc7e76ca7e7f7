"""Dual control (issue 8): a second, different administrator approves before the action runs.

Revoking a CA certificate, stopping a centre, creating or retiring a CA key
and changing the signing policy are asked for by one administrator and carried out only
when another approves, as EJBCA's and Dogtag's approval workflows do. The
request fixes what will be done (the action and its parameters, checked
when asked, so a bad request is refused at once and never waits); the
approver sees exactly that.

A decision happens once: approving locks the request's row, turns it from
``pending`` into ``approved`` and commits; only then does the action run,
and its outcome (``executed`` with the result, or ``failed`` with the
reason) is recorded. A second approval, concurrent or later, finds the
request no longer pending and is refused; so is an approval by the person
who asked, by anyone without the administrator role, or after the request
lapsed. A rejection (or the requester withdrawing) ends the request and
nothing is done. Every step is an audit entry.

The actions themselves (what "revoke a CA certificate" does) are data
given by the wiring; the services that carry them out demand the
:class:`Approval` this module hands to the action (ca/revocation.py), so
the single-person path is closed below the HTTP and CLI layers too.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ca.clock import Clock
from ca.errors import ConflictError, InvalidInput, NotFound, NotPermitted, Problem, QoltanbaError
from registry import ApprovalRow, Registry

PENDING, APPROVED, EXECUTED, FAILED, REJECTED, EXPIRED = (
    "pending", "approved", "executed", "failed", "rejected", "expired")
STATUSES = (PENDING, APPROVED, EXECUTED, FAILED, REJECTED, EXPIRED)


class DualControlRequired(QoltanbaError):
    """The action needs a second administrator's approval; ask for it (POST /approvals)."""

    def __init__(self, action: str, detail: str) -> None:
        super().__init__("dual-control-required", detail, [])
        self.action = action


@dataclass(frozen=True)
class Approval:
    """Evidence that two different administrators agreed to one action with these parameters.

    Made only by :meth:`DualControl.approve` and handed to the action; the
    service carrying it out checks it names that action and two people.
    """

    id: str
    action: str
    params: Mapping[str, Any]
    requested_by: str
    approved_by: str

    def covers(self, action: str, requester: str, **params: Any) -> bool:
        return (self.action == action and self.requested_by == requester and bool(self.approved_by)
                and self.approved_by != self.requested_by
                and all(self.params.get(k) == v for k, v in params.items()))


@dataclass(frozen=True)
class Action:
    """One dual-controlled action: ``check`` validates the parameters when asked (raising
    InvalidInput, NotFound or ConflictError) and returns the subject and the parameters to keep;
    ``run`` carries it out with the approval and returns what it did."""

    name: str
    summary: str
    check: Callable[[dict, str], tuple[str, dict]]
    run: Callable[[dict, Approval], dict]


@dataclass(frozen=True)
class ApprovalView:
    id: str
    action: str
    subject: str
    params: dict
    status: str
    requested_by: str
    requested_at: dt.datetime
    expires_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    note: str | None
    result: dict | None

    @classmethod
    def of(cls, row: ApprovalRow, now: dt.datetime) -> "ApprovalView":
        status = EXPIRED if row.status == PENDING and now >= row.expires_at else row.status
        return cls(row.public_id, row.action, row.subject, dict(row.params), status, row.requested_by,
                   row.requested_at, row.expires_at, row.decided_by, row.decided_at, row.note,
                   dict(row.result) if row.result is not None else None)

    def as_json(self) -> dict:
        return {"id": self.id, "action": self.action, "subject": self.subject, "params": self.params,
                "status": self.status, "requested_by": self.requested_by,
                "requested_at": self.requested_at.isoformat(), "expires_at": self.expires_at.isoformat(),
                "decided_by": self.decided_by, "decided_at": self.decided_at.isoformat() if self.decided_at else None,
                "note": self.note, "result": self.result}


class DualControl:
    def __init__(self, registry: Registry, clock: Clock, ttl: dt.timedelta,
                 actions: Mapping[str, Action] | None = None) -> None:
        self.registry = registry
        self.clock = clock
        self.ttl = ttl
        self.actions: dict[str, Action] = dict(actions or {})

    def register(self, action: Action) -> None:
        self.actions[action.name] = action

    def _action(self, name: str) -> Action:
        action = self.actions.get(name)
        if action is None:
            raise InvalidInput("unknown action", [Problem("action", f"known: {', '.join(sorted(self.actions))}")])
        return action

    # -- asking --------------------------------------------------------------------

    def request(self, action_name: str, params: Mapping[str, Any], by: str, *, administrator: bool) -> ApprovalView:
        """Record a pending request; checks the parameters first, so a bad one is refused and nothing kept."""
        action = self._action(action_name)
        if not administrator:
            raise NotPermitted(f"only an administrator may ask for {action_name}")
        subject, kept = action.check(dict(params), by)
        now = self.clock.now().replace(microsecond=0)
        with self.registry.transaction() as tx:
            row = tx.approvals.add(ApprovalRow(
                public_id=secrets.token_hex(8), action=action_name, subject=subject[:200], params=kept,
                status=PENDING, requested_by=by, requested_at=now, expires_at=now + self.ttl))
            tx.audit.append(at=now, actor=by, action="approval.requested", subject=f"approval:{row.public_id}",
                            details={"action": action_name, "subject": row.subject, "params": kept,
                                     "expires_at": row.expires_at.isoformat()})
            return ApprovalView.of(row, now)

    # -- deciding ------------------------------------------------------------------

    def approve(self, approval_id: str, by: str, *, administrator: bool) -> ApprovalView:
        """The second administrator's approval: the action runs now, once."""
        now = self.clock.now().replace(microsecond=0)
        refusal: QoltanbaError | None = None
        with self.registry.transaction() as tx:
            row = self._existing(tx, approval_id)
            if row.status != PENDING:
                refusal = ConflictError(f"approval {approval_id} is already {row.status}; a decision is taken once")
            elif not administrator:
                refusal = NotPermitted("only an administrator may approve")
            elif now >= row.expires_at:
                row.status, row.finished_at = EXPIRED, now
                refusal = ConflictError(f"approval {approval_id} lapsed at {row.expires_at.isoformat()}; ask again")
            elif by == row.requested_by:
                refusal = NotPermitted("dual control: a second, different administrator must approve; "
                                       f"{by} asked for this")
            if refusal is not None:
                tx.audit.append(at=now, actor=by, action="approval.refused", subject=f"approval:{approval_id}",
                                details={"action": row.action, "why": refusal.detail})
            else:
                row.status, row.decided_by, row.decided_at = APPROVED, by, now
                tx.audit.append(at=now, actor=by, action="approval.approved", subject=f"approval:{approval_id}",
                                details={"action": row.action, "requested_by": row.requested_by})
            approval = Approval(row.public_id, row.action, dict(row.params), row.requested_by, by)
        if refusal is not None:
            raise refusal
        # Committed as approved: a second approval now finds nothing pending. Then the action runs.
        try:
            result = self._action(approval.action).run(dict(approval.params), approval)
        except QoltanbaError as error:
            self._finish(approval_id, FAILED, {"error": error.code, "detail": str(error)}, by)
            raise
        except Exception as error:
            self._finish(approval_id, FAILED, {"error": "internal", "detail": type(error).__name__}, by)
            raise
        return self._finish(approval_id, EXECUTED, result, by)

    def reject(self, approval_id: str, by: str, note: str | None, *, administrator: bool) -> ApprovalView:
        """A second administrator refuses (or the requester withdraws): nothing is done."""
        now = self.clock.now().replace(microsecond=0)
        refusal: QoltanbaError | None = None
        with self.registry.transaction() as tx:
            row = self._existing(tx, approval_id)
            if row.status != PENDING:
                refusal = ConflictError(f"approval {approval_id} is already {row.status}; a decision is taken once")
            elif not administrator:
                refusal = NotPermitted("only an administrator may reject")
            if refusal is not None:
                tx.audit.append(at=now, actor=by, action="approval.refused", subject=f"approval:{approval_id}",
                                details={"action": row.action, "why": refusal.detail})
            else:
                row.status, row.decided_by, row.decided_at, row.note, row.finished_at = REJECTED, by, now, note, now
                tx.audit.append(at=now, actor=by, action="approval.rejected", subject=f"approval:{approval_id}",
                                details={"action": row.action, "withdrawn": by == row.requested_by, "note": note})
            view = ApprovalView.of(row, now)
        if refusal is not None:
            raise refusal
        return view

    @staticmethod
    def _existing(tx, approval_id: str) -> ApprovalRow:  # noqa: ANN001 - RegistryTransaction
        # The row lock makes one decision win when two arrive at once; the other then sees it decided.
        row = tx.approvals.by_public_id(approval_id, for_update=True)
        if row is None:
            raise NotFound(f"no approval request {approval_id}")
        return row

    def _finish(self, approval_id: str, status: str, result: dict, by: str) -> ApprovalView:
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = tx.approvals.by_public_id(approval_id, for_update=True)
            assert row is not None
            row.status, row.result, row.finished_at = status, result, now
            tx.audit.append(at=now, actor=by, action=f"approval.{status}", subject=f"approval:{approval_id}",
                            details={"action": row.action, "requested_by": row.requested_by, "result": result})
            return ApprovalView.of(row, now)

    # -- reading -------------------------------------------------------------------

    def get(self, approval_id: str) -> ApprovalView:
        with self.registry.transaction(readonly=True) as tx:
            row = tx.approvals.by_public_id(approval_id)
            if row is None:
                raise NotFound(f"no approval request {approval_id}")
            return ApprovalView.of(row, self.clock.now())

    def list(self, status: str | None = None, limit: int = 100) -> list[ApprovalView]:
        now = self.clock.now()
        stored = PENDING if status == EXPIRED else status
        with self.registry.transaction(readonly=True) as tx:
            views = [ApprovalView.of(row, now) for row in tx.approvals.search(status=stored, limit=limit)]
        return [v for v in views if status is None or v.status == status]

    def is_administrator(self, name: str) -> bool:
        """Whether ``name`` is an active administrator: a console user or an API key's actor."""
        with self.registry.transaction(readonly=True) as tx:
            person = tx.people.by_name(name)
            if person is not None:
                return person.active and person.role == "administrator"
            actor = tx.actors.by_name(name)
            return actor is not None and actor.active and actor.role == "administrator"


__all__ = ["Action", "Approval", "ApprovalView", "DualControl", "DualControlRequired", "STATUSES"]
