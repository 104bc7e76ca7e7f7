"""People of the centre (issue 8): console logins with argon2 passwords and TOTP, sessions, lockout.

Real components throughout: the app through TestClient on SQLite and
PostgreSQL, argon2-cffi, the sealed TOTP seed, the audit chain. The clock is
a FrozenClock injected into the services, so expiry and lockout are tested
by moving time, not by sleeping.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.wiring import Services
from api.settings import Settings
from ca.clock import FrozenClock
from signing.factors import totp_code
from tests.integration.test_api import issue_body, problem
from tests.integration.test_cli import lines, run

PASSWORD = "correct horse battery staple"
START = dt.datetime(2026, 11, 20, 9, 0, 7, tzinfo=dt.timezone.utc)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def centre(tmp_path, database_url, clock) -> Services:
    settings = Settings(home=tmp_path / "home", database_url=database_url, master_key="22" * 32,
                        console_idle_minutes=15, console_session_hours=1, console_lockout_failures=5,
                        console_lockout_minutes=15)
    svc = Services.build(settings, clock=clock)
    svc.migrate()
    svc.bootstrap.initialise()
    yield svc
    svc.close()


@pytest.fixture
def web(centre) -> TestClient:
    with TestClient(create_app(services=centre)) as client:
        yield client


def seed_of(uri: str) -> str:
    """What an authenticator app reads from the provisioning URI."""
    parsed = urllib.parse.urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    return urllib.parse.parse_qs(parsed.query)["secret"][0]


def add_person(centre: Services, name: str, role: str) -> str:
    return seed_of(centre.people.add(name, role, PASSWORD, by="test").provisioning_uri)


def login(web: TestClient, name: str, seed: str, clock: FrozenClock, *, password: str = PASSWORD,
          code: str | None = None):
    return web.post("/console/login", json={"name": name, "password": password, "token_in_body": True,
                                            "code": code or totp_code(seed, clock.now())})


def bearer(response) -> dict:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def audit(centre: Services, *actions: str) -> list:
    with centre.registry.transaction() as tx:
        return [e for e in tx.audit.entries(limit=100000) if e.action in actions]


def test_login_with_password_and_totp_gives_a_cookie_session_with_the_persons_role(centre, web, clock):
    seed = add_person(centre, "aigerim", "registrar")
    response = login(web, "aigerim", seed, clock)
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "registrar"
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith("qoltanba_session=qs_")
    assert {"httponly", "secure", "samesite"} <= attributes and "samesite=strict" in cookie.lower()
    token = response.json()["token"]
    # The cookie and the bearer token each authenticate the API key's routes with the person's role.
    assert web.get("/console/me", headers={"Cookie": f"qoltanba_session={token}"}).json() == {
        "name": "aigerim", "role": "registrar", "tenant": None}
    assert web.get("/certificates", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # Only a digest of the token's secret is stored.
    with centre.registry.transaction() as tx:
        stored = tx.console_sessions.by_token_id(token.split("_")[1])
        assert stored is not None and token.split("_", 2)[2] not in stored.token_digest


def test_wrong_password_and_wrong_code_are_refused_alike(centre, web, clock):
    seed = add_person(centre, "bolat", "administrator")
    wrong_password = login(web, "bolat", seed, clock, password="not the password at all")
    wrong_code = login(web, "bolat", seed, clock, code="000000" if totp_code(seed, clock.now()) != "000000"
                       else "111111")
    unknown = login(web, "nobody", seed, clock)
    bodies = [problem(r, 401) for r in (wrong_password, wrong_code, unknown)]
    assert len({b["detail"] for b in bodies}) == 1     # the answer never says which part was wrong
    assert all("set-cookie" not in r.headers for r in (wrong_password, wrong_code, unknown))
    reasons = [e.details["reason"] for e in audit(centre, "console.login_failed")]
    assert reasons == ["password", "code"]   # an unknown name is no account: counted and summarised (issue 18)


def test_a_totp_code_is_accepted_once(centre, web, clock):
    """RFC 6238 §5.2: the code that opened one session does not open another."""
    seed = add_person(centre, "dana", "auditor")
    code = totp_code(seed, clock.now())
    assert login(web, "dana", seed, clock, code=code).status_code == 200
    problem(login(web, "dana", seed, clock, code=code), 401)
    assert audit(centre, "console.login_failed")[-1].details["reason"] == "code-reused"
    clock.advance(dt.timedelta(seconds=30))
    assert login(web, "dana", seed, clock).status_code == 200      # the next step's code works


def test_two_logins_at_once_with_one_code_open_one_session(centre, web, clock):
    """The person's row is locked during a login, so a code is used once even by concurrent logins."""
    seed = add_person(centre, "daulet", "registrar")
    code = totp_code(seed, clock.now())
    barrier, answers = threading.Barrier(2), []

    def attempt() -> None:
        barrier.wait()
        answers.append(login(web, "daulet", seed, clock, code=code).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 401]
    assert [e.details["reason"] for e in audit(centre, "console.login_failed")] == ["code-reused"]


def test_lockout_after_the_fifth_failure_refuses_even_the_right_password(centre, web, clock):
    seed = add_person(centre, "erlan", "administrator")
    for attempt in range(5):
        clock.advance(dt.timedelta(seconds=30))
        problem(login(web, "erlan", seed, clock, password=f"wrong password {attempt}"), 401)
    locked = audit(centre, "person.locked")
    assert len(locked) == 1
    clock.advance(dt.timedelta(seconds=30))
    problem(login(web, "erlan", seed, clock), 401)                  # right password and a fresh code
    assert audit(centre, "console.login_failed")[-1].details["reason"] == "locked"
    clock.advance(dt.timedelta(minutes=15))
    assert login(web, "erlan", seed, clock).status_code == 200       # the lock lapses
    # Four failures, then a success: the count starts again.
    for attempt in range(4):
        clock.advance(dt.timedelta(seconds=30))
        problem(login(web, "erlan", seed, clock, password=f"wrong again {attempt}"), 401)
    clock.advance(dt.timedelta(seconds=30))
    assert login(web, "erlan", seed, clock).status_code == 200
    assert len(audit(centre, "person.locked")) == 1


def test_sessions_expire_when_idle_and_after_their_lifetime_and_at_logout(centre, web, clock):
    seed = add_person(centre, "farida", "auditor")
    idle = bearer(login(web, "farida", seed, clock))
    clock.advance(dt.timedelta(minutes=14))
    assert web.get("/console/me", headers=idle).status_code == 200     # used: the idle time restarts
    clock.advance(dt.timedelta(minutes=15))
    assert "expired" in problem(web.get("/console/me", headers=idle), 401)["detail"]
    clock.advance(dt.timedelta(seconds=30))
    busy = bearer(login(web, "farida", seed, clock))
    for _ in range(5):
        clock.advance(dt.timedelta(minutes=10))
        assert web.get("/console/me", headers=busy).status_code == 200
    clock.advance(dt.timedelta(minutes=10))                            # one hour after login
    problem(web.get("/console/me", headers=busy), 401)
    assert [e.details["reason"] for e in audit(centre, "console.session_expired")] == ["idle", "absolute"]
    clock.advance(dt.timedelta(seconds=30))
    short = bearer(login(web, "farida", seed, clock))
    assert web.post("/console/logout", headers=short).status_code == 204
    problem(web.get("/console/me", headers=short), 401)
    problem(web.get("/console/me", headers={"Authorization": "Bearer qs_0123456789abcdef_forged"}), 401)


def test_auditor_session_reads_but_may_not_write(centre, web, clock):
    seed = add_person(centre, "gulnar", "auditor")
    auditor = bearer(login(web, "gulnar", seed, clock))
    with centre.registry.transaction() as tx:
        before = tx.certificates.count()
    assert web.get("/certificates", headers=auditor).status_code == 200
    assert web.get("/journal/issuance", headers=auditor).status_code == 200
    problem(web.post("/certificates", json=issue_body(), headers=auditor), 403)
    problem(web.post("/api-keys", json={"name": "sneaky", "role": "administrator"}, headers=auditor), 403)
    with centre.registry.transaction() as tx:
        assert tx.certificates.count() == before
        assert tx.actors.by_name("sneaky") is None
    # API keys keep working beside sessions.
    from ca.access import AccessService

    key = AccessService(centre.registry, centre.clock).create_key("reg-key", "registrar", by="test").key
    assert web.post("/certificates", json=issue_body(), headers={"X-API-Key": key}).status_code == 201


def test_logins_and_failures_are_audited_without_the_password_or_the_code(centre, web, clock):
    seed = add_person(centre, "hamza", "registrar")
    good_code = totp_code(seed, clock.now())
    assert login(web, "hamza", seed, clock, code=good_code).status_code == 200
    clock.advance(dt.timedelta(seconds=30))
    bad_password = "hunter2-but-longer"
    problem(login(web, "hamza", seed, clock, password=bad_password), 401)
    entries = audit(centre, "person.created", "console.login", "console.login_failed")
    assert [e.action for e in entries] == ["person.created", "console.login", "console.login_failed"]
    assert all(e.subject == "person:hamza" for e in entries)
    text = json.dumps([[e.actor, e.action, e.subject, e.details] for e in entries])
    for secret in (PASSWORD, bad_password, good_code, totp_code(seed, clock.now()), seed):
        assert secret not in text
    with centre.registry.transaction() as tx:
        assert tx.audit.verify() is None
        person = tx.people.by_name("hamza")
        assert person.password_hash.startswith("$argon2id$") and PASSWORD not in person.password_hash
        assert seed.encode() not in person.totp_secret                # sealed, not stored in the clear


def test_bad_user_input_lists_every_field_and_creates_nothing(centre, web):
    from ca.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        centre.people.add("", "mfo", "short", by="test")
    assert {p.field for p in caught.value.problems} == {"name", "role", "password"}
    body = problem(web.post("/console/login", json={"name": "", "code": "12"}), 422)
    assert {p["field"] for p in body["problems"]} == {"name", "password", "code"}
    assert centre.people.list() == []


def test_cli_adds_a_user_once_printing_the_totp_uri_and_refuses_bad_input(tmp_path: Path):
    home = tmp_path / "home"
    run(home, "init")
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    added = lines(run(home, "users", "add", "zhanna", "--role", "administrator", "--password-file",
                      str(password_file)))[0]
    assert added["role"] == "administrator" and seed_of(added["totp_uri"])
    assert PASSWORD not in json.dumps(added)
    assert "exists" in run(home, "users", "add", "zhanna", "--role", "auditor", "--password-file",
                           str(password_file), code=2).stderr
    assert "role" in run(home, "users", "add", "other", "--role", "mfo", "--password-file", str(password_file),
                         code=2).stderr
    (tmp_path / "short").write_text("short\n")
    assert "password" in run(home, "users", "add", "other", "--role", "auditor", "--password-file",
                             str(tmp_path / "short"), code=2).stderr
    listed = lines(run(home, "users", "list"))
    assert [(p["name"], p["role"]) for p in listed] == [("zhanna", "administrator")]
    assert "totp" not in json.dumps(listed) and "hash" not in json.dumps(listed)
