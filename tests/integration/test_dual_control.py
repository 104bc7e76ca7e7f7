"""Dual control (issue 8): a second, different administrator approves before the action runs.

Each of the five actions (revoke a CA certificate, stop a centre, create or
retire a CA key, change the signing policy) stays pending, with nothing changed,
until a second administrator approves over HTTP; the requester cannot
approve their own request, non-administrators cannot decide, a rejection
means nothing happens, and a request runs once however often it is
approved. On SQLite and PostgreSQL; the command line keeps the same
procedure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from pathlib import Path

import pytest
from cryptography import x509
from fastapi.testclient import TestClient

from ca.access import AccessService
from ca.approvals import Approval, DualControlRequired
from ca.clock import FrozenClock
from ca.errors import ConflictError, NotPermitted
from keys import KeyNotFound, SoftwareKeyBackend, spki_of
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
    return format(services.hierarchy.issuing_ca(centre).certificate.serial_number, "x")


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
    national = services.hierarchy.issuing_ca("national").certificate
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


# -- retiring a CA key ---------------------------------------------------------------------


def created_ca_key(http, keys, centre: str = "national") -> dict:
    """A CA key made for ``centre`` through dual control (EC P-256: quick), as ca-key.create returned it."""
    request = asked(http.post("/approvals", json={"action": "ca-key.create",
                                                  "params": {"centre": centre, "algorithm": "ec-p256"}}))
    done = approve(http, request["id"], keys["admin-b"])
    assert done.status_code == 200, done.text
    return done.json()["result"]


def ask_retire(http, centre: str, handle: str, **extra):
    return http.post("/approvals", json={"action": "ca-key.retire", "params": {"centre": centre, "handle": handle},
                                         **extra})


def fresh_backend(services) -> SoftwareKeyBackend:
    """The key directory read by a new process: nothing cached."""
    return SoftwareKeyBackend(services.settings.home / "keys", services.master_key)


def usable(backend, handle: str) -> bool:
    try:
        backend.public_key(handle)
        backend.sign(handle, b"still here?", "sha256")
    except KeyNotFound:
        return False
    return True


def test_retiring_a_ca_key_waits_for_a_second_administrator(services, http, keys):
    key = created_ca_key(http, keys)
    request = asked(ask_retire(http, "national", key["handle"]))
    assert request["action"] == "ca-key.retire" and request["subject"] == f"ca-key:{key['handle']}"
    # the approver sees which key will be destroyed
    assert request["params"] == {"centre": "national", "handle": key["handle"], "algorithm": "ec-p256",
                                 "public_key_sha256": key["public_key_sha256"]}
    assert usable(services.backend, key["handle"]) and usable(fresh_backend(services), key["handle"])
    assert audit(services, "ca_key.retired") == []
    done = approve(http, request["id"], keys["admin-b"])
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "executed" and done.json()["result"]["handle"] == key["handle"]
    # gone: from this process's backend, from a new process's, and from the disk
    for backend in (services.backend, fresh_backend(services)):
        with pytest.raises(KeyNotFound):
            backend.public_key(key["handle"])
        with pytest.raises(KeyNotFound):
            backend.sign(key["handle"], b"data", "sha256")
    key_id = key["handle"].removeprefix("soft:")
    assert list((services.settings.home / "keys").glob(f"{key_id}*")) == []
    entry = audit(services, "ca_key.retired")[0]
    assert entry.actor == "admin" and entry.subject == "national"
    assert entry.details["handle"] == key["handle"]
    assert entry.details["public_key_sha256"] == key["public_key_sha256"]
    assert entry.details["approval"] == request["id"] and entry.details["approved_by"] == "admin-b"
    # the centre signs on with its own key
    assert f.issue_person(services).serial


def test_retiring_a_ca_key_is_refused_without_a_second_administrator(services, http, keys):
    key = created_ca_key(http, keys)
    request = asked(ask_retire(http, "national", key["handle"]))
    body = problem(approve(http, request["id"], {}), 403)                      # "admin", who asked
    assert "second, different administrator" in body["detail"]
    for who in ("registrar", "auditor"):
        problem(approve(http, request["id"], keys[who]), 403)
    assert http.get(f"/approvals/{request['id']}").json()["status"] == "pending"
    assert usable(services.backend, key["handle"])
    # Below HTTP too: the service itself demands an approval naming two people.
    for approval in (None, Approval("x", "ca-key.retire", request["params"], "admin", "admin"),
                     Approval("x", "ca-key.create", request["params"], "admin", "admin-b")):
        with pytest.raises(DualControlRequired):
            services.ca_keys.retire_ca_key("national", key["handle"], "admin", approval)
    assert usable(fresh_backend(services), key["handle"]) and audit(services, "ca_key.retired") == []


def test_a_rejected_retirement_leaves_the_key(services, http, keys):
    key = created_ca_key(http, keys)
    request = asked(ask_retire(http, "national", key["handle"]))
    rejected = http.post(f"/approvals/{request['id']}/reject", json={"note": "still needed"}, headers=keys["admin-b"])
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    problem(approve(http, request["id"], keys["admin-c"]), 409)
    assert usable(services.backend, key["handle"]) and usable(fresh_backend(services), key["handle"])
    assert audit(services, "ca_key.retired") == []


def test_retiring_the_key_a_centre_signs_with_is_refused(services, http, keys):
    active = services.hierarchy.issuing_ca("national").key_handle
    body = problem(ask_retire(http, "national", active), 409)
    assert "centre.stop" in body["detail"] and "signs with" in body["detail"]
    assert http.get("/approvals").json() == [] and audit(services, "approval.") == []
    assert usable(fresh_backend(services), active) and f.issue_person(services).serial
    # Nor at approval time: the service checks again.
    forged = Approval("x", "ca-key.retire", {"centre": "national", "handle": active}, "admin", "admin-b")
    with pytest.raises(ConflictError, match="centre.stop"):
        services.ca_keys.retire_ca_key("national", active, "admin", forged)
    assert usable(fresh_backend(services), active) and audit(services, "ca_key.retired") == []


def test_a_ca_key_is_retired_once(services, http, keys):
    key = created_ca_key(http, keys)
    first, second = (asked(ask_retire(http, "national", key["handle"])) for _ in range(2))
    assert approve(http, first["id"], keys["admin-b"]).status_code == 200
    # the second request, asked before the key went, fails when approved; nothing more is done
    body = problem(approve(http, second["id"], keys["admin-c"]), 409)
    assert "already retired" in body["detail"]
    assert http.get(f"/approvals/{second['id']}").json()["status"] == "failed"
    # and a new request for it is refused when asked
    assert "already retired" in problem(ask_retire(http, "national", key["handle"]), 409)["detail"]
    assert len(audit(services, "ca_key.retired")) == 1
    with services.registry.transaction() as tx:
        assert tx.ca_key_retirements.by_handle(key["handle"]).approved_by == "admin-b"


def test_retiring_an_unknown_ca_key_lists_every_problem_and_records_nothing(services, http, keys):
    national = created_ca_key(http, keys)
    before = len(http.get("/approvals").json())
    body = problem(http.post("/approvals", json={"action": "ca-key.retire", "params": {"colour": "red"}}), 422)
    assert {p["field"] for p in body["problems"]} == {"centre", "handle", "colour"}
    body = problem(ask_retire(http, "moon", 42), 422)
    assert {p["field"] for p in body["problems"]} == {"centre", "handle"}
    for centre, handle in (("national", "soft:" + "ab" * 16),                 # never created
                           ("government", national["handle"]),                # made for another centre
                           ("national", services.hierarchy.service_certificate("tsa").key_handle)):  # no CA key
        body = problem(ask_retire(http, centre, handle), 422)
        assert [p["field"] for p in body["problems"]] == ["handle"], body
    assert len(http.get("/approvals").json()) == before
    assert audit(services, "approval.requested")[-1].details["action"] == "ca-key.create"
    assert usable(services.backend, national["handle"])


def test_cli_key_retire_needs_a_second_administrator(tmp_path: Path):
    home = tmp_path / "home"
    run(home, "init")
    for name in ("alma", "berik"):
        run(home, "apikey", "create", "--name", name, "--role", "administrator")
    pending = lines(run(home, "ca", "key-create", "--ca", "national", "--algorithm", "ec-p256", "--actor", "alma"))[0]
    created = lines(run(home, "approvals", "approve", pending["id"], "--actor", "berik"))[0]["result"]
    asked_retire = lines(run(home, "ca", "key-retire", "--centre", "national", "--handle", created["handle"],
                             "--actor", "alma"))[0]
    assert asked_retire["status"] == "pending" and asked_retire["action"] == "ca-key.retire"
    assert "different administrator" in run(home, "approvals", "approve", asked_retire["id"], "--actor", "alma",
                                            code=2).stderr
    done = lines(run(home, "approvals", "approve", asked_retire["id"], "--actor", "berik"))[0]
    assert done["status"] == "executed" and done["result"]["public_key_sha256"] == created["public_key_sha256"]
    assert "already retired" in run(home, "ca", "key-retire", "--centre", "national", "--handle", created["handle"],
                                    "--actor", "alma", code=2).stderr
    assert "handle" in run(home, "ca", "key-retire", "--centre", "national", "--handle", "soft:nope",
                           "--actor", "alma", code=2).stderr


def test_retiring_a_ca_key_destroys_it_on_the_token(tmp_path):
    """PKCS#11: after the second approval the private and public key objects are gone from the token."""
    import pkcs11
    from pkcs11 import Attribute

    from api.wiring import Services
    from api.settings import Settings
    from tests.support.softhsm import softhsm_token

    token = softhsm_token(tmp_path / "hsm")
    pin_file = tmp_path / "pin"
    pin_file.write_text(token.pin + "\n")
    pin_file.chmod(0o600)
    services = Services.build(Settings(
        home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'registry.db'}", master_key="11" * 32,
        key_backend="pkcs11", pkcs11_module=token.module_path, pkcs11_token_label=token.label,
        pkcs11_pin_file=pin_file, ca_algorithm="ec-p256"))
    try:
        services.migrate()
        services.bootstrap.initialise()
        dual = services.dual_control

        def decided(action: str, params: dict) -> dict:
            request = dual.request(action, params, "alma", administrator=True)
            done = dual.approve(request.id, "berik", administrator=True)
            assert done.status == "executed", done
            return done.result

        key = decided("ca-key.create", {"centre": "national", "algorithm": "ec-p256"})
        label = key["handle"].removeprefix("pkcs11:")
        assert key["handle"].startswith("pkcs11:")
        public = services.backend.public_key(key["handle"])
        assert hashlib.sha256(spki_of(public)).hexdigest() == key["public_key_sha256"]

        def objects() -> list:
            # A second, PIN-less session, as another program would look (the backend holds the login).
            session = pkcs11.lib(token.module_path).get_token(token_label=token.label).open()
            try:
                return [obj[Attribute.CLASS] for obj in session.get_objects({Attribute.LABEL: label})]
            finally:
                session.close()

        assert len(objects()) == 2                                            # private and public key
        request = dual.request("ca-key.retire", {"centre": "national", "handle": key["handle"]}, "alma",
                               administrator=True)
        with pytest.raises(NotPermitted):
            dual.approve(request.id, "alma", administrator=True)              # not by the one who asked
        assert len(objects()) == 2 and services.backend.public_key(key["handle"]) == public
        done = dual.approve(request.id, "berik", administrator=True)
        assert done.status == "executed" and done.result["handle"] == key["handle"]
        assert objects() == []
        with pytest.raises(KeyNotFound):
            services.backend.public_key(key["handle"])
        with pytest.raises(KeyNotFound):
            services.backend.sign(key["handle"], b"data", "sha256")
        # the centres' own keys are untouched
        active = services.hierarchy.issuing_ca("national").key_handle
        assert services.backend.sign(active, b"data", "sha256")
    finally:
        backend = services.__dict__.get("backend")
        if backend is not None:
            backend.close()
        services.close()
