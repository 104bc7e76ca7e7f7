"""The job queue and the shared rate buckets on their own (issue 17, item 2), on SQLite and PostgreSQL.

Two queues with different worker names stand for two workers; a frozen
clock moves the leases on. tests/integration/test_shared_state.py runs the
same over real worker processes.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ca.clock import FrozenClock
from ca.jobs import JobQueue, NewJob, QueuePolicy, Schedule
from ca.rate_limit import RateLimited, RateLimiter, SharedBuckets
from tests.support.factors import services  # noqa: F401 - fixture

LEASE = dt.timedelta(seconds=30)


def _queues(services, handlers, **schedules):  # noqa: ANN001, ANN003
    clock = FrozenClock(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone.utc))
    policy = QueuePolicy(lease=LEASE, first_retry=dt.timedelta(seconds=5), max_attempts=3)
    made = [JobQueue(services.registry, clock, handlers, policy=policy, schedules=schedules, worker=name)
            for name in ("host-a:1", "host-b:2")]
    return clock, *made


def test_a_job_runs_once_and_a_dead_workers_job_is_taken_over_after_its_lease(services) -> None:
    runs: list[str] = []
    clock, a, b = _queues(services, {"note": lambda payload: runs.append(payload["text"])})
    job = a.enqueue(NewJob.of("note", text="hello"))
    claimed = a._claim()  # noqa: SLF001 - worker a claims it, then dies before running it
    assert [c.id for c in claimed] == [job] and a.job(job).status == "running"
    assert b.run_due() == 0 and runs == []    # leased: b leaves it alone
    clock.advance(LEASE + dt.timedelta(seconds=1))
    assert b.run_due() == 1 and runs == ["hello"]
    view = a.job(job)
    assert (view.status, view.attempts) == ("done", 2)   # the dead worker's attempt counted
    assert a._record(claimed[0], None) == 0  # noqa: SLF001 - the dead worker's late word changes nothing
    assert a.run_due() == b.run_due() == 0 and runs == ["hello"]


def test_a_failing_job_is_retried_with_backoff_then_dead(services) -> None:
    def broken(_payload) -> None:  # noqa: ANN001
        raise ValueError("no")

    clock, a, b = _queues(services, {"broken": broken})
    job = a.enqueue(NewJob.of("broken"))
    assert a.run_due() == 0 and a.job(job).status == "queued"
    assert b.run_due() == 0 and a.job(job).attempts == 1           # not due before 5 s
    clock.advance(dt.timedelta(seconds=5))
    assert b.run_due() == 0 and a.job(job).attempts == 2
    clock.advance(dt.timedelta(seconds=9))
    assert a.run_due() == 0 and a.job(job).attempts == 2           # the wait doubled: 10 s
    clock.advance(dt.timedelta(seconds=1))
    assert a.run_due() == 0
    dead = a.job(job)
    assert (dead.status, dead.attempts, dead.last_error) == ("dead", 3, "ValueError: no")
    assert [d.id for d in b.dead()] == [job] and a.depth().dead == 1
    clock.advance(dt.timedelta(hours=2))
    assert a.run_due() == b.run_due() == 0 and a.job(job).attempts == 3   # dead stays dead


def test_a_schedule_is_one_row_run_once_per_period_by_whichever_worker_claims_it(services) -> None:
    runs: list[int] = []
    clock, a, b = _queues(services, {"tick": lambda _payload: runs.append(1)},
                          ticking=Schedule("tick", 60, catch_up=True))
    a.ensure_schedules()
    b.ensure_schedules()                      # the second worker to start finds the row
    assert a.run_due() + b.run_due() == 1
    assert a.run_due() + b.run_due() == 0     # not before its next time
    clock.advance(dt.timedelta(seconds=60))
    assert b.run_due() + a.run_due() == 1 and len(runs) == 2
    with services.registry.transaction(readonly=True) as tx:
        (row,) = [r for r in tx.jobs.of_status("queued", kind="tick")]
        assert row.name == "ticking" and row.run_at == clock.now() + dt.timedelta(seconds=60)


def test_shared_buckets_let_the_burst_through_then_refuse_until_a_token_is_back(services) -> None:
    now = [1_000_000.0]
    shared = SharedBuckets(services.registry, clock=lambda: now[0])
    first, second = (RateLimiter(rate=1 / 6, burst=3, shared=shared, name="public") for _ in range(2))
    first.check("203.0.113.9")
    second.check("203.0.113.9")               # two limiters, as two workers: one bucket
    first.check("203.0.113.9")
    with pytest.raises(RateLimited) as refused:
        second.check("203.0.113.9")
    assert refused.value.retry_after == 6 and first.wait("203.0.113.9") == 6
    second.check("198.51.100.1")              # another address has its own bucket
    now[0] += 6
    assert second.wait("203.0.113.9") is None
    first.check("203.0.113.9")
    with pytest.raises(RateLimited):
        first.check("203.0.113.9")
    now[0] += 3600
    assert shared.prune() == 2                # full again: forgotten
