"""Background work done once across every worker and host: a job queue on the registry (issue 17, item 2).

Every serving process runs one consumer loop (the dispatcher,
signing/webhooks/service.py) that claims due jobs from the ``jobs`` table
and runs them; whichever worker claims a job first runs it, and no other
does while its lease lasts:

- **claim**: queued rows whose ``run_at`` has come, and running rows whose
  lease ran out (their worker died), are locked with ``SELECT ... FOR
  UPDATE SKIP LOCKED`` (PostgreSQL; SQLite's single writer serialises the
  claim) and moved to ``running`` with a lease of ``QueuePolicy.lease``;
  the attempt is counted when it is claimed, so a job that kills its worker
  each time still runs out of attempts;
- **done**: a one-off job is ``done``; a scheduled job (a row with
  ``every_seconds``, one per name) goes back to ``queued`` at its next time;
- **failure**: retried after ``first_retry`` doubled at each attempt (capped
  at ``max_retry``; a scheduled job's at its period); after
  ``max_attempts`` a one-off job lands in ``dead``, the dead-letter state,
  kept with its last error for an operator (``depth()`` counts it: GET
  /readyz and /metrics show it). A scheduled job is never dead: it waits
  for its next time.

We looked at procrastinate (PostgreSQL's LISTEN/NOTIFY and SKIP LOCKED):
it needs PostgreSQL, and the embedded home is SQLite, so the queue is this
small module over the registry both engines share.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from ca.clock import Clock
from registry import JobRow, JobStatus

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, DEAD = JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE, JobStatus.DEAD
Handler = Callable[[dict[str, Any]], object]


class Jobs(Protocol):
    def add(self, row: JobRow) -> JobRow: ...
    def schedule(self, *, kind: str, name: str, every: float, now: dt.datetime, max_attempts: int,
                 first: dt.datetime | None = None) -> None: ...
    def claimable(self, now: dt.datetime, limit: int) -> list[JobRow]: ...
    def by_id(self, job_id: int, *, for_update: bool = False) -> JobRow | None: ...
    def by_name(self, name: str) -> JobRow | None: ...
    def of_status(self, status: str, *, kind: str | None = None, limit: int = 100) -> list[JobRow]: ...
    def depth(self, now: dt.datetime) -> dict[str, int]: ...


class JobStore(Protocol):
    @property
    def jobs(self) -> Jobs: ...


class JobStorage(Protocol):
    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[JobStore]: ...


@dataclass(frozen=True)
class QueuePolicy:
    lease: dt.timedelta = dt.timedelta(seconds=60)
    first_retry: dt.timedelta = dt.timedelta(seconds=5)
    max_retry: dt.timedelta = dt.timedelta(hours=1)
    max_attempts: int = 5
    batch: int = 10

    def __post_init__(self) -> None:
        if self.lease <= dt.timedelta(0) or self.first_retry <= dt.timedelta(0) or self.max_retry < self.first_retry:
            raise ValueError("the queue needs a positive lease and 0 < first_retry <= max_retry")
        if not 1 <= self.max_attempts <= 50 or self.batch < 1:
            raise ValueError("max_attempts must be 1-50 and the batch at least 1")

    def backoff(self, attempts: int) -> dt.timedelta:
        """Wait after the ``attempts``-th failure: first_retry, doubled each time, capped."""
        return min(self.first_retry * (2 ** (attempts - 1)), self.max_retry)


@dataclass(frozen=True)
class Schedule:
    """A job that runs every ``every`` seconds; ``catch_up``: brought forward when a worker starts."""

    kind: str
    every: float
    catch_up: bool = False


@dataclass(frozen=True)
class NewJob:
    """A one-off job to enqueue: its kind, its payload (JSON values), when it may run, how often it is tried."""

    kind: str
    payload: tuple[tuple[str, Any], ...] = ()
    at: dt.datetime | None = None
    max_attempts: int | None = None

    @classmethod
    def of(cls, kind: str, *, at: dt.datetime | None = None, max_attempts: int | None = None,
           **payload: Any) -> NewJob:
        return cls(kind, tuple(sorted(payload.items())), at, max_attempts)


@dataclass(frozen=True)
class QueueDepth:
    queued: int
    running: int
    done: int
    dead: int
    due: int

    def as_json(self) -> dict[str, int]:
        return {"queued": self.queued, "running": self.running, "done": self.done, "dead": self.dead,
                "due": self.due}


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    name: str | None
    status: str
    attempts: int
    last_error: str | None
    run_at: dt.datetime

    @classmethod
    def of(cls, row: JobRow) -> JobView:
        return cls(row.id, row.kind, row.name, row.status, row.attempts, row.last_error, row.run_at)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "status": self.status,
                "attempts": self.attempts, "last_error": self.last_error, "run_at": self.run_at.isoformat()}


@dataclass(frozen=True)
class _Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    every: float | None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


class JobQueue:
    def __init__(self, registry: JobStorage, clock: Clock, handlers: Mapping[str, Handler], *,
                 policy: QueuePolicy | None = None, schedules: Mapping[str, Schedule] | None = None,
                 worker: str | None = None) -> None:
        self.registry = registry
        self.clock = clock
        self.handlers = dict(handlers)
        self.policy = policy or QueuePolicy()
        self.schedules = dict(schedules or {})
        self.worker = worker or worker_name()
        unknown = {s.kind for s in self.schedules.values()} - set(self.handlers)
        if unknown:
            raise ValueError(f"scheduled jobs without a handler: {sorted(unknown)}")

    # -- putting work in -----------------------------------------------------------------

    def enqueue(self, job: NewJob, *, tx: JobStore | None = None) -> int:
        """A one-off job, in the caller's unit of work when ``tx`` is given (then it runs only if that commits)."""
        if job.kind not in self.handlers:
            raise ValueError(f"no handler for jobs of kind {job.kind!r}")
        now = self.clock.now()
        row = JobRow(kind=job.kind, payload=dict(job.payload), status=QUEUED, attempts=0,
                     max_attempts=job.max_attempts or self.policy.max_attempts, run_at=job.at or now, created_at=now)
        if tx is not None:
            return tx.jobs.add(row).id
        with self.registry.transaction() as own:
            return own.jobs.add(row).id

    def ensure_schedules(self) -> None:
        """Every schedule is a row (made once, whichever worker starts first); catch-up ones are due now."""
        now = self.clock.now()
        with self.registry.transaction() as tx:
            for name, schedule in self.schedules.items():   # in their order: the CRLs before the checkpoint
                first = now if schedule.catch_up else now + dt.timedelta(seconds=schedule.every)
                tx.jobs.schedule(kind=schedule.kind, name=name, every=schedule.every, now=now, first=first,
                                 max_attempts=self.policy.max_attempts)
                row = tx.jobs.by_name(name)
                if schedule.catch_up and row is not None and row.status == QUEUED and row.run_at > now:
                    row.run_at = now

    # -- running it ----------------------------------------------------------------------

    def run_due(self) -> int:
        """Claim what is due (at most ``policy.batch``), run each, record each; returns how many succeeded."""
        done = 0
        for job in self._claim():
            error = self._run(job)
            done += self._record(job, error)
        return done

    def _claim(self) -> list[_Claimed]:
        now = self.clock.now()
        lease_end = now + self.policy.lease
        claimed = []
        with self.registry.transaction() as tx:
            for row in tx.jobs.claimable(now, self.policy.batch):
                if row.kind not in self.handlers:
                    continue   # another version's job: left for a worker that knows it
                if row.status == RUNNING and row.attempts >= row.max_attempts:
                    # Its worker died during the last attempt: no attempt is left.
                    self._give_up(row, now, row.last_error or "the worker running it stopped (lease ran out)")
                    continue
                row.status, row.attempts = RUNNING, row.attempts + 1
                row.run_at, row.leased_until, row.leased_by = lease_end, lease_end, self.worker
                claimed.append(_Claimed(row.id, row.kind, dict(row.payload or {}), row.attempts, row.max_attempts,
                                        row.every_seconds))
        return claimed

    def _run(self, job: _Claimed) -> str | None:
        try:
            self.handlers[job.kind](job.payload)
        except Exception as error:  # noqa: BLE001 - a job's failure is recorded, never raised into the loop
            log.warning("job %s (%s) failed, attempt %d of %d: %s", job.id, job.kind, job.attempts,
                        job.max_attempts, type(error).__name__)
            return f"{type(error).__name__}: {error}"[:500]
        return None

    def _record(self, job: _Claimed, error: str | None) -> int:
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = tx.jobs.by_id(job.id, for_update=True)
            if row is None or row.status != RUNNING or row.leased_by != self.worker or row.attempts != job.attempts:
                return 0   # the lease ran out and another worker took the job over
            row.leased_until = row.leased_by = None
            row.last_error = error
            if error is None:
                if row.every_seconds is None:
                    row.status, row.finished_at = DONE, now
                else:
                    row.status, row.attempts, row.run_at = QUEUED, 0, now + dt.timedelta(seconds=row.every_seconds)
                return 1
            if row.every_seconds is not None:
                period = dt.timedelta(seconds=row.every_seconds)
                wait = min(self.policy.backoff(row.attempts), period) if row.attempts < row.max_attempts else period
                row.status, row.run_at = QUEUED, now + wait
                if row.attempts >= row.max_attempts:
                    row.attempts = 0
            elif row.attempts >= row.max_attempts:
                self._give_up(row, now, error)
            else:
                row.status, row.run_at = QUEUED, now + self.policy.backoff(row.attempts)
            return 0

    def _give_up(self, row: JobRow, now: dt.datetime, error: str) -> None:
        if row.every_seconds is not None:
            row.status, row.attempts = QUEUED, 0
            row.run_at = now + dt.timedelta(seconds=row.every_seconds)
        else:
            row.status, row.finished_at = DEAD, now
            log.error("job %s (%s) is dead after %d attempts: %s", row.id, row.kind, row.attempts, error)
        row.last_error, row.leased_until, row.leased_by = error, None, None

    # -- looking at it -------------------------------------------------------------------

    def depth(self) -> QueueDepth:
        """Rows per status (queued, running, done, dead) and ``due``: queued ones whose time has come."""
        with self.registry.transaction(readonly=True) as tx:
            return QueueDepth(**tx.jobs.depth(self.clock.now()))

    def dead(self, kind: str | None = None) -> list[JobView]:
        with self.registry.transaction(readonly=True) as tx:
            return [JobView.of(row) for row in tx.jobs.of_status(DEAD, kind=kind)]

    def job(self, job_id: int) -> JobView | None:
        with self.registry.transaction(readonly=True) as tx:
            row = tx.jobs.by_id(job_id)
            return JobView.of(row) if row else None


__all__ = ["DEAD", "DONE", "QUEUED", "RUNNING", "Handler", "JobQueue", "JobStorage", "JobStore", "JobView",
           "NewJob", "QueueDepth", "QueuePolicy", "Schedule", "worker_name"]
