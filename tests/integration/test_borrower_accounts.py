"""The borrower's own account (issue 16): registration (LOAN-7), login (LOAN-8), details changes (LOAN-9).

Over HTTP, on SQLite and PostgreSQL, on the client's-will clock: the MFO
invites a client it registered; the link reaches the client's phone only;
the borrower chooses a password and gives each factor the rule names; logs
in (lockout after five failures, audited; an authenticator once enrolled);
sees their own documents, signed copies and evidence and nothing of anyone
else's; and changes phone and bank details with biometrics and EDS, the old
phone told.
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from api.catalogues import say
from signing.accounts import words
from signing.factors import totp_code
from signing.factors.sms import masked
from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support.accounts import PASSWORD, assertion, bearer, eds_cms, invite
from tests.support.factors import SigningPage, last_code, own_token, phone, register, services, upload  # noqa: F401

INVITE = "X-Invitation-Token"


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


def _audit(services, action: str) -> list:
    with services.registry.transaction(readonly=True) as tx:
        return [e for e in tx.audit.entries(limit=100_000) if e.action == action]


def _rows(services) -> tuple[int, int, int]:
    with services.registry.transaction(readonly=True) as tx:
        from registry import BorrowerAccountRow, BorrowerCeremonyRow, BorrowerSessionRow

        session = tx.session
        return tuple(session.query(row).count() for row in (BorrowerAccountRow, BorrowerCeremonyRow,
                                                             BorrowerSessionRow))


def registered(http, alpha, services, *, kind: str = "individual", eds: bool = True) -> dict:
    """A client the MFO registered and invited, and the borrower's registration through every factor."""
    iin = f.iin()
    token = own_token(services, iin) if eds else None
    client = register(http, alpha, services, iin=iin, kind=kind, eds=token)
    invitation = invite(http, alpha, services, client)
    started = http.post("/borrower/registration", headers={INVITE: invitation}, json={"password": PASSWORD})
    assert started.status_code == 201, started.text
    ceremony = started.json()
    given = http.post("/borrower/registration/proofs", headers={INVITE: invitation},
                      json={"factor": "sms", "code": last_code(services, client["phone"])})
    assert given.status_code == 200, given.text
    given = http.post("/borrower/registration/proofs", headers={INVITE: invitation},
                      json={"factor": "biometric", "assertion": assertion(services, iin, ceremony)})
    assert given.status_code == 200, given.text
    if "eds" in ceremony["required"]:
        given = http.post("/borrower/registration/proofs", headers={INVITE: invitation},
                          json={"factor": "eds", "cms": eds_cms(token, ceremony)})
        assert given.status_code == 200, given.text
    assert given.json()["status"] == "done", given.text
    return {**client, "iin": iin, "token": token, "invitation": invitation, "ceremony": ceremony}


def login(http, client: dict, **extra) -> dict:
    response = http.post("/borrower/sessions", json={"tenant": "alpha", "iin": client["iin"], "password": PASSWORD,
                                                     **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_LOAN_7_registration_needs_the_phone_code_biometrics_and_eds(http, alpha, services) -> None:
    """LOAN-7: an individual registers with the SMS code, biometrics and EDS; until all three, no login."""
    iin = f.iin()
    token = own_token(services, iin)
    client = register(http, alpha, services, iin=iin, eds=token)
    invitation = invite(http, alpha, services, client, language="ru")
    # The MFO's view of the development outbox shows the link without its token (issue 15's rule, issue 16).
    outbox = http.get("/dev/sms-outbox", headers=alpha, params={"phone": client["phone"]}).text
    assert invitation.split(".")[1] not in outbox and "/cabinet/register?t=(the client" in outbox
    seen = http.get(f"/clients/{client['id']}/account", headers=alpha).json()
    assert seen["status"] == "invited" and seen["bank_account"] is None and "*" in seen["phone"]
    started = http.post("/borrower/registration", headers={INVITE: invitation}, json={"password": PASSWORD})
    assert started.status_code == 201, started.text
    ceremony = started.json()
    assert ceremony["required"] == ["sms", "biometric", "eds"] and ceremony["missing"] == ceremony["required"]
    assert len(ceremony["movements"]) == 3 and len(set(ceremony["movements"])) == 3
    # Starting again at once would send another SMS: refused for a minute.
    again = http.post("/borrower/registration", headers={INVITE: invitation}, json={"password": PASSWORD})
    assert problem(again, 429)["code"] == "rate-limited"
    proofs = "/borrower/registration/proofs"
    # An EDS over other data proves nothing and counts as a failure.
    wrong = http.post(proofs, headers={INVITE: invitation},
                      json={"factor": "eds", "cms": eds_cms(token, ceremony, b"other data")})
    assert problem(wrong, 403)["problems"][0]["field"] == "cms"
    # Garbage where a CMS or an assertion goes: refused with its reason, never a 500.
    good = base64.b64decode(eds_cms(token, ceremony))
    for cms in (good[: len(good) // 2],):
        broken = http.post(proofs, headers={INVITE: invitation},
                           json={"factor": "eds", "cms": base64.b64encode(cms).decode()})
        assert problem(broken, 403)["problems"][0]["field"] == "cms"
    assert problem(http.post(proofs, headers={INVITE: invitation},
                             json={"factor": "biometric", "assertion": "a.b.c"}), 403)["problems"][0]["field"] \
        == "assertion"
    # A biometric assertion for another person is refused.
    other = http.post(proofs, headers={INVITE: invitation},
                      json={"factor": "biometric", "assertion": assertion(services, f.iin(), ceremony)})
    assert "another person" in problem(other, 403)["problems"][0]["message"]
    for body in ({"factor": "sms", "code": last_code(services, client["phone"])},
                 {"factor": "biometric", "assertion": assertion(services, iin, ceremony)}):
        given = http.post(proofs, headers={INVITE: invitation}, json=body)
        assert given.status_code == 200, given.text
    assert given.json()["status"] == "open" and given.json()["missing"] == ["eds"]
    refused = http.post("/borrower/sessions", json={"tenant": "alpha", "iin": iin, "password": PASSWORD})
    problem(refused, 401)
    done = http.post(proofs, headers={INVITE: invitation}, json={"factor": "eds", "cms": eds_cms(token, ceremony)})
    assert done.status_code == 200 and done.json()["status"] == "done", done.text
    assert http.get(f"/clients/{client['id']}/account", headers=alpha).json()["status"] == "active"
    # The invitation is spent; the account logs in with its password.
    problem(http.get("/borrower/registration", headers={INVITE: invitation}), 401)
    session = login(http, {"iin": iin})
    me = http.get("/borrower/me", headers=bearer(session)).json()
    assert me["iin"] == iin and me["phone"] == client["phone"] and me["status"] == "active"
    (entry,) = [e for e in _audit(services, "borrower.registered") if e.subject == f"account:{me['id']}"]
    assert entry.details["factors"] == ["sms", "biometric", "eds"]
    assert len([e for e in _audit(services, "borrower.factor-failed") if e.subject == f"account:{me['id']}"]) == 4
    # The invitation SMS was in the account's language.
    assert any("Qoltanba" in m.text and "/cabinet/register" in m.text for m in services.sms.messages(
        phone=client["phone"]))


def test_LOAN_7_an_individual_entrepreneur_registers_without_eds(http, alpha, services) -> None:
    """LOAN-7: "IP clients: no EDS" — the entrepreneur's registration asks the SMS code and biometrics only;
    an individual with no EDS enrolled cannot register."""
    client = registered(http, alpha, services, kind="entrepreneur", eds=False)
    assert client["ceremony"]["required"] == ["sms", "biometric"]
    login(http, client)
    person = register(http, alpha, services, iin=f.iin())
    invitation = invite(http, alpha, services, person)
    before = _rows(services)
    refused = http.post("/borrower/registration", headers={INVITE: invitation}, json={"password": PASSWORD})
    assert problem(refused, 409)["problems"] == [{"field": "eds", "message": "no EDS certificate is enrolled"}]
    assert _rows(services) == before


def test_LOAN_8_login_with_password_then_authenticator_and_lockout(http, alpha, services) -> None:
    """LOAN-8: the password (and the authenticator's code once enrolled); five failures lock the account, audited;
    sessions end when idle, at logout, and are bearer tokens for the API."""
    client = registered(http, alpha, services)
    wrong = {"tenant": "alpha", "iin": client["iin"], "password": "not-the-password"}
    for _ in range(5):
        problem(http.post("/borrower/sessions", json=wrong), 401)
    locked = http.post("/borrower/sessions", json={**wrong, "password": PASSWORD})
    assert problem(locked, 401)["detail"] == problem(http.post("/borrower/sessions", json=wrong), 401)["detail"]
    account = http.get(f"/clients/{client['id']}/account", headers=alpha).json()
    assert account["locked_until"] is not None
    subject = f"account:{account['id']}"
    assert [e.details["reason"] for e in _audit(services, "borrower.login-failed") if e.subject == subject] == \
        ["password"] * 5 + ["locked", "locked"]
    assert [e.subject for e in _audit(services, "borrower.locked")] == [subject]
    services.clock.advance(dt.timedelta(minutes=16))
    session = login(http, client)
    # The borrower's own authenticator.
    shown = http.post("/borrower/totp", headers=bearer(session))
    assert shown.status_code == 200, shown.text
    seed = shown.json()["secret"]
    problem(http.post("/borrower/totp/confirm", headers=bearer(session), json={"code": "000000"}), 403)
    confirmed = http.post("/borrower/totp/confirm", headers=bearer(session),
                          json={"code": totp_code(seed, services.clock.now())})
    assert confirmed.status_code == 200 and confirmed.json()["totp"] is True, confirmed.text
    services.clock.advance(dt.timedelta(seconds=30))
    problem(http.post("/borrower/sessions", json={**wrong, "password": PASSWORD}), 401)   # the code is missing
    second = login(http, client, code=totp_code(seed, services.clock.now()))
    # The MFO sees that an authenticator exists, never its seed.
    assert seed not in http.get(f"/clients/{client['id']}/account", headers=alpha).text
    # Idle for longer than 30 minutes: the session is over; logout ends one at once.
    assert http.get("/borrower/me", headers=bearer(second)).status_code == 200
    services.clock.advance(dt.timedelta(minutes=31))
    problem(http.get("/borrower/me", headers=bearer(second)), 401)
    third = login(http, client, code=totp_code(seed, services.clock.now()))
    assert http.post("/borrower/sessions/end", headers=bearer(third)).status_code == 204
    problem(http.get("/borrower/me", headers=bearer(third)), 401)
    problem(http.get("/borrower/me", headers={"Authorization": "Bearer bs_" + "0" * 32 + "_forged"}), 401)


def test_LOAN_9_phone_and_bank_details_change_with_biometrics_and_eds(http, alpha, services) -> None:
    """LOAN-9: the cabinet's own action, biometrics and EDS (the new phone confirmed by its code), audited; the old
    phone told by SMS; the IIN cannot be changed."""
    client = registered(http, alpha, services)
    session = login(http, client)
    old, new = client["phone"], phone()
    iban = "KZ86125KZT5004100100"
    started = http.post("/borrower/changes", headers=bearer(session),
                        json={"phone": new, "bank_account": iban, "bank_bic": "HSBKKZKX", "bank_name": "Halyk Bank"})
    assert started.status_code == 201, started.text
    change = started.json()
    assert change["required"] == ["sms", "biometric", "eds"]
    proofs = f"/borrower/changes/{change['id']}/proofs"
    code = last_code(services, new)   # the code went to the new phone
    for body in ({"factor": "biometric", "assertion": assertion(services, client["iin"], change)},
                 {"factor": "sms", "code": code}):
        assert http.post(proofs, headers=bearer(session), json=body).status_code == 200
    # Not yet in force: the EDS is missing.
    assert http.get("/borrower/me", headers=bearer(session)).json()["phone"] == old
    done = http.post(proofs, headers=bearer(session), json={"factor": "eds", "cms": eds_cms(client["token"], change)})
    assert done.status_code == 200 and done.json()["status"] == "done", done.text
    me = http.get("/borrower/me", headers=bearer(session)).json()
    assert (me["phone"], me["bank_account"], me["bank_bic"], me["bank_name"]) == (new, iban, "HSBKKZKX",
                                                                                  "Halyk Bank")
    told = [m.text for m in services.sms.messages(phone=old)]
    # In the account's language (Kazakh unless the MFO's invitation named another), the new phone masked.
    assert say("kk", words.PHONE_CHANGED).format(phone=masked(new)) in told, told
    assert say("kk", words.BANK_CHANGED).format(tail=iban[-4:]) in told, told
    assert not any(new in t for t in told) and say("kk", words.PHONE_CHANGED) != words.PHONE_CHANGED
    (entry,) = [e for e in _audit(services, "borrower.details-changed") if e.subject == f"account:{me['id']}"]
    assert entry.details["fields"] == ["phone", "bank"] and entry.details["factors"] == ["biometric", "sms", "eds"]
    assert new not in str(entry.details) and iban not in str(entry.details)
    # The new phone carries the client's signing codes now: the MFO's view says so.
    factors = http.get(f"/clients/{client['id']}", headers=alpha).json()
    assert factors["phone"] == new
    assert {x["phone"] for x in factors["factors"] if x["kind"] == "sms" and x["status"] == "active"} == {new}
    # The IIN is not a field that can change.
    problem(http.post("/borrower/changes", headers=bearer(session), json={"iin": f.iin()}), 422)
    # A bank change alone asks biometrics and EDS (no code); without the EDS nothing changes.
    services.clock.advance(dt.timedelta(seconds=61))
    bank = http.post("/borrower/changes", headers=bearer(session),
                     json={"bank_account": "KZ75125KZT2069100100", "bank_bic": "CASPKZKA", "bank_name": "Kaspi"})
    assert bank.json()["required"] == ["biometric", "eds"]
    assert http.post(f"/borrower/changes/{bank.json()['id']}/proofs", headers=bearer(session), json={
        "factor": "biometric", "assertion": assertion(services, client["iin"], bank.json())}).status_code == 200
    assert http.get("/borrower/me", headers=bearer(session)).json()["bank_account"] == iban
    # Five refused proofs lock the change: even the right EDS is refused afterwards, and nothing changed.
    bank_proofs = f"/borrower/changes/{bank.json()['id']}/proofs"
    for _ in range(5):
        problem(http.post(bank_proofs, headers=bearer(session), json={
            "factor": "eds", "cms": eds_cms(client["token"], bank.json(), b"something else")}), 403)
    locked = http.post(bank_proofs, headers=bearer(session),
                       json={"factor": "eds", "cms": eds_cms(client["token"], bank.json())})
    assert problem(locked, 409)["problems"] == [{"field": "ceremony", "message": "is locked"}]
    assert http.get(f"/borrower/changes/{bank.json()['id']}", headers=bearer(session)).json()["status"] == "locked"
    assert http.get("/borrower/me", headers=bearer(session)).json()["bank_account"] == iban


def test_bad_input_lists_every_problem_and_writes_nothing(http, alpha, services) -> None:
    client = registered(http, alpha, services)
    session = login(http, client)
    before = _rows(services), len(services.sms.messages())
    bad = http.post("/borrower/changes", headers=bearer(session),
                    json={"phone": "12345", "bank_account": "KZ00125KZT5004100100", "bank_bic": "nope"})
    fields = {p["field"] for p in problem(bad, 422)["problems"]}
    assert fields == {"phone", "bank_account", "bank_bic", "bank_name"}, bad.text
    empty = http.post("/borrower/changes", headers=bearer(session), json={})
    assert [p["field"] for p in problem(empty, 422)["problems"]] == ["phone"]
    same = http.post("/borrower/changes", headers=bearer(session), json={"phone": client["phone"]})
    assert problem(same, 422)["problems"][0]["message"] == "is the phone in force already"
    wrong = http.post("/borrower/sessions", json={"tenant": "", "iin": "123", "password": "", "code": "12"})
    assert {p["field"] for p in problem(wrong, 422)["problems"]} == {"tenant", "iin", "password", "code"}
    checksum = http.post("/borrower/sessions", json={"tenant": "alpha", "iin": "900101300010", "password": "x"})
    assert problem(checksum, 422)["problems"][0]["field"] == "iin"
    # Registration: a password with the IIN in it, refused with its reason (the invitation stays live).
    other = register(http, alpha, services, iin=f.iin())
    invitation = invite(http, alpha, services, other)
    before = _rows(services), len(services.sms.messages())
    weak = http.post("/borrower/registration", headers={INVITE: invitation},
                     json={"password": f"{other['iin']}xx"})
    assert problem(weak, 422)["problems"]
    assert (_rows(services), len(services.sms.messages())) == before
    # Unknown clients, a foreign tenant's client: 404 for the MFO; a wrong invitation token: 401.
    beta = mfo_key_of(http, services, "beta")
    problem(http.post(f"/clients/{client['id']}/account", headers=beta), 404)
    problem(http.get(f"/clients/{client['id']}/account", headers=beta), 404)
    problem(http.post(f"/clients/{'f' * 32}/account", headers=alpha, json={"language": "de"}), 422)
    problem(http.get("/borrower/registration", headers={INVITE: invitation[:-2] + "xx"}), 401)
    assert (_rows(services), len(services.sms.messages())) == before


def mfo_key_of(http, services, tenant: str) -> dict[str, str]:
    from tests.support.tenants import ensure_tenant

    ensure_tenant(services, tenant)
    response = http.post("/api-keys", json={"name": f"mfo-{tenant}-accounts", "role": "mfo", "tenant": tenant})
    assert response.status_code == 201, response.text
    return {"X-API-Key": response.json()["key"]}


def test_the_borrower_sees_their_own_documents_signed_copies_and_evidence_only(http, alpha, services) -> None:
    client = registered(http, alpha, services)
    session = login(http, client)
    document = upload(http, alpha, iin=client["iin"], kind="schedule")
    created = http.post("/signing-requests", headers=alpha, json={"document": document, "client": client["id"],
                                                                  "level": "B-B"})
    assert created.status_code == 201, created.text
    assert SigningPage(http, services, created.json()).eds(client["token"]).json()["status"] == "sealed"
    # Another borrower of the same MFO, and another MFO's borrower with the same IIN.
    other = register(http, alpha, services, iin=f.iin())
    theirs = upload(http, alpha, iin=other["iin"], kind="schedule")
    beta = mfo_key_of(http, services, "beta")
    foreign = upload(http, beta, iin=client["iin"], kind="schedule")
    desk = http.get("/borrower/documents", headers=bearer(session)).json()
    assert [d["id"] for d in desk["documents"]] == [document]
    (request,) = desk["requests"]
    assert (request["id"], request["document"], request["evidence"]) == (created.json()["id"], document, True)
    signed = http.get(f"/borrower/documents/{document}/pdf", headers=bearer(session))
    assert signed.status_code == 200 and signed.content.startswith(b"%PDF")
    assert signed.content == http.get(f"/documents/{document}/pdf", headers=alpha).content
    evidence = http.get(f"/signing-requests/{request['id']}/evidence".join(["/borrower", ""]),
                        headers=bearer(session))
    assert evidence.status_code == 200 and evidence.json()["record"]["signing_request"] == request["id"]
    for path in (f"/borrower/documents/{theirs}/pdf", f"/borrower/documents/{foreign}/pdf",
                 f"/borrower/documents/{'f' * 32}/pdf", f"/borrower/signing-requests/{'f' * 32}/evidence"):
        problem(http.get(path, headers=bearer(session)), 404)
    problem(http.get("/borrower/documents"), 401)
