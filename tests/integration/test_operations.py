"""Operations (issue 17, item 4): /livez, /readyz, /metrics and request ids, against real components.

- /readyz names each check and answers 200 on a healthy home (SQLite and
  PostgreSQL); 503 problem+json listing the failed checks when a CRL is past
  its nextUpdate (the test clock moved past it), when the database is gone
  (the PostgreSQL database dropped under the running service), and when a
  key the backend should hold is missing (the TSA's key file removed).
- /metrics needs a ``monitor`` (or administrator) key, and counts what real
  requests did: the request under its route template, an issuance, a
  revocation, two signatures, OCSP answers.
- Every answer carries X-Request-ID: the caller's when it is a short token,
  else a new one.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ca.access import AccessService
from tests.support import factories as f
from tests.support.tenants import ensure_tenant
from tests.support.signing import client_with_held_key, sign_client_and_seal, upload

PROBLEM = "application/problem+json"


def _app(services):
    from api.http.app import create_app

    services.publisher.reconcile()   # the first CRLs, as `qoltanba init` and `serve` publish them
    services.readiness.cache_seconds = 0   # each probe runs the checks: the test changes the world between them
    return create_app(services=services)


def _key(services, role: str) -> dict[str, str]:
    if role == "mfo":
        ensure_tenant(services, "ops")   # issue 15: an API key names a tenant that exists
    key = AccessService(services.registry, services.clock).create_key(f"{role}-{f.iin()[-6:]}", role, by="test",
                                                                     tenant="ops" if role == "mfo" else None).key
    return {"Authorization": f"Bearer {key}"}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_livez_and_readyz_name_each_check_on_a_healthy_home(services) -> None:
    # No lifespan (no TestClient context): nothing in the background refreshes what /readyz reads.
    client = TestClient(_app(services))
    live = client.get("/livez")
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "keys", "crl", "queue"}
    assert all(check["ok"] for check in body["checks"].values())
    assert set(body["checks"]["keys"]["keys"]) == {"tsa", "ocsp-root", "ocsp-national", "ocsp-government"}
    assert set(body["checks"]["crl"]["crls"]) == {f"{c}-{k}" for c in ("root", "national", "government")
                                                  for k in ("full", "delta")}
    assert body["checks"]["queue"]["pending"] == 0
    # /health keeps its constant answer (the servers of the tests wait on it).
    assert client.get("/health").json() == {"status": "ok"}


@pytest.fixture
def frozen(tmp_path, request):
    """An initialised SQLite home whose clock the test moves (the test clock, ca/clock.py FrozenClock)."""
    from tests.conftest import initialised_services

    generator = initialised_services(tmp_path, f"sqlite:///{tmp_path / 'registry.db'}", request,
                                     clock_offset=dt.timedelta(0))
    yield next(generator)
    generator.close()


def test_readyz_is_503_when_a_crl_is_past_its_next_update(frozen) -> None:
    client = TestClient(_app(frozen))
    assert client.get("/readyz").status_code == 200
    hours = frozen.settings.crl_next_update_hours
    frozen.clock.advance(dt.timedelta(hours=hours, seconds=1))
    stale = client.get("/readyz")
    assert stale.status_code == 503 and stale.headers["content-type"] == PROBLEM
    problem = stale.json()
    assert problem["code"] == "not-ready" and problem["status"] == 503
    assert [p["field"] for p in problem["problems"]] == ["crl"]
    assert "past its nextUpdate" in problem["problems"][0]["message"]
    assert problem["checks"]["database"]["ok"] and problem["checks"]["keys"]["ok"]
    assert problem["checks"]["crl"]["crls"]["national-full"]["next_update_seconds"] < 0
    assert stale.headers["retry-after"]
    # The schedule re-issues them (what the housekeeper does): ready again.
    frozen.publisher.reconcile()
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_database_is_down(tmp_path, postgres_server, request) -> None:
    """PostgreSQL: the service's database dropped (its connections terminated) under the running app."""
    from tests.conftest import initialised_services

    name, url = postgres_server.create_unique_database("readyz_down")
    generator = initialised_services(tmp_path, url, request)
    services = next(generator)
    try:
        client = TestClient(_app(services))
        assert client.get("/readyz").status_code == 200
        postgres_server.drop_database(name)
        down = client.get("/readyz")
        assert down.status_code == 503 and down.headers["content-type"] == PROBLEM
        failed = {p["field"]: p["message"] for p in down.json()["problems"]}
        assert "database" in failed and failed["database"].startswith("the check failed: ")
        assert "queue" in failed
        assert client.get("/livez").status_code == 200   # the process itself is alive: no restart
    finally:
        generator.close()


def test_readyz_is_503_when_a_key_is_missing(tmp_path, request) -> None:
    """A fresh process (no key cached) on a home whose TSA key file is gone: the keys check names the TSA."""
    from api.settings import Settings
    from api.wiring import Services
    from tests.conftest import initialised_services
    from tests.support import golden

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    generator = initialised_services(tmp_path, url, request)
    services = next(generator)
    try:
        handle = services.tsa_signer.key.handle
        (services.settings.home / "keys" / f"{handle.split(':', 1)[1]}.key").unlink()
        fresh = Services.build(Settings(home=services.settings.home, database_url=url, master_key=golden.MASTER_KEY))
        try:
            answer = TestClient(_app(fresh)).get("/readyz")
        finally:
            fresh.close()
        assert answer.status_code == 503
        problems = answer.json()["problems"]
        assert [p["field"] for p in problems] == ["keys"] and problems[0]["message"].startswith("tsa: KeyNotFound")
    finally:
        generator.close()


def test_metrics_need_a_monitor_key_and_count_real_requests(services) -> None:
    from tests.support.signing import TENANT

    ensure_tenant(services, TENANT)   # its seal is an issuance of its own: made before the counting starts
    with TestClient(_app(services)) as client:
        monitor, admin = _key(services, "monitor"), _key(services, "administrator")
        assert client.get("/metrics").status_code == 401
        for role in ("auditor", "mfo", "registrar"):
            refused = client.get("/metrics", headers=_key(services, role))
            assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM, role
        # A monitor key reads the metrics and nothing else.
        assert client.get("/certificates", headers=monitor).status_code == 403
        before = _samples(client.get("/metrics", headers=monitor).text)

        body = {"profile": "individual-sign", "csr_pem": f.csr_pem().decode(),
                "subject": {"surname": "Abenov", "given_name": "Nurlan", "iin": f.iin()}}
        issued = client.post("/certificates", json=body, headers=admin)
        assert issued.status_code == 201, issued.text
        serial = issued.json()["serial"]
        assert client.get(f"/certificates/{serial}", headers=admin).status_code == 200
        revoked = client.post(f"/certificates/{serial}/revoke", json={"reason": "superseded"}, headers=admin)
        assert revoked.status_code == 200, revoked.text
        ocsp = _ocsp_request(services, serial)
        for _ in range(2):
            answer = client.post("/ocsp", content=ocsp, headers={"Content-Type": "application/ocsp-request"})
            assert answer.status_code == 200
        holder = client_with_held_key(services)
        document = upload(services, holder.iin)
        sign_client_and_seal(services, holder, document.id, level="B-B")

        after = _samples(client.get("/metrics", headers=admin).text)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("qoltanba_http_requests_total", method="POST", route="/certificates", status="201") == 1
    # The route's template, never the raw path with the serial in it.
    assert delta("qoltanba_http_requests_total", method="GET", route="/certificates/{serial}", status="200") == 1
    assert not any(serial in dict(labels).get("route", "") for _name, labels in after)
    assert delta("qoltanba_http_request_duration_seconds_count", method="POST", route="/certificates") == 1
    assert delta("qoltanba_issuances_total") == 2            # the certificate over HTTP, the held key's in-process
    assert delta("qoltanba_revocations_total") == 1
    assert delta("qoltanba_signatures_total", signatory="client") == 1
    assert delta("qoltanba_signatures_total", signatory="seal") == 1
    assert sum(delta("qoltanba_ocsp_answers_total", method="POST", source=s) for s in ("cache", "responder")) == 2
    assert _value(after, "qoltanba_webhook_queue", state="pending") == 0
    assert 0 <= _value(after, "qoltanba_crl_age_seconds", centre="national", kind="full") < 3600
    assert _value(after, "qoltanba_ready", check="crl") == 1


def _ocsp_request(services, serial: str) -> bytes:
    from asn1crypto import algos, ocsp

    from ca.ocsp import issuer_hashes

    name_hash, key_hash = issuer_hashes(services.hierarchy.issuing_ca("national").certificate)["sha1"]
    cert_id = ocsp.CertId({"hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha1"}),
                           "issuer_name_hash": name_hash, "issuer_key_hash": key_hash,
                           "serial_number": int(serial, 16)})
    return ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cert_id}]}}).dump()


def test_every_answer_carries_a_request_id(services) -> None:
    client = TestClient(_app(services))
    given = client.get("/ca", headers={"X-Request-ID": "probe-17.a:b"})
    assert given.headers["x-request-id"] == "probe-17.a:b"
    made = [client.get(path).headers["x-request-id"] for path in ("/ca", "/no-such-route", "/livez")]
    assert len(set(made)) == 3 and all(len(i) == 32 for i in made)
    # An id that is not a short token is replaced, never echoed.
    hostile = client.get("/ca", headers={"X-Request-ID": "a b\tc" + "x" * 200})
    assert hostile.headers["x-request-id"] != "a b\tc" + "x" * 200 and len(hostile.headers["x-request-id"]) == 32
    # A refusal carries one too (problem+json from the exception handlers).
    refused = client.get("/certificates")
    assert refused.status_code == 401 and len(refused.headers["x-request-id"]) == 32
