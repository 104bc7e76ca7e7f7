"""The client's will over HTTP, one test per policy row of DOMAIN.md §3 (issue 5), on SQLite and PostgreSQL.

The MFO backend registers the client and creates the signing request; the
client's signing page proves the factors with the request's token; the
document ends signed by the client and sealed by the MFO, with its evidence.
Each row also shows the refusal of every factor it still misses.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support.factors import SigningPage, own_token, register, services, upload  # noqa: F401 - fixture
from tests.support.pdf_judges import pyhanko_statuses
from tests.support.signing import client_with_held_key

TWO_HOURS = dt.timedelta(hours=2, seconds=1)


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


def _request(http, headers, document: str, client: str, **extra) -> dict:
    response = http.post("/signing-requests", headers=headers, json={"document": document, "client": client,
                                                                     "level": "B-T", **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _root(services):
    return services.hierarchy.chain("national")[-1]


def test_LOAN2_LOAN4_LOAN5_contract_needs_biometrics_with_liveness_and_the_clients_eds(http, services, alpha,
                                                                                        tmp_path) -> None:
    """Contract: review window first, then biometrics, then the client's EDS; sealed; evidence verifies."""
    iin = f.iin()
    token = own_token(services, iin)
    client = register(http, alpha, services, iin=iin, eds=token)
    document = upload(http, alpha, iin=iin, loan_amount="500000.00")
    created = _request(http, alpha, document, client["id"], client_ip="203.0.113.7", user_agent="MFO-App/3.1")
    assert created["policy"]["name"] == "LOAN-2" and created["status"] == "open"
    page = SigningPage(http, services, created)

    # LOAN-5: nothing before the client has had the contract for two hours.
    assert page.get().json()["review_until"] == created["review_until"]
    assert http.get(f"{page.base}/document.pdf", headers=page.headers).status_code == 200
    early = problem(page.start("biometric"), 409)
    assert early["code"] == "review-window-open" and "LOAN-5" in early["detail"]
    services.clock.advance(TWO_HOURS)

    # The EDS is the last factor: refused while biometrics are missing.
    missing_biometrics = problem(page.eds(token), 409)
    assert "biometric" in missing_biometrics["detail"]
    # Without the EDS the held-key way is refused too: the policy needs it.
    assert "eds" in problem(page.confirm(), 409)["detail"]
    # SMS and TOTP are not part of this policy.
    problem(page.start("sms"), 409)

    answered = page.biometrics(iin)
    assert answered.status_code == 200, answered.text
    assert [p["factor"] for p in answered.json()["proven"]] == ["biometric"]
    signed = page.eds(token)
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "sealed"

    status = http.get(f"/signing-requests/{created['id']}", headers=alpha).json()
    assert status["status"] == "sealed" and status["signer_serial"] == token.serial
    # LOAN-11: 500 000 KZT is above 75 MRP, unsecured, consumer: payout 24 hours after signing.
    signed_at = dt.datetime.fromisoformat(status["signed_at"])
    assert dt.datetime.fromisoformat(status["earliest_payout_at"]) == signed_at + dt.timedelta(hours=24)

    pdf = http.get(f"/signing-requests/{created['id']}/signed.pdf", headers=alpha)
    assert pdf.status_code == 200
    statuses = pyhanko_statuses(pdf.content, _root(services))
    assert len(statuses) == 2 and all(s.bottom_line for s in statuses)
    client_signature = PdfFileReader(io.BytesIO(pdf.content)).embedded_regular_signatures[0].sig_object
    assert client_signature["/Prop_AuthType"] == "/Biometric+EDS"
    assert int(client_signature["/Prop_AuthTime"]) >= 0

    # The evidence matches what happened and verifies against the seal (openssl, our root only).
    report = http.get(f"/signing-requests/{created['id']}/evidence", headers=alpha)
    signature = http.get(f"/signing-requests/{created['id']}/evidence.p7s", headers=alpha)
    assert report.status_code == signature.status_code == 200
    evidence = report.json()
    assert evidence["policy"]["name"] == "LOAN-2"
    assert [x["factor"] for x in evidence["factors"]] == ["biometric", "eds"]
    biometric = evidence["factors"][0]
    assert biometric["liveness"] and biometric["match"] and len(biometric["challenge"]["movements"]) == 4
    assert evidence["factors"][1]["certificate_serial"] == token.serial
    versions = http.get(f"/documents/{document}", headers=alpha).json()["versions"]
    assert evidence["document_sha256_before"] == versions[0]["sha256"]
    assert evidence["document_sha256_after"] == versions[1]["sha256"]
    assert evidence["seal"]["document_sha256"] == pdf.headers["X-Document-SHA256"]
    assert evidence["reported_by_mfo"] == {"client_ip": "203.0.113.7", "user_agent": "MFO-App/3.1"}
    assert evidence["earliest_payout_at"] == status["earliest_payout_at"]
    (tmp_path / "evidence.json").write_bytes(report.content)
    (tmp_path / "evidence.p7s").write_bytes(signature.content)
    (tmp_path / "root.pem").write_bytes(_root(services).public_bytes(__import__(
        "cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.PEM))
    verified = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "evidence.p7s",
                               "-content", "evidence.json", "-CAfile", "root.pem", "-purpose", "any",
                               "-out", "/dev/null"], cwd=tmp_path, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    tampered = bytearray(report.content)
    tampered[tampered.index(b"biometric")] ^= 0x20
    (tmp_path / "evidence.json").write_bytes(bytes(tampered))
    refused = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "evidence.p7s",
                              "-content", "evidence.json", "-CAfile", "root.pem", "-purpose", "any",
                              "-out", "/dev/null"], cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode != 0


def test_LOAN3_entrepreneur_business_contract_needs_biometrics_without_eds(http, services, alpha) -> None:
    """An entrepreneur's business contract: biometrics alone unlock the key the service holds."""
    held = client_with_held_key(services)
    client = register(http, alpha, services, iin=held.iin, kind="entrepreneur")
    document = upload(http, alpha, iin=held.iin, client_kind="entrepreneur", purpose="business",
                      loan_amount="2000000.00")
    created = _request(http, alpha, document, client["id"])
    assert created["policy"]["name"] == "LOAN-3"
    page = SigningPage(http, services, created)
    services.clock.advance(TWO_HOURS)
    # Refusal for the missing factor: nothing proven, nothing signed.
    assert "biometric" in problem(page.confirm(), 409)["detail"]
    assert page.biometrics(held.iin).status_code == 200
    done = page.confirm()
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "sealed"
    status = http.get(f"/signing-requests/{created['id']}", headers=alpha).json()
    assert status["signer_serial"] == held.serial
    # A business loan is no consumer loan: LOAN-11 does not apply.
    assert status["earliest_payout_at"] is None
    pdf = http.get(f"/signing-requests/{created['id']}/signed.pdf", headers=alpha).content
    sig = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[0].sig_object
    assert sig["/Prop_AuthType"] == "/Biometric"


def test_LOAN3_does_not_reach_an_individuals_business_contract(http, services, alpha) -> None:
    """The exception is the entrepreneur's: an individual's contract still needs the EDS (LOAN-2)."""
    held = client_with_held_key(services)
    client = register(http, alpha, services, iin=held.iin)
    document = upload(http, alpha, iin=held.iin, purpose="business")
    # Only a key the service holds and biometrics: LOAN-2 needs the client's EDS, so no request is made.
    refused = problem(http.post("/signing-requests", headers=alpha, json={"document": document,
                                                                          "client": client["id"]}), 422)
    (reason,) = refused["problems"]
    assert reason["field"] == "client" and "LOAN-2" in reason["message"] and "eds" in reason["message"]


def test_LOAN6_other_document_with_two_factors_of_different_kinds(http, services, alpha) -> None:
    """A consent: SMS and TOTP are one kind (one-time passwords); SMS and biometrics are two."""
    held = client_with_held_key(services)
    client = register(http, alpha, services, iin=held.iin, totp=True)
    document = upload(http, alpha, iin=held.iin, kind="consent")
    created = _request(http, alpha, document, client["id"])
    assert created["policy"]["name"] == "LOAN-6" and created["review_until"] == created["created_at"]
    page = SigningPage(http, services, created)
    assert page.sms(client["phone"]).status_code == 200
    assert "2 different kinds" in problem(page.confirm(), 409)["detail"]
    assert page.totp(client["totp_secret"]).status_code == 200
    refused = problem(page.confirm(), 409)
    assert "2 different kinds" in refused["detail"]
    assert page.biometrics(held.iin).status_code == 200
    done = page.confirm()
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "sealed"
    assert {p["factor"] for p in done.json()["proven"]} == {"sms", "totp", "biometric"}


def test_LOAN6_other_document_with_the_eds_alone(http, services, alpha) -> None:
    iin = f.iin()
    token = own_token(services, iin)
    client = register(http, alpha, services, iin=iin, eds=token, biometric=False)
    document = upload(http, alpha, iin=iin, kind="schedule")
    created = _request(http, alpha, document, client["id"], seal=False)
    page = SigningPage(http, services, created)
    done = page.eds(token)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "signed"      # the MFO seals later, as it asked
    assert http.get(f"/signing-requests/{created['id']}/signed.pdf", headers=alpha).status_code == 200
    assert http.post(f"/documents/{document}/signatures/seal", headers=alpha, json={"level": "B-B"}).status_code == 201
    # The MFO's own seal moves the request along (signed -> sealed).
    after = http.get(f"/signing-requests/{created['id']}", headers=alpha).json()
    assert after["status"] == "sealed" and after["sealed_at"]


def test_LOAN9_changing_the_phone_needs_biometrics_and_eds(http, services, alpha) -> None:
    """A details change is signed with biometrics and EDS; only then may the phone change."""
    iin = f.iin()
    token = own_token(services, iin)
    client = register(http, alpha, services, iin=iin, eds=token, totp=True)
    new_phone = "+77017654321"
    refused = problem(http.post(f"/clients/{client['id']}/factors", headers=alpha,
                                json={"kind": "sms", "phone": new_phone}), 409)
    assert "LOAN-9" in refused["detail"]
    document = upload(http, alpha, iin=iin, kind="details_change")
    created = _request(http, alpha, document, client["id"])
    assert created["policy"]["name"] == "LOAN-9"
    page = SigningPage(http, services, created)
    assert "does not use the sms" in problem(page.start("sms"), 409)["detail"]
    assert page.totp(client["totp_secret"]).status_code == 409
    assert "biometric" in problem(page.eds(token), 409)["detail"]
    assert page.biometrics(iin).status_code == 200
    assert page.eds(token).json()["status"] == "sealed"
    changed = http.post(f"/clients/{client['id']}/factors", headers=alpha,
                        json={"kind": "sms", "phone": new_phone, "details_change_request": created["id"]})
    assert changed.status_code == 201, changed.text


def test_LOAN5_LOAN10_review_window_waivable_for_an_amendment_never_for_a_contract(http, services, alpha) -> None:
    held = client_with_held_key(services)
    iin = held.iin
    token = own_token(services, iin)
    client = register(http, alpha, services, iin=iin, eds=token)
    contract = upload(http, alpha, iin=iin)
    refused = problem(http.post("/signing-requests", headers=alpha, json={
        "document": contract, "client": client["id"], "waive_review": True}), 422)
    assert [p["field"] for p in refused["problems"]] == ["waive_review"]
    created = _request(http, alpha, contract, client["id"], seal=True)
    page = SigningPage(http, services, created)
    services.clock.advance(dt.timedelta(hours=1, minutes=59))
    assert problem(page.start("biometric"), 409)["code"] == "review-window-open"
    services.clock.advance(dt.timedelta(minutes=1, seconds=1))
    assert page.biometrics(iin).status_code == 200
    assert page.eds(token).json()["status"] == "sealed"

    number = http.get(f"/documents/{contract}", headers=alpha).json()["metadata"]["contract_number"]
    amendment = upload(http, alpha, iin=iin, kind="amendment", contract=contract, contract_number=number)
    waived = _request(http, alpha, amendment, client["id"], waive_review=True)
    assert waived["policy"]["name"] == "LOAN-10" and waived["review_waived"]
    page = SigningPage(http, services, waived)
    assert page.biometrics(iin).status_code == 200          # no waiting: the client waived the window
    assert "biometric" in str(page.get().json()["proven"])


def test_bad_requests_list_every_problem_and_change_nothing(http, services, alpha, mfo_key) -> None:  # noqa: F811
    iin = f.iin()
    answer = problem(http.post("/clients", headers=alpha, json={
        "kind": "legal_entity", "iin": iin[:-1] + str((int(iin[-1]) + 1) % 10), "name": "x", "phone": "+1 555"}), 422)
    assert {p["field"] for p in answer["problems"]} >= {"iin", "bin", "phone"}
    answer = problem(http.post("/signing-requests", headers=alpha, json={
        "document": "0" * 32, "client": "1" * 32, "client_ip": "not an address", "colour": "red"}), 422)
    assert {p["field"] for p in answer["problems"]} >= {"colour"}
    answer = problem(http.post("/signing-requests", headers=alpha, json={
        "document": "0" * 32, "client": "1" * 32, "client_ip": "not an address"}), 422)
    assert {p["field"] for p in answer["problems"]} == {"document", "client", "client_ip"}
    client = register(http, alpha, services, iin=iin, biometric=False)
    document = upload(http, alpha, iin=iin)
    # No biometrics and no EDS enrolled: LOAN-2 cannot be met, so no request is made.
    cannot = problem(http.post("/signing-requests", headers=alpha, json={"document": document,
                                                                         "client": client["id"]}), 422)
    assert "biometric" in cannot["problems"][0]["message"] and "eds" in cannot["problems"][0]["message"]
    # Another tenant sees neither the client nor the document.
    beta = mfo_key("beta")
    problem(http.get(f"/clients/{client['id']}", headers=beta), 404)
    answer = problem(http.post("/signing-requests", headers=beta, json={"document": document,
                                                                        "client": client["id"]}), 422)
    assert {p["field"] for p in answer["problems"]} == {"document", "client"}


def test_client_routes_need_the_token_and_are_rate_limited(http, services, alpha) -> None:
    from api.http.rate_limit import TokenBuckets

    iin = f.iin()
    token = own_token(services, iin)
    client = register(http, alpha, services, iin=iin, eds=token)
    created = _request(http, alpha, upload(http, alpha, iin=iin), client["id"])
    base = f"/client/signing-requests/{created['id']}"
    almost = created["token"][:-1] + ("A" if created["token"][-1] != "A" else "B")
    for headers in ({}, {"X-Signing-Token": "wrong"}, {"X-Signing-Token": almost}):
        problem(http.get(base, headers=headers), 401)
    problem(http.get("/client/signing-requests/" + "0" * 32, headers={"X-Signing-Token": created["token"]}), 401)
    assert http.get(base, headers={"X-Signing-Token": created["token"]}).status_code == 200
    http.app.state.client_limiter = TokenBuckets(per_minute=1, burst=2)
    statuses = [http.get(base, headers={"X-Signing-Token": created["token"]}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = http.get(base, headers={"X-Signing-Token": created["token"]})
    assert int(limited.headers["Retry-After"]) >= 1 and problem(limited, 429)["code"] == "rate-limited"


def test_the_mfo_cancels_and_the_client_can_do_nothing_more(http, services, alpha) -> None:
    iin = f.iin()
    token = own_token(services, iin)
    client = register(http, alpha, services, iin=iin, eds=token)
    document = upload(http, alpha, iin=iin, kind="consent")
    created = _request(http, alpha, document, client["id"])
    page = SigningPage(http, services, created)
    assert http.post(f"/signing-requests/{created['id']}/cancel", headers=alpha).json()["status"] == "cancelled"
    assert "cancelled" in problem(page.eds(token), 409)["detail"]
    problem(http.post(f"/signing-requests/{created['id']}/cancel", headers=alpha), 409)
    assert len(http.get(f"/documents/{document}", headers=alpha).json()["versions"]) == 1
    # A new request may be made for the document now.
    assert _request(http, alpha, document, client["id"])["status"] == "open"


def test_a_seal_cut_off_after_the_clients_signature_is_finished_later(http, services, alpha) -> None:
    """The client's signature is stored, the MFO's seal is not (here: its certificate was revoked; a crash
    leaves the same state): the request stays signed, then the dispatcher's task seals it and its evidence."""
    from ca.revocation import RevocationRequest
    from signing.tenants import SealOrder

    held = client_with_held_key(services)
    client = register(http, alpha, services, iin=held.iin)
    document = upload(http, alpha, iin=held.iin, kind="consent")
    created = _request(http, alpha, document, client["id"])
    page = SigningPage(http, services, created)
    assert page.sms(client["phone"]).status_code == 200 and page.biometrics(held.iin).status_code == 200
    seal = services.tenants.get("alpha").seal   # the tenant's own seal (issue 15)
    services.revocations.revoke(RevocationRequest(serial=seal.serial, actor="test", reason="superseded",
                                                  administrator=True))
    done = page.confirm()
    assert done.status_code == 200 and done.json()["status"] == "signed", done.text
    assert services.client_signing.finish_interrupted(grace=dt.timedelta(0)) == 1   # no seal yet: given up
    services.tenants.replace_seal("test", "alpha", SealOrder())   # an administrator gives it a new one
    services.client_signing.__dict__.pop("_given_up", None)   # what a restart does
    assert services.client_signing.finish_interrupted(grace=dt.timedelta(0)) == 1
    after = http.get(f"/signing-requests/{created['id']}", headers=alpha).json()
    assert after["status"] == "sealed" and after["sealed_at"]
    final = http.get(f"/documents/{document}/signed.pdf", headers=alpha)
    assert final.status_code == 200
    statuses = pyhanko_statuses(final.content, _root(services))
    assert len(statuses) == 2 and all(s.intact and s.valid for s in statuses)
    evidence = http.get(f"/signing-requests/{created['id']}/evidence", headers=alpha)
    assert evidence.status_code == 200 and b'"seal"' in evidence.content
    assert services.client_signing.finish_interrupted(grace=dt.timedelta(0)) == 0
