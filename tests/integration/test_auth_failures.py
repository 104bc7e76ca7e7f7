"""Rejected credentials (issue 18, finding 2): no audit entry per request, a limit per source, a summary.

The app through TestClient on SQLite and PostgreSQL, each client at its own
address; the real rate limiter, audit chain and housekeeping thread.
"""

from __future__ import annotations

import secrets
import time

from fastapi.testclient import TestClient

from api.http.app import create_app
from tests.integration.test_api import problem

ATTACKER, SPRAYER, GUESSER, OFFICE = "203.0.113.7", "203.0.113.8", "203.0.113.9", "198.51.100.2"


def _entries(services) -> list:
    with services.registry.transaction(readonly=True) as tx:
        return tx.audit.entries(limit=100_000)


def _made_up_key() -> dict[str, str]:
    return {"X-API-Key": f"qk_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"}


def _limited(services, burst: int = 5) -> None:
    s = services.settings
    s.auth_failure_burst, s.auth_failure_rate_per_minute = burst, 1   # one token back a minute: no refill here


def test_issue18_finding2_rejected_credentials_write_nothing_per_request_and_are_limited_per_source(
        services, admin_key) -> None:
    """Issue 18, finding 2: 500 made-up API keys wrote 500 ``api_key.rejected`` entries in 1.9 s with no 429,
    and a fake console session token did the same. Now a rejected credential writes nothing when it happens;
    past the source's burst its credentials get 429 with Retry-After without being looked up (other sources
    are not touched); the counts per source and kind become one ``auth.rejected_summary`` entry per flush
    (and one more at shutdown); an unknown console login name writes no entry either."""
    _limited(services)
    app = create_app(services=services)
    with TestClient(app, client=(ATTACKER, 40000)) as attacker:
        before = len(_entries(services))      # after the start-up's own entries (settings, policy, CRLs)
        statuses = []
        for _ in range(30):
            answer = attacker.get("/certificates", headers=_made_up_key())
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                assert int(answer.headers["Retry-After"]) >= 1
                assert problem(answer, 429)["code"] == "rate-limited"
        assert statuses == [401] * 5 + [429] * 25
        # While limited, even a valid key from that address is not looked up.
        problem(attacker.get("/certificates", headers={"X-API-Key": admin_key}), 429)
        sprayer = TestClient(app, client=(SPRAYER, 40000))
        sessions = [sprayer.get("/console/me", headers={"Authorization": f"Bearer qs_{secrets.token_hex(8)}_x"})
                    for _ in range(8)]
        assert [r.status_code for r in sessions] == [401] * 5 + [429] * 3
        # Another source is not limited, and a request with no credential is neither limited nor counted.
        office = TestClient(app, client=(OFFICE, 40000))
        assert office.get("/certificates", headers={"X-API-Key": admin_key}).status_code == 200
        assert [office.get("/certificates").status_code for _ in range(10)] == [401] * 10
        guesser = TestClient(app, client=(GUESSER, 40000))
        problem(guesser.post("/console/login", json={"name": "nobody", "password": "not a password",
                                                      "code": "123456"}), 401)
        assert len(_entries(services)) == before, "nothing is written per rejected credential"

        assert services.auth_failures.flush() is True
        (summary,) = _entries(services)[before:]
        assert (summary.action, summary.actor, summary.subject) == ("auth.rejected_summary", "system", "auth")
        assert summary.details["sources"] == {ATTACKER: {"api_key": 5, "limited": 26},
                                              SPRAYER: {"console_session": 5, "limited": 3},
                                              GUESSER: {"console_login_unknown_name": 1}}
        assert summary.details["totals"] == {"api_key": 5, "console_login_unknown_name": 1, "console_session": 5,
                                             "limited": 29}
        assert services.auth_failures.flush() is False      # nothing new: no entry
        problem(sprayer.get("/console/me", headers={"X-API-Key": "qk_0_x"}), 429)
    # Shutting down writes what was counted since.
    last = _entries(services)[-1]
    assert last.action == "auth.rejected_summary" and last.details["sources"] == {SPRAYER: {"limited": 1}}
    assert len(_entries(services)) == before + 2
    assert not [e for e in _entries(services) if e.actor == "anonymous"]
    with services.registry.transaction(readonly=True) as tx:
        assert tx.audit.verify() is None


def test_issue18_finding2_the_housekeeping_thread_writes_the_summary_each_interval(services) -> None:
    """Issue 18, finding 2: the summary is written by the serving process's housekeeping thread at
    ``QOLTANBA_AUTH_FAILURE_SUMMARY_MINUTES``, one entry per interval with something to report."""
    _limited(services)
    services.settings.auth_failure_summary_minutes = 0.01     # 0.6 s
    with TestClient(create_app(services=services), client=(ATTACKER, 40000)) as attacker:
        for _ in range(3):
            problem(attacker.get("/certificates", headers=_made_up_key()), 401)
        deadline = time.monotonic() + 20
        while not [e for e in _entries(services) if e.action == "auth.rejected_summary"]:
            assert time.monotonic() < deadline, "no summary within 20 s"
            time.sleep(0.2)
        time.sleep(1.5)     # more intervals pass with nothing to report
        summaries = [e for e in _entries(services) if e.action == "auth.rejected_summary"]
        assert len(summaries) == 1 and summaries[0].details["sources"] == {ATTACKER: {"api_key": 3}}
