"""Dual control (issue 8): a second, different administrator approves before the action runs.

Each of the four actions (revoke a CA certificate, stop a centre, create a
CA key, change the signing policy) stays pending, with nothing changed,
until a second administrator approves over HTTP; the requester cannot
approve their own request, non-administrators cannot decide, a rejection
means nothing happens, and a request runs once however often it is
approved. On SQLite and PostgreSQL; the command line keeps the same
procedure.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from cryptography import x509
from fastapi.testclient import TestClient

from api.access import AccessService
from ca.clock import FrozenClock
from signing.factors import totp_code
from tests.integration.test_api import problem
from tests.integration.test_cli import lines, run
from tests.integration.test_people import PASSWORD, seed_of
from tests.support import factories as f


@pytest.fixture
def keys(services) -> dict[str, dict]:
    """API keys of three administrators, a registrar and an auditor ("admin" is the http fixture's)."""
    access = AccessService(services.registry, services.clock)
    return {name: {"X-API-Key": access.create_key(name, role, by="test").key}
            for name, role in [("admin-b", "administrator"), ("admin-c", "administrator"),
                               ("registrar", "registrar"), ("auditor", "auditor")]}


def serial_of(services, centre: str) -> str:
    return format(services.authority.issuing_ca(centre).certificate.serial_number, "x")


def status_of(http, serial: str) -> str:
    response = http.get(f"/certificates/{serial}")
    assert response.status_code == 200, response.text
    return response.json()["status"]


def audit(services, prefix: str) -> list:
    with services.registry.transaction() as tx:
        return [e for e in tx.audit.entries(limit=100000) if e.action.startswith(prefix)]


def asked(response) -> dict:
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "pending" and body["requested_by"] == "admin"
    return body


def approve(http, approval_id: str, who: dict):
    return http.post(f"/approvals/{approval_id}/approve", headers=who)


def test_revoking_a_ca_certificate_waits_for_a_second_administrator(services, http, keys):
    """ROOT-6 under dual control: the national CA's certificate is revoked only once a second admin approves."""
    national = serial_of(services, "national")
    request = asked(http.post(f"/certificates/{national}/revoke", json={"ground": "ca-liquidation"}))
    assert request["action"] == "ca-certificate.revoke" and request["subject"] == f"certificate:{national}"
    assert status_of(http, national) == "valid"                            # nothing happened yet
    assert [a["id"] for a in http.get("/approvals?status=pending", headers=keys["auditor"]).json()] == [
        request["id"]]
    done = approve(http, request["id"], keys["admin-b"])
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "executed" and done.json()["decided_by"] == "admin-b"
    assert status_of(http, national) == "revoked"
    root_crl = x509.load_der_x509_crl(services.publisher.latest("root", "full").der)
    assert root_crl.get_revoked_certificate_by_serial_number(int(national, 16)) is not None
    revoked = [e for e in audit(services, "certificate.revoked") if e.subject == national]
    assert revoked[0].actor == "admin" and revoked[0].details["approved_by"] == "admin-b"
    # An end-entity certificate is still revoked in one step by a registrar.
    person = f.issue_person(services)
    assert http.post(f"/certificates/{person.serial}/revoke", json={}, headers=keys["registrar"]).status_code == 200


def test_a_cas_revocation_application_waits_for_a_second_administrator(services, http, keys):
    """ROOT-6: approving a CA's own revocation application (appendix 3) is dual-controlled too."""
    national = services.authority.issuing_ca("national").certificate
    form = {"serial": format(national.serial_number, "x"), "issued_on": national.not_valid_before_utc.date().isoformat(),
            "ca_name": "QOLTANBA NATIONAL CA", "organisation": "QOLTANBA", "ground": "ca-liquidation"}
    submitted = http.post("/applications", json={"kind": "revocation-ca", "form": form,
                                                 "attachments": [{"kind": "official-letter", "name": "l.pdf"}]})
    assert submitted.status_code == 201, submitted.text
    application = submitted.json()["id"]
    problem(http.post(f"/applications/{application}/approve", json={}, headers=keys["registrar"]), 403)
    request = asked(http.post(f"/applications/{application}/approve", json={}))
    assert request["subject"] == f"application:{application}"
    assert http.get(f"/applications/{application}").json()["status"] == "submitted"
    assert status_of(http, form["serial"]) == "valid"
    done = approve(http, request["id"], keys["admin-b"])
    assert done.status_code == 200, done.text
    assert done.json()["result"]["revocation"]["centre"] == "root"
    assert http.get(f"/applications/{application}").json()["status"] == "revoked"
    assert status_of(http, form["serial"]) == "revoked"


def test_stopping_a_centre_waits_for_a_second_administrator(services, http, keys):
    """NAT-5 under dual control: nothing is revoked until the second approval; then everything at once."""
    people = [f.issue_person(services) for _ in range(2)]
    request = asked(http.post("/ca/national/stop"))
    assert all(status_of(http, p.serial) == "valid" for p in people)
    f.issue_person(services)                                                # the centre still issues
    done = approve(http, request["id"], keys["admin-b"])
    assert done.status_code == 200, done.text
    revoked = {r["serial"] for r in done.json()["result"]["revoked"]}
    assert {p.serial for p in people} <= revoked and serial_of(services, "national") in revoked
    assert all(status_of(http, p.serial) == "revoked" for p in people)


def test_creating_a_ca_key_waits_for_a_second_administrator(services, http, keys):
    request = asked(http.post("/approvals", json={"action": "ca-key.create", "params": {"centre": "government"}}))
    # the centre's own algorithm (GOST 2015-512 for the government CA, GOV-7) unless the request names one
    assert request["params"] == {"centre": "government", "algorithm": "gost2015-512"}
    assert audit(services, "ca_key.created") == []
    done = approve(http, request["id"], keys["admin-b"])
    assert done.status_code == 200, done.text
    created = done.json()["result"]
    assert created["centre"] == "government"
    services.backend.public_key(created["handle"])                           # the key exists in the backend
    entry = audit(services, "ca_key.created")[0]
    assert entry.details["handle"] == created["handle"] and entry.details["approved_by"] == "admin-b"


def test_changing_the_signing_policy_waits_for_a_second_administrator(services, http, keys):
    before = http.get("/signing-policy", headers=keys["auditor"]).json()
    policy = json.loads(json.dumps(before["policy"]))
    policy["codes"]["max_failures"] = 3
    request = asked(http.post("/approvals", json={"action": "signing-policy.change", "params": {"policy": policy}}))
    assert http.get("/signing-policy").json()["fingerprint"] == before["fingerprint"]
    assert services.signing_requests.policies.codes.max_failures != 3
    done = approve(http, request["id"], keys["admin-b"])
    assert done.status_code == 200, done.text
    after = http.get("/signing-policy").json()
    assert after["fingerprint"] == request["params"]["fingerprint"] != before["fingerprint"]
    assert after["policy"]["codes"]["max_failures"] == 3
    assert services.signing_requests.policies.codes.max_failures == 3   # in force in this process at once
    assert json.loads(services.signing_policy_path.read_text())["codes"]["max_failures"] == 3
    assert audit(services, "signing.policy_changed")[-1].details["fingerprint"] == after["fingerprint"]
    # A bad policy is refused when asked, every problem listed, nothing kept.
    policy["codes"]["max_failure"] = 1
    policy["payout"] = {"delay_hours": "soon"}
    body = problem(http.post("/approvals", json={"action": "signing-policy.change", "params": {"policy": policy}}),
                   422)
    assert len(body["problems"]) >= 2 and {p["field"] for p in body["problems"]} == {"policy"}
    assert len(http.get("/approvals").json()) == 1


def test_the_requester_cannot_approve_their_own_request(services, http, keys):
    request = asked(http.post("/ca/government/stop"))
    body = problem(approve(http, request["id"], {}), 403)                    # "admin", who asked
    assert "second, different administrator" in body["detail"]
    assert http.get(f"/approvals/{request['id']}").json()["status"] == "pending"
    refused = audit(services, "approval.refused")
    assert refused[-1].actor == "admin" and refused[-1].subject == f"approval:{request['id']}"
    assert audit(services, "centre.stopped") == []


def test_non_administrators_may_neither_ask_nor_decide(services, http, keys):
    request = asked(http.post("/ca/government/stop"))
    for who in ("registrar", "auditor"):
        problem(approve(http, request["id"], keys[who]), 403)
        problem(http.post(f"/approvals/{request['id']}/reject", json={}, headers=keys[who]), 403)
        problem(http.post("/approvals", json={"action": "centre.stop", "params": {"centre": "national"}},
                          headers=keys[who]), 403)
    problem(http.post(f"/certificates/{serial_of(services, 'national')}/revoke", json={"ground": "ca-liquidation"},
                      headers=keys["registrar"]), 403)
    assert http.get(f"/approvals/{request['id']}").json()["status"] == "pending"
    assert len(http.get("/approvals").json()) == 1


def test_a_rejected_request_does_nothing_and_cannot_be_approved_afterwards(services, http, keys):
    national = serial_of(services, "national")
    request = asked(http.post(f"/certificates/{national}/revoke", json={"ground": "ca-liquidation"}))
    rejected = http.post(f"/approvals/{request['id']}/reject", json={"note": "wrong centre"}, headers=keys["admin-b"])
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    problem(approve(http, request["id"], keys["admin-c"]), 409)
    assert status_of(http, national) == "valid"
    assert audit(services, "certificate.revoked") == []
    assert audit(services, "approval.rejected")[0].details["note"] == "wrong centre"


def test_approving_twice_runs_the_action_once(services, http, keys):
    national = serial_of(services, "national")
    request = asked(http.post(f"/certificates/{national}/revoke", json={"ground": "ca-liquidation"}))
    assert approve(http, request["id"], keys["admin-b"]).status_code == 200
    problem(approve(http, request["id"], keys["admin-c"]), 409)
    problem(approve(http, request["id"], keys["admin-b"]), 409)
    assert len([e for e in audit(services, "certificate.revoked") if e.subject == national]) == 1
    assert len(services.revocations.journal("root")) == 1
    assert [e.actor for e in audit(services, "approval.refused")] == ["admin-c", "admin-b"]   # each refusal audited


def test_concurrent_approvals_run_the_action_once(services, http, keys):
    request = asked(http.post("/approvals", json={"action": "ca-key.create", "params": {"centre": "national"}}))
    answers: list[int] = []
    barrier = threading.Barrier(2)

    def approve_as(who: str) -> None:
        barrier.wait()
        answers.append(approve(http, request["id"], keys[who]).status_code)

    threads = [threading.Thread(target=approve_as, args=(who,)) for who in ("admin-b", "admin-c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409]
    assert len(audit(services, "ca_key.created")) == 1


def test_a_request_lapses_unapproved(services, http, keys):
    request = asked(http.post("/ca/government/stop"))
    services.dual_control.clock = FrozenClock(services.clock.now() + dt.timedelta(hours=25))
    problem(approve(http, request["id"], keys["admin-b"]), 409)
    assert http.get(f"/approvals/{request['id']}").json()["status"] == "expired"
    assert audit(services, "centre.stopped") == []


def test_bad_requests_list_every_problem_and_record_nothing(services, http, keys):
    body = problem(http.post("/approvals", json={"action": "launch.missiles", "params": {}}), 422)
    assert [p["field"] for p in body["problems"]] == ["action"]
    body = problem(http.post("/approvals", json={"action": "ca-key.create",
                                                 "params": {"centre": "moon", "algorithm": "rot13"}}), 422)
    assert {p["field"] for p in body["problems"]} == {"centre", "algorithm"}
    person = f.issue_person(services)
    problem(http.post("/approvals", json={"action": "ca-certificate.revoke", "params": {"serial": person.serial}}),
            422)                                                            # not a CA certificate
    assert http.get("/approvals").json() == [] and audit(services, "approval.") == []


def test_a_console_session_of_a_second_administrator_approves(services, http):
    """People (issue 8) and dual control together: the approver logs in with password and TOTP."""
    seed = seed_of(services.people.add("saule", "administrator", PASSWORD, by="test").provisioning_uri)
    login = http.post("/console/login", headers={"X-API-Key": ""}, json={
        "name": "saule", "password": PASSWORD, "code": totp_code(seed, services.clock.now()), "token_in_body": True})
    assert login.status_code == 200, login.text
    session = {"X-API-Key": login.json()["token"]}
    request = asked(http.post("/ca/government/stop"))
    done = approve(http, request["id"], session)
    assert done.status_code == 200 and done.json()["decided_by"] == "saule"


def test_cli_stop_and_policy_change_need_a_second_administrator(tmp_path: Path):
    home = tmp_path / "home"
    run(home, "init")
    for name in ("alma", "berik"):
        run(home, "apikey", "create", "--name", name, "--role", "administrator")
    run(home, "apikey", "create", "--name", "rita", "--role", "registrar")
    assert "administrator" in run(home, "ca", "stop", "--ca", "government", "--yes", "--actor", "rita",
                                  code=2).stderr
    pending = lines(run(home, "ca", "stop", "--ca", "government", "--yes", "--actor", "alma"))[0]
    assert pending["status"] == "pending" and pending["action"] == "centre.stop"
    assert "different administrator" in run(home, "approvals", "approve", pending["id"], "--actor", "alma",
                                            code=2).stderr
    run(home, "approvals", "approve", pending["id"], "--actor", "rita", code=2)
    assert lines(run(home, "approvals", "list", "--status", "pending"))[0]["id"] == pending["id"]
    done = lines(run(home, "approvals", "approve", pending["id"], "--actor", "berik"))[0]
    assert done["status"] == "executed" and done["result"]["centre"] == "government"
    assert "already executed" in run(home, "approvals", "approve", pending["id"], "--actor", "berik",
                                     code=2).stderr
    policy = lines(run(home, "signing-policy", "show"))[0]
    policy["policy"]["codes"]["max_failures"] = 4
    (tmp_path / "policy.json").write_text(json.dumps(policy["policy"]))
    asked_change = lines(run(home, "signing-policy", "set", "--file", str(tmp_path / "policy.json"), "--actor",
                             "berik"))[0]
    assert lines(run(home, "signing-policy", "show"))[0]["fingerprint"] == policy["fingerprint"]
    rejected = lines(run(home, "approvals", "reject", asked_change["id"], "--actor", "alma", "--note", "no"))[0]
    assert rejected["status"] == "rejected"
    assert lines(run(home, "signing-policy", "show"))[0]["fingerprint"] == policy["fingerprint"]
