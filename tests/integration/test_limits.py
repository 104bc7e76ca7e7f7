"""Rate, size and time limits, proved by walking the route table (issue 8).

- Every route anyone may call without an API key spends from a rate-limit
  bucket, or is one of the written exceptions below (docs/SECURITY.md "Rate
  limits"): past the bucket it answers 429 problem+json with Retry-After. A
  new public route fails this test until it is limited or excepted.
- Every route that takes a body stops at its limit: a declared length over
  it answers 413 without a byte read, and a body without a length is read
  no further than one chunk past the limit.
- A request that stalls (here: a client that stops sending its body) gets
  504 problem+json once the request-processing timeout passes.

The ASGI app is called directly where the test must see what was read.
"""

from __future__ import annotations

import json
import re

import anyio
import fastapi.routing
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.http.openapi import needs_key, rate_limit_bucket, takes_body
from tests.support.signing import embedded_services

PROBLEM = "application/problem+json"
# Public routes that are not rate-limited, and why (docs/SECURITY.md "Rate limits").
EXEMPT = {
    "GET /health": "the orchestrator's liveness probe: a constant answer, no I/O",
    "GET /livez": "the bare liveness probe: no I/O",
    "GET /readyz": "the readiness probe (issue 17): its reads run at most once a second per process, and a "
                   "drained bucket must not take the service out of the load balancer",
    "GET /ca/{code}/chain": "a published CA artefact, static and cacheable like a CRL",
    "GET /ca/{code}.cer": "named in every certificate's AIA: relying parties fetch it while validating",
    "POST /ocsp": "OCSP: pre-signed answers from the cache (RFC 6960, RFC 5019); limit at the CDN",
    "POST /ocsp/{code}": "OCSP, as above",
    "GET /ocsp/{code}/{request:path}": "OCSP GET, as above (cached answers go out before routing)",
    "GET /crl/{name}": "CRLs: static, cacheable, named in every certificate's CDP",
    "GET /openapi.json": "generated once per process, then a constant",
    "GET /docs": "a constant HTML page",
    "GET /docs/oauth2-redirect": "a constant HTML page",
    "GET /redoc": "a constant HTML page",
}
CHUNK = 16 * 1024
# A multipart body that opens a file part and then goes on and on.
MULTIPART_START = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'


def all_routes(app) -> list[tuple[str, str, object]]:
    """(method, path, route) of every route, FastAPI's and plain Starlette's, HEAD left out."""
    found = []
    for context in fastapi.routing.iter_route_contexts(app.routes):
        for method in sorted(context.methods or ()):
            if method != "HEAD":
                found.append((method, context.path, context.original_route))
    return found


def concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", template)


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    with embedded_services(tmp_path_factory.mktemp("limits") / "home") as svc:
        yield svc


@pytest.fixture(scope="module")
def app(services):
    from api.http.app import create_app

    return create_app(services=services)


@pytest.fixture(scope="module")
def keys(services):
    from ca.access import AccessService

    from tests.support.tenants import ensure_tenant

    access = AccessService(services.registry, services.clock)
    ensure_tenant(services, "limits")   # issue 15: a key names a registered tenant
    return {"administrator": access.create_key("limits-admin", "administrator", by="test").key,
            "mfo": access.create_key("limits-mfo", "mfo", by="test", tenant="limits").key}


def test_every_public_route_is_rate_limited_or_a_written_exception(app) -> None:
    from api.http.rate_limit import RateLimiter
    from api.http.rate_limit import TokenBuckets

    public = [(m, p, r) for m, p, r in all_routes(app) if not (isinstance(r, APIRoute) and needs_key(r))]
    labels = {f"{m} {p}" for m, p, _r in public}
    assert set(EXEMPT) <= labels, f"exceptions for routes that no longer exist: {set(EXEMPT) - labels}"
    limited = [(m, p, r) for m, p, r in public if f"{m} {p}" not in EXEMPT]
    unlimited = [f"{m} {p}" for m, p, r in limited if not (isinstance(r, APIRoute) and rate_limit_bucket(r))]
    assert unlimited == [], "public routes neither rate-limited nor a written exception"
    assert len(limited) >= 14
    with TestClient(app) as client:
        for method, path, route in limited:
            bucket = rate_limit_bucket(route)
            # A fresh bucket of two for this route alone, refilling once a minute.
            if bucket == "client":
                app.state.client_limiter = TokenBuckets(per_minute=1, burst=2)
            else:
                setattr(app.state, f"{bucket}_limiter", RateLimiter(rate=1 / 60, burst=2))
            # A page a browser alone is served (api/pages NegotiatedRoute) is asked for as a browser asks.
            browser = {"Accept": "text/html"} if type(route).__name__ == "NegotiatedRoute" else {}
            answers = [client.request(method, concrete(path), headers=browser) for _ in range(3)]
            assert [a.status_code == 429 for a in answers] == [False, False, True], (method, path, answers[-1].text)
            limited_answer = answers[-1]
            if browser:   # the browser gets the refusal as a page in its language (api/pages/errors.py)
                assert limited_answer.headers["content-type"].startswith("text/html"), (method, path)
            else:
                assert limited_answer.headers["content-type"] == PROBLEM
                assert limited_answer.json()["code"] == "rate-limited", (method, path)
            assert 1 <= int(limited_answer.headers["retry-after"]) <= 60
            # The document says so too.
            if route.include_in_schema:
                documented = client.get("/openapi.json").json()["paths"][path][method.lower()]["responses"]
                assert "Retry-After" in documented["429"]["headers"], (method, path)
    # The app's own buckets again, made afresh from the settings.
    for attribute in ("public_limiter", "tsa_limiter", "verify_limiter"):
        delattr(app.state, attribute)
    settings = app.state.services.settings
    app.state.client_limiter = TokenBuckets(settings.client_rate_per_minute, settings.client_rate_burst)


def _role(route: APIRoute) -> str | None:
    """The identity a keyed route is called with: administrator where allowed, else mfo."""
    if not needs_key(route):
        return None
    # A route open to any role (e.g. /console/me, /console/logout) has no "needs ..." dependency.
    roles = next((d.call.__doc__ for d in route.dependant.dependencies if (d.call.__doc__ or "").startswith("needs")),
                 "administrator")
    return "administrator" if "administrator" in roles else "mfo"


def _body_routes(app) -> list[tuple[str, str, object]]:
    found = [(m, p, r) for m, p, r in all_routes(app) if m in ("POST", "PUT", "PATCH")]
    with_body = [(m, p, r) for m, p, r in found if not isinstance(r, APIRoute) or takes_body(r)]
    # A POST without a body (an action such as /cancel) still may not be made to read one past the limit.
    return with_body + [(m, p, r) for m, p, r in found if (m, p, r) not in with_body]


def _call(app, method: str, path: str, headers: dict[str, str], chunks: int | None = None,
          stall_after: int | None = None, first: bytes = b"") -> tuple[int, dict[str, str], bytes, int]:
    """Call the ASGI app directly; the body is ``chunks`` chunks (or endless); answers (status, headers, body, read)."""
    sent: list[dict] = []
    pulled = 0

    async def receive() -> dict:
        nonlocal pulled
        if stall_after is not None and pulled >= stall_after:
            await anyio.sleep(3600)
        pulled += 1
        # "Endless" ends at 4 MiB, so that an app without the limit fails the test rather than hangs it.
        more = pulled < (chunks or 4 * 1024 * 1024 // CHUNK)
        body = first + b"0" * (CHUNK - len(first)) if pulled == 1 else b"0" * CHUNK
        return {"type": "http.request", "body": body, "more_body": more}

    async def send(message: dict) -> None:
        sent.append(message)

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": raw,
             "client": ("203.0.113.9", 50000), "server": ("testserver", 80), "state": {}}

    async def run() -> None:
        with anyio.fail_after(10):
            await app(scope, receive, send)

    anyio.run(run)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return (start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body, pulled * CHUNK)


@pytest.fixture
def small_limits(services):
    s = services.settings
    saved = s.max_request_bytes, s.max_document_bytes, s.verify_max_bytes
    s.max_request_bytes, s.max_document_bytes, s.verify_max_bytes = 64 * 1024, 128 * 1024, 64 * 1024
    yield s
    s.max_request_bytes, s.max_document_bytes, s.verify_max_bytes = saved


def test_every_route_with_a_body_stops_at_its_limit_with_413(app, keys, small_limits) -> None:
    from api.http.routes.documents import MULTIPART_ALLOWANCE
    from api.http.routes.status import MAX_OCSP_REQUEST
    from api.http.routes.tsa import MAX_QUERY_BYTES
    from ca.responder import MALFORMED

    s = small_limits
    limits = {"POST /documents": s.max_document_bytes + MULTIPART_ALLOWANCE,
              "POST /verify": 2 * s.verify_max_bytes + MULTIPART_ALLOWANCE, "POST /tsa": MAX_QUERY_BYTES,
              "POST /ocsp": MAX_OCSP_REQUEST, "POST /ocsp/{code}": MAX_OCSP_REQUEST}
    content_types = {"POST /tsa": "application/timestamp-query", "POST /ocsp": "application/ocsp-request",
                     "POST /ocsp/{code}": "application/ocsp-request", "POST /documents": "multipart/form-data; "
                     "boundary=b", "POST /verify": "multipart/form-data; boundary=b"}
    routes = _body_routes(app)
    assert len(routes) >= 30
    checked = []
    for method, path, route in routes:
        label = f"{method} {path}"
        limit = limits.get(label, s.max_request_bytes)
        role = _role(route) if isinstance(route, APIRoute) else None
        headers = {"content-type": content_types.get(label, "application/json")}
        if role:
            headers["x-api-key"] = keys[role]
        url = concrete(path)
        # Declared too long: refused before a byte of the body is read.
        status, answer_headers, body, read = _call(app, method, url, {**headers, "content-length": str(limit + 1)},
                                                   chunks=None)
        if label.startswith("POST /ocsp"):
            # OCSP answers in its own protocol: a malformedRequest OCSPResponse (RFC 6960 §2.3).
            assert (status, body, read) == (200, MALFORMED, 0), label
        else:
            assert (status, answer_headers["content-type"], read) == (413, PROBLEM, 0), (label, body[:200])
            assert json.loads(body)["code"] == "payload-too-large"
        # No length (chunked): read no further than the chunk that passed the limit.
        status, answer_headers, body, read = _call(app, method, url, headers, chunks=None,
                                                   first=MULTIPART_START if "multipart" in headers["content-type"] else b"")
        assert read <= limit + CHUNK, (label, read, limit)
        if label.startswith("POST /ocsp"):
            assert (status, answer_headers["content-type"], body) == (200, "application/ocsp-response", MALFORMED)
        elif not isinstance(route, APIRoute) or takes_body(route):
            assert (status, answer_headers["content-type"]) == (413, PROBLEM), (label, body[:300])
        # A route without a body (an action such as /cancel) reads none of it: bounded above, whatever it answers.
        checked.append(label)
    assert "POST /documents" in checked and "PUT /webhook" in checked and "POST /tsa" in checked


def test_a_request_that_stalls_gets_504_problem_at_the_timeout(services, keys) -> None:
    from api.http.app import create_app

    services.settings.request_timeout_seconds = 0.5
    try:
        slow_app = create_app(services=services)
    finally:
        services.settings.request_timeout_seconds = 120
    # The client sends one chunk of its JSON body and then nothing more.
    headers = {"content-type": "application/json", "x-api-key": keys["administrator"]}
    status, answer_headers, body, read = _call(slow_app, "POST", "/api-keys", headers, stall_after=1)
    assert (status, answer_headers["content-type"]) == (504, PROBLEM)
    answer = json.loads(body)
    assert answer["code"] == "timeout" and "may still have completed" in answer["detail"]
    # A quick request on the same app is answered as usual.
    status, _headers, body, _read = _call(slow_app, "GET", "/health", {}, chunks=1)
    assert status == 200
    documented = TestClient(slow_app).get("/openapi.json").json()["paths"]["/api-keys"]["post"]["responses"]
    assert documented["504"]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_a_handler_busy_in_a_worker_thread_gets_504_at_the_deadline_and_its_late_answer_is_dropped() -> None:
    """A sync route runs in a worker thread that cannot be killed: the 504 goes out at the deadline anyway."""
    import time

    from starlette.concurrency import run_in_threadpool

    from api.http.limits import TimeoutMiddleware

    async def slow_route(scope, receive, send) -> None:  # noqa: ANN001 - ASGI
        await run_in_threadpool(time.sleep, 1.5)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"late"})

    sent: list[tuple[float, dict]] = []

    async def send(message: dict) -> None:
        sent.append((time.monotonic(), message))

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    async def run() -> float:
        began = time.monotonic()
        await TimeoutMiddleware(slow_route, seconds=0.3)({"type": "http", "method": "GET", "path": "/slow",
                                                          "headers": [], "query_string": b""}, receive, send)
        return began

    began = anyio.run(run)
    starts = [(at, m) for at, m in sent if m["type"] == "http.response.start"]
    assert [m["status"] for _at, m in starts] == [504]
    assert starts[0][0] - began < 1.0        # at the deadline, not when the thread returned
    assert b"late" not in b"".join(m.get("body", b"") for _at, m in sent)
    assert json.loads(b"".join(m.get("body", b"") for _at, m in sent))["code"] == "timeout"
