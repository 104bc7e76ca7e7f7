"""Status changes pushed to the MFO backend's webhook: signed, retried, idempotent (issue 5).

An event is written as a delivery row in the same transaction as the change
it reports (an outbox), so no change goes unreported and no report precedes
its change. Deliveries are sent afterwards by whichever serving process
claims them first (a lease on the row), outside any transaction.

Each POST carries the JSON body and three headers:

    X-Qoltanba-Delivery   the delivery id: the same on every retry; receivers deduplicate on it
    X-Qoltanba-Timestamp  seconds since 1970 when this attempt was signed
    X-Qoltanba-Signature  sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

The secret is made when the MFO registers its URL, shown once, and kept
sealed under a key derived from the master key. The URL's host may not be or
resolve to a link-local, cloud metadata, loopback or private address (the
last two allowed in embedded mode), checked when it is registered and again
at each delivery, connecting only to the address checked
(signing/webhooks/addresses.py). Any 2xx answer delivers;
anything else is retried with exponential backoff until the attempts run
out, and the delivery is then marked failed (the dead-letter state: kept,
counted by GET /readyz and /metrics). An attempt counts when a worker claims
the delivery; a worker killed while sending leaves the row leased until
``WebhookPolicy.lease`` runs out, and then another worker sends it again
with the same delivery id (issue 17, item 2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ca.errors import InvalidInput, Problem
from registry import WebhookDeliveryRow, WebhookDeliveryStatus, WebhookEndpointRow
from signing.webhooks.addresses import AddressPolicy, GuardedTransport

log = logging.getLogger(__name__)

PENDING, DELIVERED, FAILED = (WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.DELIVERED,
                              WebhookDeliveryStatus.FAILED)


class Endpoints(Protocol):
    def add(self, row: WebhookEndpointRow) -> WebhookEndpointRow: ...
    def of_tenant(self, tenant: str, *, for_update: bool = False) -> WebhookEndpointRow | None: ...


class Deliveries(Protocol):
    def add(self, row: WebhookDeliveryRow) -> WebhookDeliveryRow: ...
    def by_id(self, delivery_id: int, *, for_update: bool = False) -> WebhookDeliveryRow | None: ...
    def due(self, now: dt.datetime, limit: int = 20) -> list[WebhookDeliveryRow]: ...


class AuditTrail(Protocol):
    def append(self, *, at: dt.datetime, actor: str, action: str, subject: str,
               details: dict[str, Any] | None = None) -> int: ...


class Event(Protocol):
    """What a tenant's webhook is told: the event's name, what it is about, and its JSON body."""

    @property
    def name(self) -> str: ...

    @property
    def subject(self) -> str: ...

    def as_json(self) -> dict[str, Any]: ...


class OutboxStore(Protocol):
    """What ``enqueue`` touches in the caller's unit of work: the tenant's endpoint, a new delivery."""

    @property
    def webhook_endpoints(self) -> Endpoints: ...
    @property
    def webhook_deliveries(self) -> Deliveries: ...


class WebhookStore(OutboxStore, Protocol):
    """What registering and delivering touch in one unit of work (a ``registry.RegistryTransaction`` is one)."""

    @property
    def audit(self) -> AuditTrail: ...


class WebhookStorage(Protocol):
    """The registry as the webhook service sees it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[WebhookStore]: ...


class Sealer(Protocol):
    def seal(self, plaintext: bytes, context: str) -> bytes: ...

    def open(self, sealed: bytes, context: str) -> bytes: ...


class Transport(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        """POST and return the HTTP status; raise OSError when nothing answered."""


@dataclass(frozen=True)
class WebhookPolicy:
    first_retry: dt.timedelta = dt.timedelta(seconds=5)
    max_retry: dt.timedelta = dt.timedelta(hours=1)
    max_attempts: int = 10
    lease: dt.timedelta = dt.timedelta(minutes=2)
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.first_retry <= dt.timedelta(0) or self.max_retry < self.first_retry:
            raise ValueError("retries need 0 < first_retry <= max_retry")
        if not 1 <= self.max_attempts <= 50:
            raise ValueError("max_attempts must be 1-50")

    def backoff(self, attempts: int) -> dt.timedelta:
        """Wait after the ``attempts``-th failure: first_retry, doubled each time, capped."""
        return min(self.first_retry * (2 ** (attempts - 1)), self.max_retry)


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def body_of(row: WebhookDeliveryRow) -> bytes:
    """The delivery's body; the same bytes on every attempt."""
    document = {"id": row.public_id, "event": row.event, "created_at": row.created_at.isoformat(),
                "data": row.payload}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Registration:
    tenant: str
    url: str
    secret: str | None = None   # shown once, when made

    def as_json(self) -> dict:
        shown = {"tenant": self.tenant, "url": self.url}
        return shown | ({"secret": self.secret} if self.secret else {})


@dataclass(frozen=True)
class _Claimed:
    id: int
    public_id: str
    event: str
    url: str | None
    secret: bytes | None
    body: bytes
    attempts: int


class WebhookService:
    def __init__(self, registry: WebhookStorage, clock, sealer: Sealer, transport: Transport | None = None,
                 policy: WebhookPolicy | None = None, allow_http: bool = True,
                 addresses: AddressPolicy | None = None) -> None:
        self.registry = registry
        self.clock = clock
        self.sealer = sealer
        # Where a webhook may point (issue 18, finding 6); loopback and private networks only when
        # the caller says so (embedded mode).
        self.addresses = addresses or AddressPolicy(allow_private=False)
        # The default transport checks the address it connects to, at every delivery.
        self.transport = transport or GuardedTransport(self.addresses)
        self.policy = policy or WebhookPolicy()
        # Production refuses plain http: the body names documents and clients.
        self.allow_http = allow_http
        self._wake = threading.Event()

    # -- registration -----------------------------------------------------------------

    def register(self, actor: str, tenant: str, url: str) -> Registration:
        """Set the tenant's URL and make a new signing secret (the old one stops working)."""
        schemes = ("https://", "http://") if self.allow_http else ("https://",)
        if not url.startswith(schemes) or len(url) > 2048 or any(c.isspace() for c in url):
            raise InvalidInput("the webhook URL is refused", [Problem("url", "must be an " + " or ".join(
                s.rstrip(":/") for s in schemes) + " URL of at most 2048 characters")])
        problems = self.addresses.url_problems(url)
        if problems:
            raise InvalidInput("the webhook URL is refused", problems)
        secret = secrets.token_hex(32)
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = tx.webhook_endpoints.of_tenant(tenant, for_update=True)
            sealed = self.sealer.seal(secret.encode(), f"webhook:{tenant}")
            if row is None:
                tx.webhook_endpoints.add(WebhookEndpointRow(tenant=tenant, url=url, secret=sealed, created_at=now,
                                                            updated_at=now, updated_by=actor))
            else:
                row.url, row.secret, row.updated_at, row.updated_by = url, sealed, now, actor
            tx.audit.append(at=now, actor=actor, action="webhook.registered", subject=f"tenant:{tenant}",
                            details={"url": url})
        return Registration(tenant, url, secret)

    def registration(self, tenant: str) -> Registration | None:
        with self.registry.transaction(readonly=True) as tx:
            row = tx.webhook_endpoints.of_tenant(tenant)
            return Registration(tenant, row.url) if row else None

    # -- events ------------------------------------------------------------------------

    def enqueue(self, tx: OutboxStore, *, tenant: str, event: Event) -> None:
        """Record an event in the caller's transaction, if the tenant has a webhook."""
        if tx.webhook_endpoints.of_tenant(tenant) is None:
            return
        now = self.clock.now()
        tx.webhook_deliveries.add(WebhookDeliveryRow(
            public_id=secrets.token_hex(16), tenant=tenant, event=event.name, subject=event.subject,
            payload=event.as_json(), status=PENDING, attempts=0, next_attempt_at=now, created_at=now))

    def kick(self) -> None:
        """Wake the dispatcher: something was just committed."""
        self._wake.set()

    def wait(self, timeout: float) -> None:
        """Until kicked, or ``timeout``; a kick before this call counts (a round's start clears it)."""
        self._wake.wait(timeout)

    def settle(self) -> None:
        """A round starts: what was committed before now is in it, so earlier kicks are spent."""
        self._wake.clear()

    # -- delivery ----------------------------------------------------------------------

    def deliver_due(self, limit: int = 20) -> int:
        """Send what is due now; returns how many were delivered."""
        claimed = self._claim(limit)
        delivered = 0
        for item in claimed:
            status, error = self._attempt(item)
            delivered += self._record(item, status, error)
        return delivered

    def _claim(self, limit: int) -> list[_Claimed]:
        now = self.clock.now()
        claimed = []
        with self.registry.transaction() as tx:
            for row in tx.webhook_deliveries.due(now, limit):
                if row.attempts >= self.policy.max_attempts:
                    # Claimed for its last attempt by a worker that died before recording it: given up.
                    row.status = FAILED
                    row.last_error = row.last_error or "the worker sending it stopped (lease ran out)"
                    log.warning("webhook delivery %s failed for good: its last attempt never finished", row.public_id)
                    continue
                endpoint = tx.webhook_endpoints.of_tenant(row.tenant)
                secret = (self.sealer.open(endpoint.secret, f"webhook:{row.tenant}") if endpoint else None)
                # The lease keeps other workers off the row while this one sends; the attempt counts now,
                # so a delivery whose sending kills its worker each time still runs out of attempts.
                row.next_attempt_at = now + self.policy.lease
                row.attempts += 1
                claimed.append(_Claimed(row.id, row.public_id, row.event, endpoint.url if endpoint else None, secret,
                                        body_of(row), row.attempts))
        return claimed

    def _attempt(self, item: _Claimed) -> tuple[int | None, str | None]:
        if item.url is None or item.secret is None:
            return None, "the tenant's webhook is no longer registered"
        timestamp = str(int(self.clock.now().timestamp()))
        headers = {"Content-Type": "application/json", "User-Agent": "Qoltanba-Webhooks/1",
                   "X-Qoltanba-Delivery": item.public_id, "X-Qoltanba-Event": item.event,
                   "X-Qoltanba-Timestamp": timestamp, "X-Qoltanba-Signature": signature(item.secret, timestamp,
                                                                                        item.body)}
        try:
            status = self.transport.post(item.url, item.body, headers, self.policy.timeout)
        except (OSError, ValueError) as error:
            return None, f"{type(error).__name__}: {error}"[:500]
        return status, None if 200 <= status < 300 else f"answered {status}"

    def _record(self, item: _Claimed, status: int | None, error: str | None) -> int:
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = tx.webhook_deliveries.by_id(item.id, for_update=True)
            if row is None or row.status != PENDING or row.attempts != item.attempts:
                return 0   # another worker took it over after this one's lease ran out
            row.last_status, row.last_error = status, error
            if error is None:
                row.status, row.delivered_at = DELIVERED, now
                return 1
            if item.url is None or row.attempts >= self.policy.max_attempts:
                row.status = FAILED
                log.warning("webhook delivery %s failed for good: %s", row.public_id, error)
            else:
                row.next_attempt_at = now + self.policy.backoff(row.attempts)
            return 0


class Dispatcher:
    """This process's consumer of the shared queues: a daemon thread running ``tasks`` every ``poll`` seconds.

    The tasks claim their work from the registry (webhook deliveries, the job
    queue of ca/jobs.py), so every worker may run one and each piece of work
    is still done once. ``start``: run once when the thread starts (the
    schedules made rows).
    """

    def __init__(self, webhooks: WebhookService, tasks: list[Callable[[], object]], poll: float = 1.0,
                 start: Callable[[], object] | None = None, gap: float = 0.1) -> None:
        self.webhooks = webhooks
        self.tasks = tasks
        self.poll = poll
        # Rounds start at least ``gap`` seconds apart: the kicks of a busy worker (each signing step commits one)
        # are taken together, one round of claims a gap instead of one a kick (issue 17, benchmarks/load.py).
        self.gap = gap
        self.on_start = start
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            if self.on_start is not None:
                try:
                    self.on_start()   # before the thread: what is due at start is done when start returns
                except Exception:  # noqa: BLE001 - the loop runs anyway; the next start tries again
                    log.exception("dispatcher start-up step failed")
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="qoltanba-dispatcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.webhooks.kick()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            self.webhooks.settle()
            for task in self.tasks:
                try:
                    task()
                except Exception:  # noqa: BLE001 - the loop must outlive one bad round
                    log.exception("dispatcher task %s failed", getattr(task, "__name__", task))
            self.webhooks.wait(self.poll)
            rest = self.gap - (time.monotonic() - began)
            if rest > 0:
                self._stop.wait(rest)


__all__ = ["DELIVERED", "FAILED", "PENDING", "AddressPolicy", "Dispatcher", "Event", "OutboxStore", "Registration", "Transport",
           "WebhookPolicy", "WebhookService", "WebhookStorage", "WebhookStore", "body_of", "signature"]
