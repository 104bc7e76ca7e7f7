"""``POST /verify``, ``GET /verify/{id}`` and the trust store over HTTP (issue 6).

The routes need no API key and are rate-limited per client address; each
verification runs in a worker process (the fork server's first child takes
a second to start).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.verification import signed_contract, tampered

PROBLEM = "application/problem+json"
NCA_ROOT = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk" / "ca" / "nca_rsa_test.crt"


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    from api.wiring import Services
    from api.settings import Settings

    settings = Settings(home=tmp_path_factory.mktemp("verify-api") / "home", master_key="44" * 32,
                        verify_burst=20, verify_timeout_seconds=60)
    svc = Services.build(settings)
    svc.migrate()
    svc.bootstrap.initialise()
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def anon(services):
    from api.http.app import create_app

    with TestClient(create_app(services=services)) as client:
        yield client


@pytest.fixture(scope="module")
def contract(services):
    return signed_contract(services, "B-LT")


def test_post_verify_answers_the_report_without_an_api_key(anon, contract) -> None:
    pdf, client, _document = contract
    response = anon.post("/verify", files={"file": ("contract.pdf", pdf, "application/pdf")})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["indication"] == "TOTAL-PASSED" and report["kind"] == "pdf"
    fields = {s["field"]: s for s in report["signatures"]}
    assert fields["Client-Signature"]["signer"]["iin"] == client.iin
    assert all(s["level"] == "B-LT" and s["modification"] in ("none", "form_filling") for s in fields.values())
    spoilt = anon.post("/verify", files={"file": ("contract.pdf", tampered(pdf))}).json()
    assert {s["sub_indication"] for s in spoilt["signatures"]} == {"HASH_FAILURE"}


def test_post_verify_takes_a_detached_cms_with_its_file_and_refuses_what_it_cannot_read(anon, services) -> None:
    from signing.pades.engine import BackendKey
    from tests.support.signing import client_with_held_key
    from tests.support.verification import our_cms

    client = client_with_held_key(services)
    content = b"repayment schedule v3"
    cms = our_cms(BackendKey(services.backend, client.key_handle), client.certificate,
                  services.hierarchy.chain("national"), content)
    response = anon.post("/verify", files={"file": ("s.p7s", base64.b64encode(cms)), "detached": ("s.txt", content)})
    assert response.status_code == 200 and response.json()["signatures"][0]["intact"], response.text
    refused = anon.post("/verify", files={"file": ("notes.txt", b"just some text, no signature")})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["code"] == "unverifiable"
    assert anon.post("/verify", params={"at": "yesterday"},
                     files={"file": ("c.pdf", b"%PDF-1.7")}).status_code == 422


def test_verify_is_rate_limited_per_client_address(services, contract) -> None:
    from api.http.app import create_app

    services.settings.verify_burst = 2
    services.settings.verify_rate_per_minute = 1
    try:
        # Its own address: the buckets live in the registry (issue 17), shared by every app over it, so
        # another test's requests from "testclient" would count here, and these would count there.
        with TestClient(create_app(services=services), client=("192.0.2.80", 50000)) as client:
            answers = [client.post("/verify", files={"file": ("c.pdf", b"not a pdf")}) for _ in range(3)]
    finally:
        services.settings.verify_burst, services.settings.verify_rate_per_minute = 20, 30
    assert [a.status_code for a in answers] == [422, 422, 429]
    assert answers[2].json()["code"] == "rate-limited" and int(answers[2].headers["Retry-After"]) >= 1


def test_qr_code_page_shows_hash_and_verdicts_but_no_personal_data(anon, contract, services) -> None:
    import hashlib

    from tests.support.signing import TENANT

    pdf, client, document = contract
    response = anon.get(f"/verify/{document.id}")
    assert response.status_code == 200, response.text
    card = response.json()
    assert card["sha256"] == hashlib.sha256(pdf).hexdigest() and card["status"] == "sealed"
    assert card["indication"] == "TOTAL-PASSED" and len(card["signatures"]) == 2
    seal = [s for s in card["signatures"] if s["field"] == "MFO-Seal"][0]
    tenant = services.tenants.get(TENANT)   # issue 15: the document's tenant's own seal
    assert seal["signer"] == {"type": "organisation", "organisation": tenant.name, "bin": tenant.bin}
    body = response.text
    for secret in (client.iin, "СӘРСЕНБАЕВА", client.serial, document.metadata.contract_number, "250000"):
        assert secret not in body
    page = anon.get(f"/verify/{document.id}", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and "TOTAL-PASSED" in page.text
    assert client.iin not in page.text
    assert anon.get("/verify/" + "0" * 32).status_code == 404
    assert anon.get("/verify/not-an-id").status_code == 404


def test_trust_anchors_are_imported_and_removed_by_an_administrator(anon, services) -> None:
    from ca.access import AccessService

    access = AccessService(services.registry, services.clock)
    admin = {"X-API-Key": access.create_key("verify-admin", "administrator", by="test").key}
    auditor = {"X-API-Key": access.create_key("verify-auditor", "auditor", by="test").key}
    body = {"certificate": NCA_ROOT.read_text(), "label": "NCA RK RSA test root"}
    assert anon.post("/trust-anchors", json=body).status_code == 401
    assert anon.post("/trust-anchors", json=body, headers=auditor).status_code == 403
    added = anon.post("/trust-anchors", json=body, headers=admin)
    assert added.status_code == 201, added.text
    sha256 = added.json()[0]["sha256"]
    listed = anon.get("/trust-anchors", headers=auditor).json()
    assert [a["source"] for a in listed] == ["hierarchy", "imported"]
    assert anon.post("/trust-anchors", json=body, headers=admin).status_code == 409
    assert anon.delete(f"/trust-anchors/{sha256}", headers=admin).status_code == 200
    assert anon.delete(f"/trust-anchors/{sha256}", headers=admin).status_code == 404
