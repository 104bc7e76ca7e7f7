"""LOAN-3 end to end over HTTP with a key the service holds, issued through the API (issue 15).

An individual entrepreneur's business contract: the registrar issues the
borrower a key the service holds (``POST /certificates`` with ``held``),
the MFO registers the borrower with biometrics and no EDS of their own,
the two-hour review window passes (LOAN-5), the borrower's liveness-checked
biometrics (LOAN-4, the provider simulator) unlock the held key, the MFO's
seal follows, and ``qoltanba verify`` passes the signed PDF. SQLite and
PostgreSQL, on the client's-will clock.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from typer.testing import CliRunner

from api import cli
from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support import golden
from tests.support.factors import SigningPage, register, services, upload  # noqa: F401 - fixture

runner = CliRunner()


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


def test_LOAN3_entrepreneur_signs_a_business_contract_with_biometrics_and_a_held_key_issued_over_http(
        http, services, alpha, tmp_path) -> None:
    iin = f.iin()
    # No key the service holds yet: the request cannot be made, and says what to do.
    client = register(http, alpha, services, iin=iin, kind="entrepreneur")
    assert {x["kind"] for x in client["factors"]} <= {"sms", "biometric"}
    document = upload(http, alpha, iin=iin, client_kind="entrepreneur", purpose="business",
                      loan_amount="2000000.00")
    refused = problem(http.post("/signing-requests", headers=alpha, json={
        "document": document, "client": client["id"]}), 422)
    assert "issue the client a key the service holds" in refused["problems"][0]["message"]
    # The registrar issues it (the test client's key is an administrator's).
    issued = http.post("/certificates", json={"profile": "individual-sign", "held": {"algorithm": "ec-p256"},
                                              "subject": {"surname": "Сәрсенбаева", "given_name": "Әйгерім",
                                                          "iin": iin}})
    assert issued.status_code == 201, issued.text
    held = issued.json()
    assert held["key"] == "held" and held["centre"] == "national" and held["iin"] == iin
    created = http.post("/signing-requests", headers=alpha, json={"document": document, "client": client["id"],
                                                                  "level": "B-LT"})
    assert created.status_code == 201, created.text
    assert created.json()["policy"]["name"] == "LOAN-3"
    page = SigningPage(http, services, created.json())
    services.clock.advance(dt.timedelta(hours=2, seconds=1))    # LOAN-5: the review window
    assert "biometric" in problem(page.confirm(), 409)["detail"]
    assert page.biometrics(iin).status_code == 200
    done = page.confirm()
    assert done.status_code == 200 and done.json()["status"] == "sealed", done.text
    status = http.get(f"/signing-requests/{created.json()['id']}", headers=alpha).json()
    assert status["signer_serial"] == held["serial"]
    pdf = http.get(f"/signing-requests/{created.json()['id']}/signed.pdf", headers=alpha).content
    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures
    assert signatures[0].sig_object["/Prop_AuthType"] == "/Biometric"    # no EDS factor
    assert format(signatures[0].signer_cert.serial_number, "x") == held["serial"]
    path = tmp_path / "loan3.pdf"
    path.write_bytes(pdf)
    env = {"QOLTANBA_DATABASE_URL": services.settings.resolved_database_url, "QOLTANBA_MASTER_KEY": golden.MASTER_KEY}
    result = runner.invoke(cli.app, ["verify", str(path), "--json", "--home", str(services.settings.home)], env=env,
                           catch_exceptions=False)
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert [s["indication"] for s in report["signatures"]] == ["TOTAL-PASSED", "TOTAL-PASSED"]
    evidence = http.get(f"/signing-requests/{created.json()['id']}/evidence", headers=alpha).json()
    assert "held-key" in json.dumps(evidence)


def test_LOAN3_a_joint_entrepreneurships_held_key_is_bound_to_its_BIN(http, services, alpha) -> None:
    """An entrepreneur of a joint entrepreneurship (BIN, 5th digit 6): the held key's certificate carries the
    IIN and that BIN, and signs the business contract filed under the BIN."""
    iin, bin_ = f.iin(), f.joint_entrepreneurship_bin()
    client = register(http, alpha, services, iin=iin, kind="entrepreneur", bin_=bin_)
    issued = http.post("/certificates", json={"profile": "individual-sign", "held": {}, "subject": {
        "surname": "Сәрсенбаева", "given_name": "Әйгерім", "iin": iin, "bin": bin_}})
    assert issued.status_code == 201, issued.text
    assert (issued.json()["iin"], issued.json()["bin"]) == (iin, bin_)
    document = upload(http, alpha, iin=bin_, client_kind="entrepreneur", purpose="business")
    created = http.post("/signing-requests", headers=alpha, json={"document": document, "client": client["id"],
                                                                  "level": "B-B"})
    assert created.status_code == 201, created.text
    page = SigningPage(http, services, created.json())
    services.clock.advance(dt.timedelta(hours=2, seconds=1))
    assert page.biometrics(iin).status_code == 200
    done = page.confirm()
    assert done.status_code == 200 and done.json()["status"] == "sealed", done.text
    signed = http.get(f"/signing-requests/{created.json()['id']}", headers=alpha).json()
    assert signed["signer_serial"] == issued.json()["serial"]
