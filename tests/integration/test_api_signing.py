"""Signing over HTTP for the MFO backend: client (held key or own token), seal, final PDF (issue 4)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization

from keys import load_pkcs12
from signing.stamps import holder_numbers
from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key, post_document  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support.pdf_judges import pyhanko_statuses
from tests.support.signing import authorise, client_with_held_key


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


def _upload(http, headers, client_iin: str) -> str:
    response = post_document(http, headers, metadata=f.loan_metadata(client_id_number=client_iin))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_client_then_seal_then_the_final_pdf(http, services, alpha) -> None:
    client = client_with_held_key(services)
    doc = _upload(http, alpha, client.iin)
    problem(http.get(f"/documents/{doc}/signed.pdf", headers=alpha), 409)
    refused = problem(http.post(f"/documents/{doc}/signatures/client", headers=alpha,
                                json={"authorisation": "0" * 32}), 403)
    assert refused["type"].endswith("authorisation-required")
    problem(http.post(f"/documents/{doc}/signatures/seal", headers=alpha, json={}), 409)
    auth = authorise(services, doc, client.serial, tenant="alpha")
    signed = http.post(f"/documents/{doc}/signatures/client", headers=alpha,
                       json={"authorisation": auth.id, "level": "B-T"})
    assert signed.status_code == 201, signed.text
    assert signed.json()["status"] == "client-signed" and signed.json()["signer_serial"] == client.serial
    sealed = http.post(f"/documents/{doc}/signatures/seal", headers=alpha, json={"level": "B-LT"})
    assert sealed.status_code == 201, sealed.text
    final = http.get(f"/documents/{doc}/signed.pdf", headers=alpha)
    assert final.status_code == 200 and final.headers["content-type"] == "application/pdf"
    assert final.headers["X-Document-SHA256"] == hashlib.sha256(final.content).hexdigest() == sealed.json()["sha256"]
    statuses = pyhanko_statuses(final.content, services.hierarchy.chain("national")[-1])
    assert len(statuses) == 2 and all(s.bottom_line for s in statuses)


def test_bad_requests_list_their_problems_and_change_nothing(http, services, alpha) -> None:
    client = client_with_held_key(services)
    doc = _upload(http, alpha, client.iin)
    answer = problem(http.post(f"/documents/{doc}/signatures/client", headers=alpha,
                               json={"authorisation": "", "level": "B-X", "extra": 1}), 422)
    assert {p["field"] for p in answer["problems"]} >= {"authorisation", "level", "extra"}
    answer = problem(http.post(f"/documents/{doc}/signing-sessions", headers=alpha,
                               json={"certificate": "not base64!", "authorisation": "a" * 32}), 422)
    assert answer["problems"][0]["field"] == "certificate"
    versions = http.get(f"/documents/{doc}", headers=alpha).json()["versions"]
    assert len(versions) == 1


def test_external_signature_over_http(http, services, alpha) -> None:
    issued = f.issue_person(services, password=b"token-pin")
    key, certificate, _ = load_pkcs12(issued.pkcs12, b"token-pin")
    doc = _upload(http, alpha, holder_numbers(certificate)[0])
    unauthorised = problem(http.post(f"/documents/{doc}/signing-sessions", headers=alpha, json={
        "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(), "authorisation": "0" * 32}),
        403)
    assert unauthorised["type"].endswith("authorisation-required")
    auth = authorise(services, doc, issued.serial, tenant="alpha")
    started = http.post(f"/documents/{doc}/signing-sessions", headers=alpha, json={
        "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(), "level": "B-LT",
        "authorisation": auth.id})
    assert started.status_code == 201, started.text
    session = started.json()
    attrs = base64.b64decode(session["signed_attributes"])
    wrong = problem(http.post(f"/signing-sessions/{session['id']}/complete", headers=alpha, json={
        "signature": base64.b64encode(key.sign(attrs + b"x", "sha256")).decode()}), 422)
    assert wrong["type"].endswith("invalid-signature")
    done = http.post(f"/signing-sessions/{session['id']}/complete", headers=alpha, json={
        "signature": base64.b64encode(key.sign(attrs, "sha256")).decode()})
    assert done.status_code == 201, done.text
    problem(http.post(f"/signing-sessions/{session['id']}/complete", headers=alpha, json={
        "signature": base64.b64encode(key.sign(attrs, "sha256")).decode()}), 409)
    pdf = http.get(f"/documents/{doc}/pdf", headers=alpha).content
    (status,) = pyhanko_statuses(pdf, services.hierarchy.chain("national")[-1], revocation=True)
    assert status.bottom_line


# Another tenant's ids on every signing route: tests/integration/test_tenants.py walks the route table.
