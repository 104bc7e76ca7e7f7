"""Members of ``Services`` for background work and shared state (issue 17, item 2).

- ``queue``: the job queue every worker shares (ca/jobs.py); the scheduled
  jobs (CRL schedule, audit checkpoints, expiry of signing requests,
  finishing interrupted ones, retention, pruning of rate buckets and old
  jobs) are rows of it, run by whichever worker claims them;
- ``dispatcher``: this process's consumer loop: due webhook deliveries (their
  own queue, ``webhook_deliveries``, with its lease) and due jobs;
- ``housekeeper``: what concerns this process's memory only (its OCSP cache
  follows revocations; its count of rejected credentials is written);
- ``rate_buckets``: the token buckets in the registry, for every limit.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ca.housekeeping import Housekeeper
from ca.jobs import JobQueue, QueuePolicy, Schedule
from ca.rate_limit import SharedBuckets
from signing.webhooks import Dispatcher

if TYPE_CHECKING:
    from api.settings import Settings
    from ca.audit_checkpoints import AuditCheckpoints
    from ca.auth_failures import AuthFailures
    from ca.clock import Clock
    from ca.publication import CRLPublisher
    from ca.responder import OCSPResponder
    from ca.retention import RetentionService
    from registry import Registry
    from signing.requests import SigningRequests
    from signing.requests.completion import ClientSigning
    from signing.webhooks import WebhookService

DAY = 24 * 3600.0


class Background:
    """``Services`` provides what these are built from."""

    settings: Settings
    registry: Registry
    clock: Clock
    publisher: CRLPublisher
    responder: OCSPResponder
    audit_checkpoints: AuditCheckpoints
    auth_failures: AuthFailures
    retention: RetentionService
    signing_requests: SigningRequests
    client_signing: ClientSigning
    webhooks: WebhookService

    @cached_property
    def rate_buckets(self) -> SharedBuckets:
        return SharedBuckets(self.registry)

    def job_handlers(self) -> dict[str, Any]:
        """Each kind of job and what runs it; a handler takes the job's payload."""
        return {
            "crl.reconcile": lambda _payload: self.publisher.reconcile(),
            "audit.checkpoint": lambda _payload: self.audit_checkpoints.checkpoint_if_due(),
            "requests.expire": lambda _payload: self.signing_requests.expire_due(),
            "requests.finish": lambda _payload: self.client_signing.finish_interrupted(),
            "retention.run": lambda _payload: self.retention.run(actor="retention-schedule"),
            "rate_buckets.prune": lambda _payload: self.rate_buckets.prune(),
            "jobs.forget_done": lambda _payload: self._forget_done(),
        }

    def job_schedules(self) -> dict[str, Schedule]:
        s = self.settings
        schedules = {
            "crl-schedule": Schedule("crl.reconcile", s.crl_schedule_seconds, catch_up=True),
            "audit-checkpoint": Schedule("audit.checkpoint", 1.0, catch_up=True),
            "requests-expiry": Schedule("requests.expire", s.webhook_poll_seconds),
            "requests-finish": Schedule("requests.finish", 5.0),
            "rate-buckets-prune": Schedule("rate_buckets.prune", 600.0),
            "jobs-forget-done": Schedule("jobs.forget_done", DAY),
        }
        if s.retention_schedule_hours:
            schedules["retention"] = Schedule("retention.run", s.retention_schedule_hours * 3600)
        return schedules

    @cached_property
    def queue(self) -> JobQueue:
        s = self.settings
        policy = QueuePolicy(lease=dt.timedelta(seconds=s.job_lease_seconds), max_attempts=s.job_max_attempts,
                             first_retry=dt.timedelta(seconds=s.job_first_retry_seconds))
        return JobQueue(self.registry, self.clock, self.job_handlers(), policy=policy,
                        schedules=self.job_schedules())

    def _forget_done(self) -> int:
        with self.registry.transaction() as tx:
            return tx.jobs.forget_done(self.clock.now() - dt.timedelta(days=7))

    @cached_property
    def dispatcher(self) -> Dispatcher:
        """This process's consumer of the shared queues: webhook deliveries first, then due jobs."""
        return Dispatcher(self.webhooks, [self.webhooks.deliver_due, self.queue.run_due],
                          poll=self.settings.webhook_poll_seconds, start=self._catch_up)

    def _catch_up(self) -> None:
        """When a worker starts: the schedules are rows, and what is due now (the CRLs and the checkpoint a
        crash or a stop left due) is done before it serves, by this worker unless another claimed it."""
        self.queue.ensure_schedules()
        self.queue.run_due()

    @cached_property
    def housekeeper(self) -> Housekeeper:
        # This process's own: its OCSP cache, its host's CRL files after another process's revocation and
        # its host's stale OCSP answer files (issue 17, item 1), its count of rejected credentials.
        return Housekeeper(self.responder, poll=self.settings.status_poll_seconds,
                           sweep=self.settings.crl_schedule_seconds, exporter=self.publisher,
                           duties=[(self.auth_failures.flush, self.settings.auth_failure_summary_minutes * 60)])
