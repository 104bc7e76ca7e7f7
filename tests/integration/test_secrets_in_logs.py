"""No secret reaches a log, even with every logger at DEBUG (issue 8).

The flows that handle secrets run twice: in-process through the ASGI app
(every record captured by ``caplog`` at DEBUG, SQLAlchemy's statement and
parameter logging included) and against a real server process whose
logging config sets every logger to DEBUG (its stderr kept). The flows:
an API key created; a PKCS#12 carrier generated under a password; a client
registered (an SMS one-time code), a TOTP factor enrolled (its secret), a
webhook registered (its HMAC secret), a signing request made (its token)
and signed after an SMS code and a biometric assertion. Then the logs are
searched for each exact secret the test saw, the master key, and the
generic shapes: a PEM private key, an API key ``qk_<id>_<secret>``.
"""

from __future__ import annotations

import json
import logging
import re
import secrets

import httpx
from fastapi.testclient import TestClient

from ca.access import AccessService
from api.http.app import create_app
from api.wiring import Services
from tests.support import factories as f
from tests.support.factors import CODE, enrolment_token, own_totp
from tests.support.logscan import generic_findings
from tests.support.server import MASTER_KEY, prepare_home, running_server
from tests.support.signing import client_with_held_key, upload

TENANT = "secret-mfo"
DEBUG_EVERYTHING = {
    "version": 1, "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "root": {"level": "DEBUG", "handlers": ["stderr"]},
    "loggers": {"uvicorn": {"level": "DEBUG"}, "uvicorn.access": {"level": "DEBUG"},
                "sqlalchemy.engine": {"level": "DEBUG"}},
}


def _flows(http, services_for_setup, mfo: dict[str, str], iins: list[str] | None = None) -> list[str]:
    """Every secret-handling flow; returns the secrets the API handed out on the way (``iins``: gets the IINs
    the flows used, personal data the JSON logs must not hold either)."""
    seen: list[str] = []
    iins = iins if iins is not None else []
    made = http.post("/api-keys", json={"name": f"k-{secrets.token_hex(4)}", "role": "auditor"})
    assert made.status_code == 201, made.text
    # qk_<key id>_<secret>: the key id is hex, the secret (URL-safe base64) may itself hold "_".
    seen.append(made.json()["key"].split("_", 2)[2])
    password = f"p12-{secrets.token_urlsafe(12)}"
    seen.append(password)
    iins.append(f.iin())
    body = {"profile": "individual-sign", "subject": {"surname": "Abenov", "given_name": "Nurlan", "iin": iins[-1]},
            "carrier": {"password": password}}
    issued = http.post("/certificates", json=body)
    assert issued.status_code == 201, issued.text
    seen.append(issued.json()["pkcs12_base64"][:48])
    held = client_with_held_key(services_for_setup)
    iins.append(held.iin)
    phone = "+7701" + f"{secrets.randbelow(10 ** 7):07d}"
    client = http.post("/clients", headers=mfo, json={"kind": "individual", "iin": held.iin, "name": "Тест Тестов",
                                                      "phone": phone})
    assert client.status_code == 201, client.text
    client = client.json()
    code = CODE.search(http.get("/dev/sms-outbox", headers=mfo, params={"phone": phone}).json()[-1]["text"]).group(1)
    seen.append(code)
    sms = client["factors"][0]["id"]
    assert http.post(f"/clients/{client['id']}/factors/{sms}/confirm", headers=mfo, json={"code": code}).status_code \
        == 200
    # Issue 15: the seed reaches the client through the link sent to their phone (and its token), never the MFO.
    seen.append(own_totp(http, mfo, services_for_setup, {"id": client["id"], "phone": phone}))
    seen.append(enrolment_token(services_for_setup, phone, client_factors(http, mfo, client["id"], "totp"), http))
    assert http.post(f"/clients/{client['id']}/factors", headers=mfo,
                     json={"kind": "biometric", "reference": "tsoid-1"}).status_code == 201
    hook = http.put("/webhook", headers=mfo, json={"url": "http://127.0.0.1:9/hook"})
    assert hook.status_code == 200, hook.text
    seen += [v for k, v in hook.json().items() if "secret" in k]
    document = upload(services_for_setup, held.iin, tenant=TENANT, kind="consent").id
    created = http.post("/signing-requests", headers=mfo, json={"document": document, "client": client["id"],
                                                                "level": "B-B", "seal": False})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    seen.append(token)
    page = {"X-Signing-Token": token}
    base = f"/client/signing-requests/{created.json()['id']}"
    assert http.post(f"{base}/factors/sms/start", headers=page).status_code == 200
    code = CODE.search(http.get("/dev/sms-outbox", headers=mfo, params={"phone": phone}).json()[-1]["text"]).group(1)
    seen.append(code)
    assert http.post(f"{base}/codes", headers=page, json={"factor": "sms", "code": code}).status_code == 200
    challenge = http.post(f"{base}/factors/biometric/start", headers=page).json()
    assertion = services_for_setup.biometric_simulator.assertion(
        iin=held.iin, challenge=challenge["challenge"], movements=challenge["movements"],
        at=services_for_setup.clock.now())
    assert http.post(f"{base}/assertions", headers=page, json={"assertion": assertion}).status_code == 200
    done = http.post(f"{base}/confirm", headers=page)
    assert done.status_code == 200 and done.json()["status"] == "signed", done.text
    return seen


def client_factors(http, mfo, client: str, kind: str) -> str:
    return [x["id"] for x in http.get(f"/clients/{client}", headers=mfo).json()["factors"] if x["kind"] == kind][-1]


def _findings(text: str, known: list[str]) -> list[str]:
    found = generic_findings(text)
    for secret in known:
        digits = secret.isdigit()
        # A one-time code is six digits: count it only standing alone, not inside a
        # longer number, a timestamp's fraction or an id.
        pattern = rf"(?<![\d.:-]){re.escape(secret)}(?!\d)" if digits else re.escape(secret)
        if re.search(pattern, text):
            found.append(f"secret {secret[:4]}… ({len(secret)} chars)")
    return found


def _keys(services) -> tuple[dict[str, str], dict[str, str]]:
    from tests.support.tenants import ensure_tenant

    access = AccessService(services.registry, services.clock)
    ensure_tenant(services, TENANT)   # issue 15: a key names a registered tenant
    admin = access.create_key(f"admin-{secrets.token_hex(3)}", "administrator", by="test").key
    mfo = access.create_key(f"mfo-{secrets.token_hex(3)}", "mfo", by="test", tenant=TENANT).key
    return {"X-API-Key": admin}, {"X-API-Key": mfo}


def test_no_secret_in_the_logs_at_debug_in_process(tmp_path, caplog) -> None:
    from api.settings import Settings

    master = secrets.token_hex(32)
    caplog.set_level(logging.DEBUG)
    # SQLAlchemy keeps its own loggers at WARNING unless told: what an operator debugging would do.
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    services = Services.build(Settings(home=tmp_path / "home", master_key=master))
    try:
        services.migrate()
        services.bootstrap.initialise()
        admin, mfo = _keys(services)
        with TestClient(create_app(services=services), headers=admin) as http:
            known = _flows(http, services, mfo)
        known += [admin["X-API-Key"], mfo["X-API-Key"], master]
    finally:
        services.close()
    text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert len(caplog.records) > 100, "nothing was logged at DEBUG; the scan proved nothing"
    assert any(r.name.startswith("sqlalchemy") for r in caplog.records)
    assert "INSERT INTO" in text, "SQLAlchemy's statements were not logged"
    assert _findings(text, known) == []
    assert len(known) >= 10 and _findings(f"{text} {known[0]}", known), "the scan would miss a planted secret"


def test_no_secret_in_a_real_servers_debug_log(tmp_path) -> None:
    home = prepare_home(tmp_path / "home")
    config = tmp_path / "logging.json"
    config.write_text(json.dumps(DEBUG_EVERYTHING))
    log = tmp_path / "server.log"
    services = Services.build(home.settings())
    try:
        admin, mfo = _keys(services)
        with running_server(home, workers=1, log=log, log_config=config):
            with httpx.Client(base_url=home.url, headers=admin, timeout=60) as http:
                known = _flows(http, services, mfo)
    finally:
        services.close()
    known += [admin["X-API-Key"], mfo["X-API-Key"], MASTER_KEY]
    text = log.read_text(errors="replace")
    assert text.count("\n") > 100 and "DEBUG" in text, "the server logged nothing at DEBUG; the scan proved nothing"
    assert _findings(text, known) == []


def test_no_secret_nor_iin_in_a_real_servers_json_log_at_debug(tmp_path) -> None:
    """Issue 17: the JSON logs (QOLTANBA_LOG_FORMAT=json, api/http/logs.py), every logger at DEBUG, SQLAlchemy's
    statements and parameters included: no secret, and no IIN the flows handled, in any line."""
    home = prepare_home(tmp_path / "home", extra={"QOLTANBA_LOG_FORMAT": "json"})
    config = tmp_path / "logging.json"
    config.write_text(json.dumps(DEBUG_EVERYTHING))
    log = tmp_path / "server.log"
    services = Services.build(home.settings())
    iins: list[str] = []
    try:
        admin, mfo = _keys(services)
        with running_server(home, workers=1, log=log, log_config=config):
            with httpx.Client(base_url=home.url, headers=admin, timeout=60) as http:
                known = _flows(http, services, mfo, iins)
    finally:
        services.close()
    known += [admin["X-API-Key"], mfo["X-API-Key"], MASTER_KEY]
    lines = log.read_text(errors="replace").splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) > 100 and any(r["level"] == "debug" for r in records), "no JSON lines at DEBUG"
    assert any(r["logger"].startswith("sqlalchemy") and "INSERT INTO" in r["event"] for r in records), \
        "SQLAlchemy's statements were not logged as JSON"
    assert any(r["request_id"] != "-" for r in records if r["logger"].startswith("sqlalchemy")), \
        "a statement run for a request does not carry the request's id"
    text = "\n".join(lines)
    assert _findings(text, known) == []
    assert len(iins) == 2 and [iin for iin in iins if iin in text] == [], "an IIN reached the JSON log"
    # Before LOAN-15 the statements' parameters held them and the JSON formatter rewrote them ("[12 digits]",
    # "[phone]"). Now a client's IIN and phone are sealed before any statement carries them: the statements that
    # store them were logged, with nothing of them to rewrite; the formatter's rewriting is still the one in force.
    assert any(r["logger"].startswith("sqlalchemy") and "INSERT INTO clients" in r["event"] for r in records)
    assert any(r["logger"].startswith("sqlalchemy") and "INSERT INTO client_factors" in r["event"] for r in records)
    from api.http.logs import scrub

    assert scrub(f"({iins[0]!r}, '+77011234567')") == "('[12 digits]', '[phone]')"
