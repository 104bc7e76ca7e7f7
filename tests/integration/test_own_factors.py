"""Factors only the client controls (issue 15): an authenticator enrolled on the client's own channel.

The MFO asks for the factor and sees it pending, then active; the seed goes
to the holder of the link sent to the client's confirmed phone, never to
the MFO's API key. A walk over the app's route table calls every keyed
route with the MFO's key and looks for the seed (and the enrolment token)
in every answer. SQLite and PostgreSQL, on the client's-will clock.
"""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest

from api.http.openapi import needs_key, routes
from signing.factors import totp_code
from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support.factors import (  # noqa: F401 - fixture
    ENROLMENT_HEADER,
    SigningPage,
    enrolment_token,
    register,
    services,
    upload,
)
from tests.support.signing import client_with_held_key

# Bodies the MFO could send; the walk only looks at what comes back.
BODIES = {"/factors": {"kind": "totp"}, "/confirm": {"code": "123456"}, "/signatures/client": {"authorisation": "a" * 32},
          "/signing-requests": {"document": "f" * 32, "client": "f" * 32}, "/webhook": {"url": "http://127.0.0.1:9/h"}}


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


def _audit(services, action: str) -> list:
    with services.registry.transaction(readonly=True) as tx:
        return [e for e in tx.audit.entries(limit=100_000) if e.action == action]


def _totp_signed_consent(http, services, alpha) -> dict:
    """A client with a key the service holds enrols an authenticator on their own channel and signs a consent
    (LOAN-6) with it and biometrics. Returns the ids and the seed the client's app holds."""
    held = client_with_held_key(services)
    client = register(http, alpha, services, iin=held.iin)
    enrolled = http.post(f"/clients/{client['id']}/factors", headers=alpha, json={"kind": "totp"})
    assert enrolled.status_code == 201, enrolled.text
    factor = enrolled.json()
    assert factor["status"] == "pending" and "secret" not in factor and "uri" not in factor
    # The MFO cannot confirm it: it has no seed, and the route says where the client confirms it.
    assert "own channel" in problem(http.post(f"/clients/{client['id']}/factors/{factor['id']}/confirm",
                                              headers=alpha, json={"code": "123456"}), 409)["detail"]
    token = enrolment_token(services, client["phone"], factor["id"])
    own = {ENROLMENT_HEADER: token}
    shown = http.post(f"/client/factors/{factor['id']}/secret", headers=own)
    assert shown.status_code == 200, shown.text
    seed, uri = shown.json()["secret"], shown.json()["uri"]
    assert uri.startswith("otpauth://totp/") and f"secret={seed}" in uri
    confirmed = http.post(f"/client/factors/{factor['id']}/confirm", headers=own,
                          json={"code": totp_code(seed, services.clock.now())})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "active", confirmed.text
    # Confirmed: the link shows the seed no more.
    problem(http.post(f"/client/factors/{factor['id']}/secret", headers=own), 401)
    seen = {x["id"]: x for x in http.get(f"/clients/{client['id']}", headers=alpha).json()["factors"]}
    assert seen[factor["id"]]["status"] == "active" and seen[factor["id"]]["confirmed_at"]
    services.clock.advance(dt.timedelta(seconds=30))
    document = upload(http, alpha, iin=held.iin, kind="consent")
    created = http.post("/signing-requests", headers=alpha, json={"document": document, "client": client["id"],
                                                                  "level": "B-T"})
    assert created.status_code == 201, created.text
    page = SigningPage(http, services, created.json())
    assert page.totp(seed).status_code == 200
    assert page.biometrics(held.iin).status_code == 200
    done = page.confirm()
    assert done.status_code == 200 and done.json()["status"] == "sealed", done.text
    assert {p["factor"] for p in done.json()["proven"]} == {"totp", "biometric"}
    return {"client_id": client["id"], "factor_id": factor["id"], "document_id": document,
            "request_id": created.json()["id"], "number": "1", "serial": held.serial, "seed": seed, "token": token,
            "uri": uri}


def test_the_client_enrols_an_authenticator_on_their_own_channel_and_signs_with_it(http, services, alpha) -> None:
    ids = _totp_signed_consent(http, services, alpha)
    (confirmed,) = [e for e in _audit(services, "factor.confirmed") if e.details["factor"] == ids["factor_id"]]
    assert confirmed.actor == f"client:{ids['client_id']}" and confirmed.details["channel"] == "client"
    # No audit entry carries the seed or the token.
    text = repr([e.details for e in _audit(services, "factor.enrolled") + _audit(services, "factor.confirmed")])
    assert ids["seed"] not in text and ids["token"] not in text


def test_the_mfos_api_key_never_receives_a_factor_secret(http, services, alpha) -> None:
    """Every keyed route of the route table, every method, called with the MFO's key and the ids of a client
    who enrolled and used an authenticator: no answer (body or header) holds the seed or the enrolment token."""
    ids = _totp_signed_consent(http, services, alpha)
    secrets = [ids["seed"], ids["seed"].lower(), base64.b32decode(ids["seed"] + "=" * (-len(ids["seed"]) % 8)).hex(),
               ids["token"], ids["uri"]]
    called = []
    for path, methods, route in routes(http.app):
        if not needs_key(route):
            continue
        for method in sorted(methods):
            url = re.sub(r"\{([^}]+)\}", lambda m: ids.get(m.group(1), "f" * 32), path)
            body = next((b for suffix, b in BODIES.items() if path.endswith(suffix)), None)
            answer = http.request(method, url, headers=alpha, json=body if method != "GET" else None)
            assert answer.status_code < 500, (method, path, answer.text)
            seen = answer.content + repr(sorted(answer.headers.items())).encode()
            assert not any(s.encode() in seen for s in secrets), (method, path)
            called.append((method, path, answer.status_code))
    reads = {p for m, p, status in called if m == "GET" and status == 200}
    # The walk reached the client, its factors' home and the signed request's evidence.
    assert {"/clients/{client_id}", "/signing-requests/{request_id}", "/signing-requests/{request_id}/evidence",
            "/dev/sms-outbox"} <= reads, sorted(reads)
    assert len(called) >= 40, len(called)


def test_five_wrong_enrolment_codes_lock_the_enrolment(http, services, alpha) -> None:
    """As one-time codes: the code policy's max_failures (5) wrong codes lock the enrolment for good; the right
    code and the seed are refused after it. (The same over the MFO's view: test_factor_limits.py, issue 18.)"""
    client = register(http, alpha, services, iin=f.iin(), biometric=False)
    factor = http.post(f"/clients/{client['id']}/factors", headers=alpha, json={"kind": "totp"}).json()
    own = {ENROLMENT_HEADER: enrolment_token(services, client["phone"], factor["id"])}
    seed = http.post(f"/client/factors/{factor['id']}/secret", headers=own).json()["secret"]
    right = totp_code(seed, services.clock.now())
    wrong = next(c for c in (f"{n:06d}" for n in range(10 ** 6)) if c != right and c not in {
        totp_code(seed, services.clock.now() + dt.timedelta(seconds=s)) for s in (-30, 30)})
    for attempt in range(1, 6):
        refused = problem(http.post(f"/client/factors/{factor['id']}/confirm", headers=own, json={"code": wrong}),
                          403)
        assert refused["code"] == "factor-refused"
        if attempt < 5:
            assert f"{5 - attempt} more wrong codes lock" in refused["problems"][0]["message"]
    locked = problem(http.post(f"/client/factors/{factor['id']}/confirm", headers=own, json={"code": right}), 409)
    assert "discarded after 5 wrong codes" in locked["detail"]
    problem(http.post(f"/client/factors/{factor['id']}/secret", headers=own), 409)
    shown = {x["id"]: x for x in http.get(f"/clients/{client['id']}", headers=alpha).json()["factors"]}
    assert shown[factor["id"]]["status"] == "revoked"


def test_bad_input_on_the_clients_channel_is_refused_and_changes_nothing(http, services, alpha) -> None:
    client = register(http, alpha, services, iin=f.iin(), biometric=False)
    factor = http.post(f"/clients/{client['id']}/factors", headers=alpha, json={"kind": "totp"}).json()
    token = enrolment_token(services, client["phone"], factor["id"])
    base = f"/client/factors/{factor['id']}"
    assert problem(http.post(f"{base}/secret"), 401)["code"] == "unauthenticated"
    problem(http.post(f"{base}/secret", headers={ENROLMENT_HEADER: token[:-1] + ("y" if token.endswith("x") else "x")}), 401)
    problem(http.post(f"/client/factors/{'0' * 32}/secret", headers={ENROLMENT_HEADER: token}), 401)
    answer = problem(http.post(f"{base}/confirm", headers={ENROLMENT_HEADER: token}, json={"code": "", "x": 1}), 422)
    assert {p["field"] for p in answer["problems"]} == {"code", "x"}
    shown = http.post(f"{base}/secret", headers={ENROLMENT_HEADER: token}).json()
    assert shown["status"] == "pending" and shown["wrong_tries_left"] == 5
    # A client whose phone is not confirmed: nowhere to send the link.
    number = "+7701" + "0" * 6 + "9"
    unconfirmed = http.post("/clients", headers=alpha, json={"kind": "individual", "iin": f.iin(), "name": "Тест",
                                                             "phone": number}).json()
    refused = problem(http.post(f"/clients/{unconfirmed['id']}/factors", headers=alpha, json={"kind": "totp"}), 409)
    assert refused["problems"][0]["field"] == "kind"
    # The MFO's dev outbox shows the link without its token.
    texts = [m["text"] for m in http.get("/dev/sms-outbox", headers=alpha, params={"phone": client["phone"]}).json()]
    assert any(f"/client/factors/{factor['id']}#" in t for t in texts) and not any(token in t for t in texts)
