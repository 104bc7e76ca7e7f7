"""The state every worker shares (issue 17, item 2): the job queue, the rate buckets, the SMS outbox.

The queue's claim is ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL
(workers take different rows without waiting for each other) and the single
writer on SQLite (every writing unit of work begins IMMEDIATE, registry/db.py).
A ``running`` row's ``run_at`` is the end of its lease, so one index
(status, run_at) finds both the due rows and the rows whose worker died.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, bindparam, delete, false, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite

from registry.models import JobRow, JobStatus, RateBucketRow, SMSOutboxRow
from registry.repositories.base import _Repository, built
from registry.sealing import digest

_WAITING = (JobStatus.QUEUED, JobStatus.RUNNING)


def _insert(dialect: str):  # noqa: ANN202 - the dialect's INSERT with ON CONFLICT
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class JobRepository(_Repository):
    def add(self, row: JobRow) -> JobRow:
        return self._add(row)

    def schedule(self, *, kind: str, name: str, every: float, now: dt.datetime, max_attempts: int,
                 first: dt.datetime | None = None) -> None:
        """The scheduled job ``name`` exists (first run at ``first``, default now) and runs every ``every`` s."""
        connection = self._tx.connection
        statement = _insert(connection.dialect.name)(JobRow.__table__).values(
            kind=kind, name=name, payload={}, status=JobStatus.QUEUED, attempts=0, max_attempts=max_attempts,
            every_seconds=every, run_at=first or now, created_at=now)
        self._session.execute(statement.on_conflict_do_update(
            index_elements=["name"], set_={"every_seconds": every, "kind": kind, "max_attempts": max_attempts}))

    def claimable(self, now: dt.datetime, limit: int) -> list[JobRow]:
        """Queued rows whose time has come and running rows past their lease, locked; others skip them."""
        stmt = (select(JobRow).where(JobRow.status.in_(_WAITING), JobRow.run_at <= now)
                .order_by(JobRow.run_at, JobRow.id).limit(limit).with_for_update(skip_locked=True))
        return list(self._session.execute(stmt).scalars())

    def by_id(self, job_id: int, *, for_update: bool = False) -> JobRow | None:
        stmt = select(JobRow).where(JobRow.id == job_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def by_name(self, name: str) -> JobRow | None:
        return self._session.execute(select(JobRow).where(JobRow.name == name)).scalar_one_or_none()

    def of_status(self, status: str, *, kind: str | None = None, limit: int = 100) -> list[JobRow]:
        stmt = select(JobRow).where(JobRow.status == status)
        if kind is not None:
            stmt = stmt.where(JobRow.kind == kind)
        return list(self._session.execute(stmt.order_by(JobRow.id).limit(limit)).scalars())

    def depth(self, now: dt.datetime) -> dict[str, int]:
        """How many rows in each status, and ``due``: queued rows whose time has come (on the status index)."""
        due = func.count().filter(JobRow.run_at <= now)
        found = {status: (int(total), int(late or 0)) for status, total, late in
                 self._session.execute(select(JobRow.status, func.count(), due).group_by(JobRow.status))}
        counts = {str(status): found.get(status, (0, 0))[0] for status in JobStatus}
        counts["due"] = found.get(JobStatus.QUEUED, (0, 0))[1]
        return counts

    def forget_done(self, before: dt.datetime) -> int:
        """Delete one-off jobs that finished before ``before`` (scheduled rows are never done)."""
        stmt = delete(JobRow).where(JobRow.status == JobStatus.DONE, JobRow.finished_at < before)
        return int(self._session.execute(stmt).rowcount or 0)


# One statement per dialect, written once: building it with the expression language cost more than running it
# (about 0.5 ms of a 0.75 ms request on SQLite). GREATEST is PostgreSQL's, two-argument MAX SQLite's.
_TAKE = {name: text(
    "INSERT INTO rate_buckets (bucket, key, tat) VALUES (:bucket, :key, :now + :interval) "
    "ON CONFLICT (bucket, key) DO UPDATE SET tat = " + name + "(rate_buckets.tat, :now) + :interval "
    "WHERE " + name + "(rate_buckets.tat, :now) - :now <= :tolerance RETURNING tat")
    for name in ("greatest", "max")}


class RateBucketRepository(_Repository):
    """Token buckets as the generic cell rate algorithm (GCRA, ITU-T I.371): one row, one statement a request.

    Core statements on the unit of work's connection (no ORM session): this runs once per limited request.
    """

    def take(self, bucket: str, key: str, *, interval: float, tolerance: float, now: float) -> float | None:
        """Let one request of ``key`` through (None), or the seconds until one would be; atomic across workers.

        ``interval`` is 1/rate, ``tolerance`` (burst - 1) x interval. The row's
        ``tat`` moves on by one interval for each request let through; a
        request is refused, and nothing changes, while ``tat - now`` exceeds
        the tolerance.
        """
        connection = self._tx.connection
        statement = _TAKE["greatest" if connection.dialect.name == "postgresql" else "max"]
        found = connection.execute(statement, {"bucket": bucket, "key": key, "now": now, "interval": interval,
                                               "tolerance": tolerance}).first()
        if found is not None:
            return None
        return self.wait(bucket, key, tolerance=tolerance, now=now)

    def wait(self, bucket: str, key: str, *, tolerance: float, now: float) -> float | None:
        """Seconds until ``key`` may go again, or None when it may now; nothing is taken."""
        table = RateBucketRow.__table__
        stmt = built(("rate bucket",), lambda: select(table.c.tat).where(table.c.bucket == bindparam("bucket"),
                                                                          table.c.key == bindparam("key")))
        tat = self._tx.connection.execute(stmt, {"bucket": bucket, "key": key}).scalar_one_or_none()
        if tat is None or tat - now <= tolerance:
            return None
        return tat - now - tolerance

    def prune(self, now: float) -> int:
        """Delete buckets that are full again: they carry no information."""
        table = RateBucketRow.__table__
        return int(self._tx.connection.execute(delete(table).where(table.c.tat <= now)).rowcount or 0)


class SMSOutboxRepository(_Repository):
    def add(self, row: SMSOutboxRow) -> SMSOutboxRow:
        return self._add(row)

    def messages(self, *, tenant: str | None = None, phone: str | None = None,
                 limit: int = 1000) -> Sequence[SMSOutboxRow]:
        """The newest ``limit`` messages, oldest first; to ``phone``: through its keyed hash in each tenant."""
        stmt = select(SMSOutboxRow)
        if tenant is not None:
            stmt = stmt.where(SMSOutboxRow.tenant == tenant)
        if phone is not None:
            tenants = [tenant] if tenant is not None else \
                self._session.execute(select(SMSOutboxRow.tenant).distinct()).scalars().all()
            stmt = stmt.where(or_(false(), *(and_(SMSOutboxRow.tenant == t, SMSOutboxRow.phone_digest ==
                                                  digest(self._session, t, "phone", phone)) for t in tenants)))
        newest = list(self._session.execute(stmt.order_by(SMSOutboxRow.id.desc()).limit(limit)).scalars())
        return newest[::-1]

    def keep_newest(self, count: int) -> int:
        """Delete all but the newest ``count`` messages."""
        last = self._session.execute(select(func.max(SMSOutboxRow.id))).scalar_one_or_none()
        if last is None:
            return 0
        stmt = delete(SMSOutboxRow).where(SMSOutboxRow.id <= last - count)
        return int(self._session.execute(stmt).rowcount or 0)
