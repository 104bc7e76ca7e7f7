"""Schemathesis against our own OpenAPI document (issue 8): no 5xx, and every answer as documented.

Every operation of ``/openapi.json`` gets generated requests, valid and
invalid (stateless, through the ASGI transport, on an embedded home), as an
administrator, as an MFO tenant's backend and anonymously. Each answer must
not be a server error, must have a documented status and content type, and
its body must match the documented schema (problem+json for every 4xx).

Bounded: a few examples per operation and identity, ``POST /verify`` (a
sandboxed worker process per request) fewer and anonymous only, so the run
stays within about a minute; the number of requests is printed and recorded
as the test's ``schemathesis_requests`` property. Each run draws fresh
requests from a seed it prints (a failure names it):
``QOLTANBA_SCHEMATHESIS_SEED=<seed>`` replays that run, and
``QOLTANBA_SCHEMATHESIS_EXAMPLES=50`` makes a deeper one (not bounded then).
What a run found stays found: test_ids_past_64_bits_are_field_problems.

The plain Starlette routes (OCSP, CRLs) are in the document too. Not
covered here: stateful sequences (a request that creates what the next one
reads); the walks in test_tenants.py and test_limits.py cover those paths.
"""

from __future__ import annotations

import collections
import os
import random
import re
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.signing import embedded_services

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("QOLTANBA_SCHEMATHESIS_EXAMPLES", "6"))
# Each verification runs in a sandboxed worker process (about a second each): fewer, and anonymous only.
SLOW = {"POST /verify": 3}
BUDGET_SECONDS = 60
SEED = int(os.environ.get("QOLTANBA_SCHEMATHESIS_SEED") or random.randrange(2**32))


@schemathesis.serializer("application/timestamp-query", "application/ocsp-request")
def _der(_context, value) -> dict:  # noqa: ANN001 - schemathesis' serializer signature
    # The TSA's and OCSP's bodies are binary DER; schemathesis generates bytes (or text) for them.
    return {"data": value if isinstance(value, bytes) else str(value).encode()}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from api.access import AccessService
    from api.app import create_app

    with embedded_services(tmp_path_factory.mktemp("schemathesis") / "home") as services:
        # Generous buckets, so generated requests reach the handlers; the limits have their own test.
        s = services.settings
        s.verify_burst = s.public_burst = s.tsa_burst = s.client_rate_burst = s.auth_failure_burst = 100_000
        access = AccessService(services.registry, services.clock)
        keys = {"administrator": {"X-API-Key": access.create_key("fuzz-admin", "administrator", by="test").key},
                "mfo": {"X-API-Key": access.create_key("fuzz-mfo", "mfo", by="test", tenant="fuzz").key},
                "anonymous": {}}
        app = create_app(services=services)
        app.state.client_limiter.burst = 100_000.0
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        try:
            yield schema, keys
        finally:
            from schemathesis.python.asgi import shutdown_lifespans

            shutdown_lifespans()


def _strategy(operation):  # noqa: ANN001, ANN202 - schemathesis APIOperation -> SearchStrategy[Case]
    modes = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    try:
        modes.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    except Exception:  # noqa: BLE001 - an operation without anything to make invalid
        pass
    return st.one_of(modes)


def _check(case, response, headers: dict) -> list[str]:  # noqa: ANN001 - schemathesis Case and Response
    found = []
    for check in CHECKS:
        try:
            case.validate_response(response, checks=[check], headers=headers)
        except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - schemathesis' FailureGroup
            found.append(f"{check.__name__}: {response.status_code} {response.headers.get('content-type')} "
                         f"{response.text[:300]!r} ({str(failure).splitlines()[0]})")
    return found


def test_every_operation_answers_without_5xx_and_as_documented(served, record_property) -> None:
    schema, keys = served
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 66, [o.label for o in operations]
    requests = collections.Counter()
    failures: dict[str, set[str]] = collections.defaultdict(set)
    started = time.monotonic()
    for operation in operations:
        for identity, headers in keys.items():
            if operation.label in SLOW and identity != "anonymous":
                continue

            @seed(SEED)
            @given(case=_strategy(operation))
            @settings(max_examples=SLOW.get(operation.label, EXAMPLES), deadline=None, database=None,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            def exercise(case) -> None:  # noqa: ANN001 - schemathesis Case
                requests[operation.label] += 1
                response = case.call(headers=headers)
                for problem in _check(case, response, headers):
                    failures[f"{operation.label} as {identity}"].add(problem)

            exercise()
    elapsed = time.monotonic() - started
    total = sum(requests.values())
    print(f"schemathesis: {total} requests over {len(operations)} operations in {elapsed:.1f} s, seed {SEED}")
    record_property("schemathesis_requests", total)
    record_property("schemathesis_seconds", round(elapsed, 1))
    report = {label: sorted(found)[:5] for label, found in sorted(failures.items())}
    assert report == {}, f"QOLTANBA_SCHEMATHESIS_SEED={SEED}\n" + "\n".join(f"{label}: {found}"
                                                                            for label, found in report.items())
    assert set(requests) == {o.label for o in operations}
    if "QOLTANBA_SCHEMATHESIS_EXAMPLES" not in os.environ:
        assert elapsed < 3 * BUDGET_SECONDS, "the run should take about a minute; lower EXAMPLES"


def test_ids_past_64_bits_are_field_problems(served) -> None:
    """A run found it: an application id past 2**63 went to SQLite and answered 500. Now every integer id is checked."""
    from fastapi.testclient import TestClient

    schema, keys = served
    client = TestClient(schema.app)  # no lifespan: the module's is running already
    walked = []
    for operation in (result.ok() for result in schema.get_all_operations()):
        integers = {p.name for p in operation.path_parameters if p.definition["schema"].get("type") == "integer"}
        if integers:
            path = re.sub(r"\{([^}]+)\}", lambda m: str(2**63) if m.group(1) in integers else "1", operation.path)
            answer = client.request(operation.method.upper(), path, headers=keys["administrator"], json={})
            assert answer.status_code == 422, (operation.label, answer.text)
            assert {p["field"] for p in answer.json()["problems"]} >= {f"path.{name}" for name in integers}
            walked.append(operation.label)
    assert len(walked) >= 4, walked
