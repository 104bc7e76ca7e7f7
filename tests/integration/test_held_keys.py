"""Keys the service holds for borrowers (issue 15): issued by a registrar (CLI, API) or on an approved
application, listed, revoked and destroyed; each one signs "way 1" only after the borrower's factors.

SQLite and PostgreSQL, the real clock (a certificate the CLI issues is valid from the real now). The signed
PDFs are judged by ``qoltanba verify``; the key's destruction by the backend itself.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api import cli
from keys import KeyNotFound
from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support import golden
from tests.support.factors import SigningPage, register, upload

runner = CliRunner()


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


def qoltanba(services, *args: str, code: int = 0, whole: bool = False) -> list[dict]:
    """The command line on the fixture's home and database; its JSON lines (``whole``: one JSON document)."""
    env = {"QOLTANBA_DATABASE_URL": services.settings.resolved_database_url, "QOLTANBA_MASTER_KEY": golden.MASTER_KEY}
    result = runner.invoke(cli.app, [*args, "--home", str(services.settings.home)], env=env, catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    if code:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    if whole:
        return [json.loads(result.stdout)]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def held_by_api(http, iin: str, **held) -> dict:
    answer = http.post("/certificates", json={"profile": "individual-sign", "held": held, "subject": {
        "surname": "Сәрсенбаева", "given_name": "Әйгерім", "iin": iin}})
    assert answer.status_code == 201, answer.text
    return answer.json()


def audit(services, action: str) -> list:
    with services.registry.transaction(readonly=True) as tx:
        return [e for e in tx.audit.entries(limit=100_000) if e.action == action]


def sign_consent(http, services, mfo, iin: str) -> tuple[dict, dict]:
    """A LOAN-6 consent signed on the signing page with SMS and biometrics; the key the service holds signs."""
    client = register(http, mfo, services, iin=iin)
    document = upload(http, mfo, iin=iin, kind="consent")
    created = http.post("/signing-requests", headers=mfo, json={"document": document, "client": client["id"],
                                                                "level": "B-LT"})
    assert created.status_code == 201, created.text
    page = SigningPage(http, services, created.json())
    assert page.sms(client["phone"]).status_code == 200
    assert page.biometrics(iin).status_code == 200
    done = page.confirm()
    assert done.status_code == 200, done.text
    return created.json(), done.json()


def verify(services, tmp_path, pdf: bytes) -> dict:
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    (report,) = qoltanba(services, "verify", str(path), "--json", whole=True)
    return report


def test_way1_a_key_issued_through_the_cli_signs_once_the_borrower_proved_the_factors(
        http, services, alpha, tmp_path) -> None:
    """LOAN-6 with a held key issued by ``qoltanba cert issue --held``: listed, signs, and ``qoltanba verify``
    passes the sealed PDF."""
    iin = f.iin()
    cert_out = tmp_path / "held.pem"
    (issued,) = qoltanba(services, "cert", "issue", "--profile", "individual-sign", "--iin", iin, "--surname",
                         "Сәрсенбаева", "--given-name", "Әйгерім", "--held", "--cert-out", str(cert_out))
    assert issued["key"] == "held" and issued["status"] == "valid" and issued["backend"] == "soft"
    assert issued["iin"] == iin and "certificate_pem" not in issued
    assert f"IIN{iin}" in cert_out.read_text() or cert_out.read_text().startswith("-----BEGIN CERTIFICATE")
    listed = qoltanba(services, "cert", "list", "--held", "--iin", iin)
    assert [x["serial"] for x in listed] == [issued["serial"]]
    (entry,) = [e for e in audit(services, "held-key.issued") if e.subject == issued["serial"]]
    assert entry.actor == "cli" and entry.details["backend"] == "soft"
    # Before the factors there is no signature: the MFO's own route needs the authorisation they produce.
    created, done = sign_consent(http, services, alpha, iin)
    assert done["status"] == "sealed"
    status = http.get(f"/signing-requests/{created['id']}", headers=alpha).json()
    assert status["signer_serial"] == issued["serial"]
    pdf = http.get(f"/signing-requests/{created['id']}/signed.pdf", headers=alpha).content
    report = verify(services, tmp_path, pdf)
    assert [s["indication"] for s in report["signatures"]] == ["TOTAL-PASSED", "TOTAL-PASSED"], report


def test_revoked_then_destroyed_the_key_signs_nothing_and_is_gone_from_the_backend(http, services, alpha) -> None:
    iin = f.iin()
    held = held_by_api(http, iin, algorithm="ec-p256")
    with services.registry.transaction(readonly=True) as tx:
        (row,) = tx.certificates.by_serial(held["serial"])
        handle = row.key_handle
    assert handle.startswith("soft:") and services.backend.public_key(handle) is not None
    revoked = http.post(f"/certificates/{held['serial']}/revoke", json={"reason": "key-compromise"})
    assert revoked.status_code == 200, revoked.text
    # Revoked: the borrower cannot be asked to sign with it (no key the service holds is valid).
    client = register(http, alpha, services, iin=iin)
    document = upload(http, alpha, iin=iin, kind="consent", )
    refused = problem(http.post("/signing-requests", headers=alpha, json={
        "document": document, "client": client["id"]}), 422)
    assert "cannot meet policy" in refused["problems"][0]["message"]
    # Destroyed: the key pair leaves the backend; the registry keeps the certificate, revoked, without a handle.
    destroyed = http.post(f"/certificates/{held['serial']}/destroy-key", json={})
    assert destroyed.status_code == 200, destroyed.text
    assert destroyed.json()["key"] == "destroyed" and destroyed.json()["status"] == "revoked"
    with pytest.raises(KeyNotFound):
        services.backend.public_key(handle)
    with services.registry.transaction(readonly=True) as tx:
        (row,) = tx.certificates.by_serial(held["serial"])
    assert row.key_handle is None and row.key_destroyed_at is not None
    (entry,) = [e for e in audit(services, "held-key.destroyed") if e.subject == held["serial"]]
    assert entry.details["key_handle"] == handle and entry.details["revoked_now"] is False
    again = problem(http.post(f"/certificates/{held['serial']}/destroy-key", json={}), 409)
    assert "destroyed" in again["detail"]
    listed = http.get("/certificates", params={"held": "true", "iin": iin}).json()
    assert [(x["serial"], x["key"], x["status"]) for x in listed] == [(held["serial"], "destroyed", "revoked")]


def test_destroying_a_valid_key_revokes_its_certificate_first(http, services) -> None:
    """``qoltanba cert destroy-key``: revoked (CRL, OCSP), then the key destroyed, both audited."""
    held = held_by_api(http, f.iin())
    (destroyed,) = qoltanba(services, "cert", "destroy-key", "--serial", held["serial"])
    assert destroyed["status"] == "revoked" and destroyed["key"] == "destroyed"
    assert destroyed["revocation_reason"] == "cessation-of-operation"
    assert any(e.subject == held["serial"] for e in audit(services, "certificate.revoked"))
    (entry,) = [e for e in audit(services, "held-key.destroyed") if e.subject == held["serial"]]
    assert entry.details["revoked_now"] is True and entry.actor == "cli"
    shown = http.get(f"/certificates/{held['serial']}").json()
    assert shown["status"] == "revoked"


def test_bad_input_lists_every_problem_and_writes_nothing(http, services) -> None:
    before = http.get("/certificates", params={"held": "true"}).json()
    entries = len(audit(services, "certificate.issued"))
    answer = problem(http.post("/certificates", json={"profile": "individual-auth", "held": {}, "subject": {
        "surname": "", "given_name": "Әйгерім", "iin": f.bad_iin()}}), 422)
    fields = {p["field"] for p in answer["problems"]}
    assert fields == {"profile"}, answer
    answer = problem(http.post("/certificates", json={"profile": "individual-sign", "held": {}, "subject": {
        "surname": "", "given_name": "Әйгерім", "iin": f.bad_iin()}}), 422)
    assert {"subject.surname", "subject.iin"} <= {p["field"] for p in answer["problems"]}, answer
    problem(http.post("/certificates", json={"profile": "individual-sign", "held": {"algorithm": "dsa"},
                                             "subject": {"surname": "А", "given_name": "Б", "iin": f.iin()}}), 422)
    both = problem(http.post("/certificates", json={"profile": "individual-sign", "held": {}, "csr_pem": "x",
                                                    "subject": {"iin": f.iin()}}), 422)
    assert both["problems"][0]["field"] == "csr_pem"
    assert http.get("/certificates", params={"held": "true"}).json() == before
    assert len(audit(services, "certificate.issued")) == entries
    # One valid held key per borrower.
    iin = f.iin()
    first = held_by_api(http, iin)
    second = problem(http.post("/certificates", json={"profile": "individual-sign", "held": {}, "subject": {
        "surname": "А", "given_name": "Б", "iin": iin}}), 422)
    assert first["serial"] in second["problems"][0]["message"]
    # Destroying: an unknown serial, a certificate whose key the service does not hold, an unknown reason.
    problem(http.post("/certificates/abc123/destroy-key", json={}), 404)
    own = f.issue_person(services, password=b"token-pin")
    problem(http.post(f"/certificates/{own.serial}/destroy-key", json={}), 404)
    problem(http.post(f"/certificates/{first['serial']}/destroy-key", json={"reason": "bored"}), 422)
    assert http.get(f"/certificates/{first['serial']}").json()["status"] == "valid"
    # The command line: one line, exit 2, nothing written.
    qoltanba(services, "cert", "issue", "--profile", "individual-sign", "--iin", f.bad_iin(), "--surname", "А",
             "--given-name", "Б", "--held", code=2)
    qoltanba(services, "cert", "issue", "--profile", "individual-sign", "--iin", f.iin(), "--surname", "А",
             "--given-name", "Б", "--held", "--ca", "government", "--algorithm", "nope", code=2)
    qoltanba(services, "cert", "destroy-key", "--serial", own.serial, code=1)   # not found: exit 1
    assert len(http.get("/certificates", params={"held": "true"}).json()) == len(before) + 1


def test_an_approved_application_with_key_custody_service_issues_a_held_key(http, services) -> None:
    """NAT-2's individual application, the key held by the service: no CSR; the approval generates it."""
    form = f.individual_form(key_custody="service")
    with_csr = problem(http.post("/applications", json={
        "kind": "individual", "form": form, "attachments": [{"kind": "id-copy", "name": "id.pdf"}],
        "csr_pem": f.csr_pem().decode()}), 422)
    assert with_csr["problems"][0]["field"] == "csr"
    auth = problem(http.post("/applications", json={
        "kind": "individual", "form": {**form, "profile": "individual-auth"},
        "attachments": [{"kind": "id-copy", "name": "id.pdf"}]}), 422)
    assert auth["problems"][0]["field"] == "form.key_custody"
    submitted = http.post("/applications", json={"kind": "individual", "form": form,
                                                 "attachments": [{"kind": "id-copy", "name": "id.pdf"}]})
    assert submitted.status_code == 201, submitted.text
    approved = http.post(f"/applications/{submitted.json()['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    (listed,) = http.get("/certificates", params={"held": "true", "iin": form["iin"]}).json()
    assert listed["application_id"] == submitted.json()["id"] and listed["key"] == "held"
    assert any(e.subject == listed["serial"] and e.details["application_id"] == submitted.json()["id"]
               for e in audit(services, "held-key.issued"))
