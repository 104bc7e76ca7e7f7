"""Tenants over HTTP and the command line (issue 15): onboarding with a seal, bad input, suspension, revocation.

An administrator creates a tenant (an MFO) with its BIN and legal name; our
national CA issues its seal at once, the key in the configured backend.
Every bad field is listed in one problem and nothing is written; a key
names a tenant that exists; suspending a tenant stops its signing and
uploads from that moment, and so does revoking its seal, until an
administrator gives it a new one. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

from cryptography import x509
from typer.testing import CliRunner

from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key, post_document  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support.signing import authorise, client_with_held_key
from tests.support.tenants import legal_bin

runner = CliRunner()


def _state(services) -> tuple:
    """What a refused request must leave as it was: tenants, certificates, actors, forms, the audit log."""
    with services.registry.transaction(readonly=True) as tx:
        return (len(tx.tenants.all()), tx.certificates.count(), len(tx.actors.all()),
                len(tx.audit.entries(limit=100_000)))


def _actions(services, action: str) -> list:
    with services.registry.transaction(readonly=True) as tx:
        return [e for e in tx.audit.entries(limit=100_000) if e.action == action]


def test_an_administrator_creates_a_tenant_whose_seal_names_its_bin_and_name(http, services) -> None:
    bin_ = legal_bin(101)
    created = http.post("/tenants", json={"name": 'ТОО "Микрофинансовая организация Алтын"', "bin": bin_,
                                          "code": "altyn"})
    assert created.status_code == 201, created.text
    view = created.json()
    assert (view["code"], view["bin"], view["status"], view["seal"]["source"]) == ("altyn", bin_, "active", "national")
    assert view["seal"]["bin"] == bin_ and view["api_keys"] == [] and view["own_policy"] is False
    with services.registry.transaction(readonly=True) as tx:
        row = tx.tenants.by_code("altyn")
        seal = tx.certificates.by_holder("tenant:altyn")
    assert len(seal) == 1 and seal[0].serial == view["seal"]["serial"] and seal[0].profile == "legal-seal"
    certificate = x509.load_der_x509_certificate(row.seal_der)
    names = {a.oid: a.value for a in certificate.subject}
    # KZ-1 for a legal entity: O and OU=BIN; the seal names the organisation, no person and no IIN.
    assert names[x509.NameOID.ORGANIZATION_NAME] == 'ТОО "Микрофинансовая организация Алтын"'
    assert names[x509.NameOID.ORGANIZATIONAL_UNIT_NAME] == f"BIN{bin_}"
    assert x509.NameOID.SERIAL_NUMBER not in names
    assert "900101300017" not in certificate.subject.rfc4514_string()   # the README borrower's IIN is gone
    assert certificate.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment
    # The installation seal is no more: init made no "service:mfo-seal".
    with services.registry.transaction(readonly=True) as tx:
        assert tx.certificates.by_holder("service:mfo-seal") == []
    [entry] = [e for e in _actions(services, "tenant.created") if e.subject == "tenant:altyn"]
    assert entry.details["bin"] == bin_ and entry.details["seal_serial"] == view["seal"]["serial"]
    assert http.get("/tenants/altyn").json()["seal"] == view["seal"]
    assert [t["code"] for t in http.get("/tenants").json()] == ["altyn"]
    # The code defaults to the BIN.
    other = http.post("/tenants", json={"name": "ТОО МФО Бір", "bin": legal_bin(202)})
    assert other.status_code == 201 and other.json()["code"] == legal_bin(202)


def test_bad_tenants_list_every_problem_and_write_nothing(http, services) -> None:
    before = _state(services)
    bad_bin = legal_bin(303)[:-1] + str((int(legal_bin(303)[-1]) + 1) % 10)
    below_floor = {"rules": [{"name": "cheap", "documents": ["contract", "amendment", "application", "consent",
                                                             "schedule", "details_change"],
                              "any_of": [{"all_of": ["sms"]}]}]}
    answer = problem(http.post("/tenants", json={"name": "x" * 80, "bin": bad_bin, "code": "Bad Code!",
                                                 "policy": below_floor}), 422)
    fields = {p["field"] for p in answer["problems"]}
    assert fields == {"name", "bin", "code", "policy"}, answer
    assert "check digit" in " ".join(p["message"] for p in answer["problems"] if p["field"] == "bin")
    assert any("LOAN-2" in p["message"] for p in answer["problems"] if p["field"] == "policy")
    # A BIN of joint entrepreneurship (5th digit 6) is no legal entity's; an unknown field is refused too.
    joint = problem(http.post("/tenants", json={"name": "ИП", "bin": f.joint_entrepreneurship_bin()}), 422)
    assert [p["field"] for p in joint["problems"]] == ["bin"] and "joint" in joint["problems"][0]["message"]
    unknown = problem(http.post("/tenants", json={"name": "ТОО", "bin": legal_bin(303), "x": 1}), 422)
    assert [p["field"] for p in unknown["problems"]] == ["x"]
    assert _state(services) == before
    # A second tenant with the same BIN or code: 409, nothing written.
    assert http.post("/tenants", json={"name": "ТОО Первая", "bin": legal_bin(404), "code": "first"}).status_code == 201
    middle = _state(services)
    taken = problem(http.post("/tenants", json={"name": "ТОО Вторая", "bin": legal_bin(404), "code": "first"}), 409)
    assert {p["field"] for p in taken["problems"]} == {"bin", "code"}
    assert _state(services) == middle


def test_an_api_key_names_a_tenant_that_exists(http, services) -> None:
    before = _state(services)
    answer = problem(http.post("/api-keys", json={"name": "ghost-backend", "role": "mfo", "tenant": "ghost"}), 422)
    assert [p["field"] for p in answer["problems"]] == ["tenant"]
    assert _state(services) == before
    assert http.post("/tenants", json={"name": "ТОО Призрак", "bin": legal_bin(505), "code": "ghost"}).status_code == 201
    made = http.post("/api-keys", json={"name": "ghost-backend", "role": "mfo", "tenant": "ghost"})
    assert made.status_code == 201, made.text
    key_id = made.json()["key"].split("_")[1]
    shown = http.get("/tenants/ghost").json()["api_keys"]
    assert shown == [{"name": "ghost-backend", "role": "mfo", "key_id": key_id, "active": True,
                      "created_at": shown[0]["created_at"]}]
    assert made.json()["key"] not in json.dumps(http.get("/tenants/ghost").json())   # the key itself never shows


def test_an_mfo_key_reads_its_own_tenant_only_and_may_not_suspend_it(http, services, mfo_key) -> None:  # noqa: F811
    alpha, beta = mfo_key("alpha"), mfo_key("beta")
    mine = http.get("/tenants/alpha", headers=alpha)
    assert mine.status_code == 200 and mine.json()["code"] == "alpha"
    theirs, never = problem(http.get("/tenants/beta", headers=alpha), 404), problem(
        http.get("/tenants/" + "f" * 32, headers=alpha), 404)
    assert (theirs["title"], theirs["code"]) == (never["title"], never["code"])
    problem(http.get("/tenants", headers=alpha), 403)
    problem(http.post("/tenants/alpha/suspend", headers=alpha, json={}), 403)
    problem(http.post("/tenants", headers=alpha, json={"name": "ТОО Сам", "bin": legal_bin(606)}), 403)
    assert http.get("/tenants/alpha").json()["status"] == "active"


def _signed_by_client(http, services, headers, tenant: str) -> str:
    client = client_with_held_key(services)
    response = post_document(http, headers, metadata=f.loan_metadata(client_id_number=client.iin))
    assert response.status_code == 201, response.text
    document = response.json()["id"]
    auth = authorise(services, document, client.serial, tenant=tenant)
    signed = http.post(f"/documents/{document}/signatures/client", headers=headers, json={"authorisation": auth.id})
    assert signed.status_code == 201, signed.text
    return document


def test_suspension_stops_signing_and_uploads_at_once_and_resumption_restores_them(http, services, mfo_key) -> None:  # noqa: F811
    alpha = mfo_key("alpha")
    document = _signed_by_client(http, services, alpha, "alpha")
    suspended = http.post("/tenants/alpha/suspend", json={"reason": "licence under review"})
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    refused = problem(http.post(f"/documents/{document}/signatures/seal", headers=alpha, json={}), 409)
    assert refused["code"] == "tenant-suspended" and [p["field"] for p in refused["problems"]] == ["tenant"]
    upload = problem(post_document(http, alpha), 422)
    assert "tenant" in {p["field"] for p in upload["problems"]}
    assert http.get(f"/documents/{document}", headers=alpha).json()["status"] == "client-signed"   # nothing written
    problem(http.post("/tenants/alpha/suspend", json={}), 409)   # suspended already
    [entry] = _actions(services, "tenant.suspended")
    assert entry.subject == "tenant:alpha" and entry.details["reason"] == "licence under review"
    assert http.post("/tenants/alpha/resume", json={}).json()["status"] == "active"
    sealed = http.post(f"/documents/{document}/signatures/seal", headers=alpha, json={})
    assert sealed.status_code == 201 and sealed.json()["status"] == "sealed"
    assert len(_actions(services, "tenant.resumed")) == 1


def test_a_revoked_seal_signs_nothing_until_the_tenant_gets_a_new_one(http, services, mfo_key) -> None:  # noqa: F811
    alpha = mfo_key("alpha")
    document = _signed_by_client(http, services, alpha, "alpha")
    old = http.get("/tenants/alpha").json()["seal"]["serial"]
    revoked = http.post(f"/certificates/{old}/revoke", json={"reason": "key-compromise"})
    assert revoked.status_code == 200, revoked.text
    refused = problem(http.post(f"/documents/{document}/signatures/seal", headers=alpha, json={}), 409)
    assert refused["code"] == "seal-unusable" and "revoked" in refused["problems"][0]["message"]
    assert http.get(f"/documents/{document}", headers=alpha).json()["status"] == "client-signed"
    renewed = http.post("/tenants/alpha/seal", json={})
    assert renewed.status_code == 200, renewed.text
    new = renewed.json()["seal"]["serial"]
    assert new != old and renewed.json()["seal"]["bin"] == http.get("/tenants/alpha").json()["bin"]
    sealed = http.post(f"/documents/{document}/signatures/seal", headers=alpha, json={})
    assert sealed.status_code == 201 and sealed.json()["signer_serial"] == new
    [entry] = _actions(services, "tenant.seal_replaced")
    assert entry.details == {"seal_source": "national", "seal_serial": new, "previous_serial": old}


def _cli(services, *args: str):
    """``qoltanba`` in-process on the test's home and database (SQLite or PostgreSQL)."""
    from api import cli
    from tests.support.golden import MASTER_KEY

    env = {"QOLTANBA_DATABASE_URL": services.settings.database_url, "QOLTANBA_MASTER_KEY": MASTER_KEY}
    return runner.invoke(cli.app, [*args, "--home", str(services.settings.home)], env=env)


def test_the_command_line_creates_lists_shows_suspends_and_resumes_a_tenant(services) -> None:
    created = _cli(services, "tenant", "create", "--name", 'ТОО "МФО Сапа"', "--bin", legal_bin(707), "--code", "sapa")
    assert created.exit_code == 0, created.output
    view = json.loads(created.stdout)
    assert view["code"] == "sapa" and view["seal"]["bin"] == legal_bin(707)
    listed = _cli(services, "tenant", "list")
    assert [json.loads(line)["code"] for line in listed.stdout.splitlines()] == ["sapa"]
    assert json.loads(_cli(services, "tenant", "show", "sapa").stdout)["name"] == 'ТОО "МФО Сапа"'
    suspended = _cli(services, "tenant", "suspend", "sapa", "--reason", "test")
    assert suspended.exit_code == 0 and json.loads(suspended.stdout)["status"] == "suspended"
    resumed = _cli(services, "tenant", "resume", "sapa")
    assert resumed.exit_code == 0 and json.loads(resumed.stdout)["status"] == "active"
    # Bad input: exit 2, one line naming every problem, nothing written.
    before = _state(services)
    bad = _cli(services, "tenant", "create", "--name", "ТОО", "--bin", "123456789012", "--code", "-x")
    assert bad.exit_code == 2
    [line] = bad.stderr.strip().splitlines()
    assert line.startswith("error: ") and "bin:" in line and "code:" in line
    assert _state(services) == before
    missing = _cli(services, "tenant", "show", "nobody")
    assert missing.exit_code == 1 and "no tenant nobody" in missing.stderr
