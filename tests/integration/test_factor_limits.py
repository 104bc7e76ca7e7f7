"""Limits and refusals of the client's factors found by issue 18's outside test, over HTTP, on SQLite and
PostgreSQL: a TOTP enrolment is confirmed within the code policy's failures, a phone code voided by wrong
tries says so, and a biometric assertion with an out-of-range iat is a counted refusal, not a 500."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import pytest

from signing.factors import totp_code
from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support.factors import (  # noqa: F401 - fixture
    CODE,
    ENROLMENT_HEADER,
    SigningPage,
    enrolment_token,
    provider_signed,
    register,
    services,
    upload,
)
from tests.support.signing import client_with_held_key


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


def _audit(services, action: str) -> list:
    with services.registry.transaction(readonly=True) as tx:
        return [e for e in tx.audit.entries(limit=100_000) if e.action == action]


def _other_than(*codes: str) -> str:
    return next(c for c in (f"{n:06d}" for n in range(1, 10 ** 6)) if c not in codes)


def test_issue18_finding3_totp_enrolment_confirmation_stops_after_max_failures(http, services, alpha) -> None:
    """Issue 18, finding 3: TOTP enrolment confirmation had no limit (30 wrong codes, then the right one was
    accepted). Now the code policy's max_failures (5) wrong codes discard the pending enrolment: the right
    code is refused after it, the discard is audited, and only a new enrolment can be confirmed.

    Issue 15: the client confirms the authenticator on their own channel (the link sent to their phone,
    ``X-Enrolment-Token``), so that is where the codes are given; the MFO sees the outcome."""
    limit = services.signing_policies.codes.max_failures
    client = register(http, alpha, services, iin=f.iin(), biometric=False)
    base = f"/clients/{client['id']}/factors"
    enrolled = http.post(base, headers=alpha, json={"kind": "totp"}).json()
    own = {ENROLMENT_HEADER: enrolment_token(services, client["phone"], enrolled["id"])}
    seed = http.post(f"/client/factors/{enrolled['id']}/secret", headers=own).json()["secret"]
    now = services.clock.now()
    window = [totp_code(seed, now + dt.timedelta(seconds=s)) for s in (-30, 0, 30)]
    wrong = _other_than(*window)
    for attempt in range(1, limit + 1):
        refused = problem(http.post(f"/client/factors/{enrolled['id']}/confirm", headers=own,
                                    json={"code": wrong}), 403)
        assert refused["code"] == "factor-refused"
        assert ("discarded" in refused["problems"][0]["message"]) == (attempt == limit), refused
    right = http.post(f"/client/factors/{enrolled['id']}/confirm", headers=own,
                      json={"code": totp_code(seed, services.clock.now())})
    late = problem(right, 409)
    assert f"discarded after {limit} wrong codes" in late["detail"] and "enrol" in late["detail"]
    factors = {x["id"]: x for x in http.get(f"/clients/{client['id']}", headers=alpha).json()["factors"]}
    assert factors[enrolled["id"]]["status"] == "revoked" and factors[enrolled["id"]]["confirmed_at"] is None
    failed = [e for e in _audit(services, "factor.failed") if e.details["factor"] == enrolled["id"]]
    assert len(failed) == limit
    (discarded,) = _audit(services, "factor.discarded")
    assert discarded.details["factor"] == enrolled["id"] and discarded.details["failures"] == limit
    # A new enrolment (a new seed) is confirmed by its own first code.
    again = http.post(base, headers=alpha, json={"kind": "totp"}).json()
    own = {ENROLMENT_HEADER: enrolment_token(services, client["phone"], again["id"])}
    seed = http.post(f"/client/factors/{again['id']}/secret", headers=own).json()["secret"]
    confirmed = http.post(f"/client/factors/{again['id']}/confirm", headers=own,
                          json={"code": totp_code(seed, services.clock.now())})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "active", confirmed.text


def _jws_with_claims_json(services, claims_json: str) -> str:
    """A token whose claims part is any text (it is refused before its signature is checked)."""
    signed = provider_signed(services, {}).split(".")
    payload = base64.urlsafe_b64encode(claims_json.encode()).rstrip(b"=").decode()
    return f"{signed[0]}.{payload}.{signed[2]}"


def test_issue18_finding4_an_out_of_range_iat_is_a_refused_assertion_not_a_500(http, services, alpha) -> None:
    """Issue 18, finding 4: an assertion with iat 10**20 answered 500 (OverflowError), -10**15 a ValueError 500.
    Now an iat outside 1970..9999 (or claims nested past the JSON parser's depth) is refused like any other
    assertion: 403 factor-refused, counted against the request's tolerance and audited; the right assertion
    still proves the factor afterwards."""
    iin = client_with_held_key(services).iin
    client = register(http, alpha, services, iin=iin)
    created = http.post("/signing-requests", headers=alpha, json={
        "document": upload(http, alpha, iin=iin, kind="consent"), "client": client["id"], "level": "B-B"}).json()
    page = SigningPage(http, services, created)
    challenge = page.start("biometric").json()

    def claims(iat) -> dict:  # noqa: ANN001 - any JSON value
        return {"iss": services.biometric_simulator.name, "jti": uuid.uuid4().hex, "sub": iin,
                "chl": challenge["challenge"], "mov": challenge["movements"], "match": True, "live": True,
                "iat": iat}

    hostile = [provider_signed(services, claims(10 ** 20)), provider_signed(services, claims(-10 ** 15)),
               provider_signed(services, claims(2 ** 63)),
               _jws_with_claims_json(services, "[" * 3000 + "]" * 3000)]
    limit = services.signing_policies.codes.max_failures
    for attempt, assertion in enumerate(hostile, start=1):
        refused = problem(http.post(f"{page.base}/assertions", headers=page.headers,
                                    json={"assertion": assertion}), 403)
        assert refused["code"] == "factor-refused"
        assert f"{limit - attempt} more failed attempts" in refused["problems"][0]["message"], refused
    assert page.get().json()["failures"] == len(hostile)
    reasons = [e.details["reason"] for e in _audit(services, "factor.failed")]
    assert len(reasons) == len(hostile) and all("iat" in r for r in reasons[:3]), reasons
    good = provider_signed(services, claims(int(services.clock.now().timestamp())))
    proven = http.post(f"{page.base}/assertions", headers=page.headers, json={"assertion": good})
    assert proven.status_code == 200, proven.text
    assert "biometric" in json.dumps(page.get().json()["proven"])


def test_issue18_finding5_a_phone_code_voided_by_wrong_tries_says_so_not_replaced(http, services, alpha) -> None:
    """Issue 18, finding 5: after 5 wrong phone-confirmation codes the right code got 403 "was replaced by a
    newer code" though no newer code existed. Now it says the code is void after too many wrong tries and to
    ask for a new one; a new code confirms, and a code a newer one replaced still says so."""
    limit = services.signing_policies.codes.max_failures
    number = "+7701" + f"{uuid.uuid4().int % 10 ** 7:07d}"
    client = http.post("/clients", headers=alpha, json={"kind": "individual", "iin": f.iin(),
                                                        "name": "Test Client", "phone": number}).json()
    (sms,) = client["factors"]
    confirm = f"/clients/{client['id']}/factors/{sms['id']}/confirm"

    def sent() -> str:
        outbox = http.get("/dev/sms-outbox", headers=alpha, params={"phone": number}).json()
        return CODE.search(outbox[-1]["text"]).group(1)

    right = sent()
    for _ in range(limit):
        problem(http.post(confirm, headers=alpha, json={"code": _other_than(right)}), 403)
    voided = problem(http.post(confirm, headers=alpha, json={"code": right}), 403)
    message = voided["problems"][0]["message"]
    assert "too many wrong tries" in message and "ask for a new code" in message, voided
    assert "replaced" not in message
    services.clock.advance(dt.timedelta(seconds=61))
    assert http.post(f"/clients/{client['id']}/factors/{sms['id']}/resend", headers=alpha).status_code == 200
    fresh = sent()
    if fresh != right:     # the old code, replaced by a newer one this time, says that
        replaced = problem(http.post(confirm, headers=alpha, json={"code": right}), 403)
        assert "replaced by a newer code" in replaced["problems"][0]["message"]
    confirmed = http.post(confirm, headers=alpha, json={"code": fresh})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "active", confirmed.text
