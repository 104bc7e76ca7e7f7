"""What an operator watches: Prometheus metrics and the request id of every request (issue 17, item 4).

``OperationsMiddleware`` (pure ASGI, the outermost of the app's own) gives
each HTTP request its id (api/http/logs.py: the caller's ``X-Request-ID`` or
a new one), sends it back in ``X-Request-ID``, and counts the request and
its latency under its *route template* (``/certificates/{serial}``, never
the raw path: the label set stays bounded whatever the callers send).
Requests answered before routing (the cached OCSP answers of
api/http/routes/status.py) are matched against the route table afterwards;
a path no route matches is ``unmatched``.

The metrics (prometheus-client; names after its conventions):

- ``qoltanba_http_requests_total{method,route,status}`` and
  ``qoltanba_http_request_duration_seconds{method,route}`` (a histogram);
- ``qoltanba_signatures_total{signatory}``, ``qoltanba_issuances_total``,
  ``qoltanba_revocations_total``, ``qoltanba_crls_issued_total``: counted
  from the audit entries a unit of work committed (``Registry.on_commit``),
  so a rolled-back attempt is never counted and nothing in ``ca`` or
  ``signing`` knows about metrics;
- ``qoltanba_ocsp_answers_total{method,source}``: ``cache`` when the
  pre-signed answer went out before routing, ``responder`` otherwise;
- ``qoltanba_webhook_queue{state}`` (``pending``, ``due``, ``failed``: the dead-letter state),
  ``qoltanba_jobs{state}`` (``queued``, ``running``, ``done``, ``dead``, ``due``: the job queue, ca/jobs.py),
  ``qoltanba_crl_age_seconds{centre,kind}``,
  ``qoltanba_crl_next_update_seconds{centre,kind}`` and
  ``qoltanba_ready{check}``: read when /metrics is scraped, from the
  readiness checks (ca/readiness.py).

Multi-process mode: when ``PROMETHEUS_MULTIPROC_DIR`` names a directory
(set before the workers start, emptied at each start), each process writes
its values there and /metrics adds up every process's (prometheus-client's
``MultiProcessCollector``); the scraped gauges keep the most recent live
value (``livemostrecent``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, \
    generate_latest, multiprocess
from starlette.routing import Match

from api.http.logs import REQUEST_ID, request_id_from

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"

REQUESTS = Counter("qoltanba_http_requests", "HTTP requests answered, by route template and status",
                   ("method", "route", "status"))
LATENCY = Histogram("qoltanba_http_request_duration_seconds", "Time to answer an HTTP request, by route template",
                    ("method", "route"),
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120))
SIGNATURES = Counter("qoltanba_signatures", "PAdES signatures made, by signatory (client, seal, external …)",
                     ("signatory",))
ISSUANCES = Counter("qoltanba_issuances", "Certificates issued")
REVOCATIONS = Counter("qoltanba_revocations", "Certificates revoked")
CRLS = Counter("qoltanba_crls_issued", "CRLs issued (full and delta)")
OCSP = Counter("qoltanba_ocsp_answers", "OCSP answers sent, by method and by whether the cache answered "
                                        "before routing", ("method", "source"))
QUEUE = Gauge("qoltanba_webhook_queue", "Webhook deliveries pending, and those of them due",
              ("state",), multiprocess_mode="livemostrecent")
JOBS = Gauge("qoltanba_jobs", "Jobs of the shared queue by state (queued, running, done, dead), and the "
                             "queued ones due", ("state",), multiprocess_mode="livemostrecent")
CRL_AGE = Gauge("qoltanba_crl_age_seconds", "Age of each centre's newest CRL (now - thisUpdate)",
                ("centre", "kind"), multiprocess_mode="livemostrecent")
CRL_LEFT = Gauge("qoltanba_crl_next_update_seconds", "Seconds until each centre's newest CRL's nextUpdate "
                                                     "(negative: stale)", ("centre", "kind"),
                 multiprocess_mode="livemostrecent")
READY = Gauge("qoltanba_ready", "1 when the readiness check passes, 0 when it fails", ("check",),
              multiprocess_mode="livemostrecent")


def count_audited(actions: Sequence[str]) -> None:
    """``Registry.on_commit`` listener: the domain's events, from the audit entries a unit of work committed."""
    for action in actions:
        if action.startswith("document.signed."):
            SIGNATURES.labels(action.removeprefix("document.signed.")).inc()
        elif action == "certificate.issued":
            ISSUANCES.inc()
        elif action == "certificate.revoked":
            REVOCATIONS.inc()
        elif action == "crl.issued":
            CRLS.inc()


def observe_readiness(report) -> None:  # noqa: ANN001 - ca.readiness.ReadinessReport
    """The scraped gauges, from a readiness report (ca/readiness.py)."""
    for check in report.checks:
        READY.labels(check.name).set(1 if check.ok else 0)
        if check.name == "queue" and "pending" in check.seen:
            QUEUE.labels("pending").set(check.seen["pending"])
            QUEUE.labels("due").set(check.seen["due"])
            QUEUE.labels("failed").set(check.seen.get("failed", 0))
            for state, count in check.seen.get("jobs", {}).items():
                JOBS.labels(state).set(count)
        if check.name == "crl":
            for label, crl in check.seen.get("crls", {}).items():
                centre, _, kind = label.partition("-")
                CRL_AGE.labels(centre, kind).set(crl["age_seconds"])
                CRL_LEFT.labels(centre, kind).set(crl["next_update_seconds"])


def exposition() -> tuple[bytes, str]:
    """The text exposition of every metric: this process's, or every process's in multi-process mode."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_ends() -> None:
    """A worker stops: its live gauges leave the multi-process sums (prometheus-client's mark_process_dead)."""
    if os.environ.get(MULTIPROCESS_ENV):
        multiprocess.mark_process_dead(os.getpid())


def route_template(app, scope) -> str:  # noqa: ANN001 - ASGI
    """The template of the route that answered (FastAPI puts it in the scope), else of the first that matches."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return path
    router = getattr(app, "router", None)
    for candidate in getattr(router, "routes", ()):
        try:
            match, _child = candidate.matches(scope)
        except Exception:  # noqa: BLE001 - a route that cannot judge this scope does not match it
            continue
        if match is Match.FULL:
            return getattr(candidate, "path", UNMATCHED) or UNMATCHED
    return UNMATCHED


class OperationsMiddleware:
    """Request ids and request metrics for every HTTP request; ``app`` is the FastAPI application."""

    def __init__(self, inner, app) -> None:  # noqa: ANN001 - ASGI apps
        self.inner = inner
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001 - ASGI
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        given = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        request_id = request_id_from(given)
        REQUEST_ID.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message) -> None:  # noqa: ANN001 - ASGI
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(n, v) for n, v in message.get("headers", ()) if n.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.inner(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            method = scope.get("method", "GET")
            route = route_template(self.app, scope)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            if route.startswith("/ocsp"):
                OCSP.labels(method, "responder" if "endpoint" in scope else "cache").inc()


__all__ = ["CONTENT_TYPE_LATEST", "MULTIPROCESS_ENV", "OperationsMiddleware", "count_audited", "exposition", "process_ends",
           "observe_readiness", "route_template"]
