"""The HTTP API end to end, through FastAPI's TestClient, on SQLite and PostgreSQL.

Access control (API keys and roles), direct issuance, every field problem at
once in RFC 9457 problem+json, and applications from submission to decision.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re
import textwrap

import fastapi.routing
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.http.deps import actor as actor_dependency
from ca.identity import make_test_iin
from keys import load_pkcs12

BIN = "190340000017"
PROBLEM = "application/problem+json"
PUBLIC_PATHS = ["/health", "/ca", "/ca/national/chain", "/ca/national.cer", "/profiles", "/refusal-reasons",
                "/openapi.json"]
# The CRL and OCSP endpoints (api/http/routes/status.py) are plain Starlette routes, public by design.
# The client's signing routes (issue 5) take no API key: the client is no API user; the signing
# request's token (X-Signing-Token, compared in constant time) authenticates each call instead,
# and every address is rate-limited.
CLIENT_ROUTES = {"/client/signing-requests/{request_id}", "/client/signing-requests/{request_id}/document.pdf",
                 "/client/signing-requests/{request_id}/factors/{factor}/start",
                 "/client/signing-requests/{request_id}/codes", "/client/signing-requests/{request_id}/assertions",
                 "/client/signing-requests/{request_id}/eds", "/client/signing-requests/{request_id}/eds/signature",
                 "/client/signing-requests/{request_id}/confirm",
                 # issue 15: the client's own channel for an authenticator, the enrolment token sent to their phone
                 "/client/factors/{factor_id}/secret", "/client/factors/{factor_id}/confirm"}
# The CSC API (issue 19) takes the MFO's API key or an oauth2/token access token as its bearer token and checks
# it itself, so that a refusal is said in CSC's words (401 invalid_token; tests/interop/test_csc_interop.py).
CSC_ROUTES = {f"/csc/{version}/{method}" for version in ("v1", "v2") for method in (
    "info", "oauth2/token", "oauth2/authorize", "credentials/list", "credentials/info", "credentials/sendOTP", "credentials/authorize",
    "signatures/signHash")} | {"/sign-csc/{activation}" + tail for tail in (
        "", "/biometric", "/biometric/simulator", "/confirm")}   # its page: the page's token in its cookie
SIGN_ROUTES = {"/sign/{request_id}" + tail for tail in (
    "", "/document.pdf", "/pages/{number}.png", "/sms", "/code", "/biometric", "/biometric/simulator",
    "/biometric/assertion", "/confirm", "/eds", "/eds/data", "/eds/cms", "/signed.pdf", "/evidence",
    "/evidence.json", "/evidence.p7s")}
# Issue 16: the borrower's own account takes no API key: the invitation token sent to the client's phone
# (X-Invitation-Token), then the borrower's session (Authorization: Bearer; the pages' HttpOnly cookie);
# tests/integration/test_borrower_accounts.py and test_cabinet_pages.py refuse a missing or wrong one with 401.
BORROWER_ROUTES = {"/borrower" + tail for tail in (
    "/registration", "/registration/proofs", "/sessions", "/sessions/end", "/me", "/totp", "/totp/confirm",
    "/documents", "/documents/{document_id}/pdf", "/signing-requests/{request_id}/evidence", "/changes",
    "/changes/{change_id}", "/changes/{change_id}/proofs")}
CABINET_ROUTES = {"/cabinet" + tail for tail in (
    "", "/register", "/register/code", "/register/biometric/simulator", "/register/eds", "/register/data.txt",
    "/login", "/sign-out", "/documents/{document_id}.pdf", "/requests/{request_id}/evidence.json", "/details",
    "/details/{change_id}", "/details/{change_id}/code", "/details/{change_id}/biometric/simulator",
    "/details/{change_id}/eds", "/details/{change_id}/data.txt")}
# /verify and /verify/{document_id} (issue 6): verification is for anyone (clients, courts, auditors) and
# the stamp's QR code opens the second; both are rate-limited per address instead of keyed.
PUBLIC_ROUTES = {"/health", "/livez", "/readyz", "/ca", "/ca/{code}/chain", "/ca/{code}.cer", "/profiles", "/refusal-reasons",
                 "/revocation-grounds", "/tsa", "/verify", "/verify/{document_id}", *CLIENT_ROUTES,
                 "/console/login",  # issue 8: the console's login takes name, password and TOTP instead of a key
                 "/", "/lang/{code}", "/static/{name}",  # issue 20: the public pages (Verify is /verify above)
                 # issue 20: the borrower's Sign page authenticates by the request's token (in its cookie), and
                 # eGov mobile's calls by the single-use link's sealed token (tests/integration/test_sign_page.py)
                 *SIGN_ROUTES, "/mobile-sign", "/mobile-sign/documents",
                 *BORROWER_ROUTES, *CABINET_ROUTES, *CSC_ROUTES}
_serials = iter(range(300, 10000))
_names = iter(range(1, 10**6))


# --- helpers ------------------------------------------------------------------


def new_iin(sex: str = "M") -> str:
    while True:
        try:
            return make_test_iin(dt.date(1986, 7, 21), sex, next(_serials))
        except ValueError:
            continue


def bad_checksum(iin: str) -> str:
    return iin[:-1] + str((int(iin[-1]) + 1) % 10)


def make_csr() -> tuple[str, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "holder")]))
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def tampered_csr() -> str:
    """A well-formed CSR whose signature does not verify (one bit of the signature flipped)."""
    der = bytearray(x509.load_pem_x509_csr(make_csr()[0].encode()).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # the last byte of the ECDSA signature's s
    body = "\n".join(textwrap.wrap(base64.b64encode(bytes(der)).decode(), 64))
    pem = f"-----BEGIN CERTIFICATE REQUEST-----\n{body}\n-----END CERTIFICATE REQUEST-----\n"
    assert not x509.load_pem_x509_csr(pem.encode()).is_signature_valid  # still parses, but no proof
    return pem


def spki(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def problem(response, status: int) -> dict:
    """Assert an RFC 9457 problem of this status and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0].strip() == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    return body


def fields(body: dict) -> list[str]:
    return [p["field"] for p in body.get("problems", [])]


def messages(body: dict) -> str:
    return " | ".join(p["message"] for p in body.get("problems", []))


def count_certificates(http) -> int:
    response = http.get("/certificates", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return len(response.json())


def application_ids(http) -> list[int]:
    response = http.get("/applications", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return sorted(a["id"] for a in response.json())


def issue_body(**subject) -> dict:
    base = {"surname": "Abenov", "given_name": "Nurlan", "iin": new_iin(), "email": "n.abenov@example.kz"}
    return {"profile": "individual-sign", "subject": {**base, **subject}, "csr_pem": make_csr()[0]}


def person_form(**extra) -> dict:
    return {"iin": new_iin(), "surname": "Abenov", "given_name": "Nurlan", "region": "Almaty", "city": "Almaty",
            "email": "n.abenov@example.kz", "phone": "+7 701 123 4567", "usage_areas": ["e-government"],
            "eds_tool": "NCALayer", "algorithm": "ECDSA P-256", **extra}


def individual_application() -> dict:
    return {"kind": "individual", "form": person_form(), "attachments": [{"kind": "id-copy", "name": "id.pdf"}],
            "csr_pem": make_csr()[0]}


def batch_application(iins: list[str], letter: str) -> dict:
    persons = [{"iin": iin, "surname": "Abenova", "given_name": "Aigerim", "position": "Chief specialist",
                "region": "Astana"} for iin in iins]
    attachments = [{"kind": "official-letter", "name": "letter.pdf"}]
    attachments += [{"kind": "id-copy", "name": f"id-{iin}.pdf", "person_iin": iin} for iin in iins]
    form = {"state_body": "Ministry of Digital Development", "state_body_bin": BIN, "letter_number": letter,
            "letter_date": "2024-05-02", "persons": persons}
    return {"kind": "government-batch", "form": form, "attachments": attachments}


def submit(http, body: dict) -> dict:
    response = http.post("/applications", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def key_for(http):
    """``key_for("auditor")`` -> headers carrying a fresh key of that role, made over HTTP."""

    def make(role: str) -> dict[str, str]:
        response = http.post("/api-keys", json={"name": f"{role}-{next(_names)}", "role": role})
        assert response.status_code == 201, response.text
        assert response.json()["role"] == role
        return {"X-API-Key": response.json()["key"]}

    return make


@pytest.fixture
def anon(http):
    """The same app, without any key."""
    return TestClient(http.app)


# --- access -------------------------------------------------------------------


def test_no_key_is_401_problem_with_www_authenticate(anon):
    response = anon.get("/certificates")
    problem(response, 401)
    assert response.headers["www-authenticate"].lower().startswith("bearer")


@pytest.mark.parametrize("headers", [{"X-API-Key": "qk_0123456789abcdef_not-the-secret"},
                                     {"X-API-Key": "not-a-key"},
                                     {"Authorization": "Bearer qk_0123456789abcdef_nope"}])
def test_wrong_key_is_401(anon, headers):
    response = anon.get("/certificates", headers=headers)
    problem(response, 401)
    assert "www-authenticate" in response.headers


def test_auditor_reads_but_may_not_write(http, key_for):
    auditor = key_for("auditor")
    pending = submit(http, individual_application())
    before = count_certificates(http)
    for path, body in [("/certificates", issue_body()), ("/applications", individual_application()),
                       (f"/applications/{pending['id']}/approve", {}),
                       ("/api-keys", {"name": "sneaky", "role": "administrator"})]:
        problem(http.post(path, json=body, headers=auditor), 403)
    assert http.get("/certificates", headers=auditor).status_code == 200
    assert http.get("/journal/issuance", headers=auditor).status_code == 200
    assert http.get(f"/applications/{pending['id']}").json()["status"] == "submitted"
    assert count_certificates(http) == before


def test_a_key_also_works_as_a_bearer_token(anon, key_for):
    auditor = key_for("auditor")["X-API-Key"]
    assert anon.get("/certificates", headers={"Authorization": f"Bearer {auditor}"}).status_code == 200
    problem(anon.post("/api-keys", json={"name": "x", "role": "auditor"},
                      headers={"Authorization": f"Bearer {auditor}"}), 403)


def test_registrar_issues_but_may_not_create_keys(http, key_for):
    registrar = key_for("registrar")
    problem(http.post("/api-keys", json={"name": "x", "role": "auditor"}, headers=registrar), 403)
    assert http.post("/certificates", json=issue_body(), headers=registrar).status_code == 201


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_routes_need_no_key(anon, path):
    assert anon.get(path).status_code == 200


def _needs_actor(dependant) -> bool:
    return any(d.call is actor_dependency or _needs_actor(d) for d in dependant.dependencies)


def api_routes(app) -> list[tuple[str, set[str], APIRoute]]:
    """(path, methods, route) of every FastAPI route, included routers flattened."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:  # FastAPI before included routers were kept as a tree
        return [(r.path, r.methods, r) for r in app.routes if isinstance(r, APIRoute)]
    return [(c.path, c.methods, c.original_route) for c in contexts(app.routes)
            if isinstance(c.original_route, APIRoute)]


def test_every_non_public_route_answers_401_without_a_key(anon):
    routes = api_routes(anon.app)
    guarded = [(path, methods) for path, methods, route in routes if _needs_actor(route.dependant)]
    # Every route is either public (by name), guarded by a role dependency, or one of the console's pages,
    # guarded by the staff session (issue 20): without one each answers 401 with the login page.
    unkeyed = {path: methods for path, methods, route in routes if not _needs_actor(route.dependant)}
    console_pages = {path: methods for path, methods in unkeyed.items()
                     if path.startswith("/console") and path not in PUBLIC_ROUTES}
    assert set(unkeyed) - set(console_pages) == PUBLIC_ROUTES
    assert len(console_pages) >= 10, console_pages
    doors = {("GET", "/console"), ("POST", "/console/sign-out")}   # each shows the login form to anyone
    for method, path in doors:
        door = anon.request(method, path, follow_redirects=False)
        assert door.status_code == 200 and 'type="password"' in door.text, (method, path)
    well_formed = {"approval_id": "0123456789abcdef", "journal": "issuance"}   # else a 422 before the guard
    for template, methods in console_pages.items():
        path = re.sub(r"\{([^}]+)\}", lambda m: well_formed.get(m.group(1), "1"), template)
        for method in sorted(methods):
            if (method, template) in doors:
                continue
            response = anon.request(method, path, follow_redirects=False)
            assert (response.status_code, response.headers.get("content-type", "").split(";")[0]) == \
                (401, "text/html"), f"{method} {template}: {response.status_code}"
    assert len(guarded) >= 12
    answers = {}
    for template, methods in guarded:
        path = re.sub(r"\{[^}]+\}", "1", template)
        for method in sorted(methods):
            response = anon.request(method, path)
            answers[f"{method} {template}"] = (response.status_code,
                                               response.headers.get("content-type", "").split(";")[0])
    assert {k: v for k, v in answers.items() if v != (401, PROBLEM)} == {}


# --- issuance -----------------------------------------------------------------


def test_issue_with_csr_then_read_it_back(http):
    body = issue_body()
    csr = x509.load_pem_x509_csr(body["csr_pem"].encode())
    response = http.post("/certificates", json=body)
    assert response.status_code == 201, response.text
    issued = response.json()
    cert = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    assert spki(cert.public_key()) == spki(csr.public_key())
    assert format(cert.serial_number, "x") == issued["serial"]

    shown = http.get(f"/certificates/{issued['serial']}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["status"] == "valid" and shown.json()["iin"] == body["subject"]["iin"]
    found = http.get("/certificates", params={"iin": body["subject"]["iin"]}).json()
    assert [c["serial"] for c in found] == [issued["serial"]]
    der = http.get(f"/certificates/{issued['serial']}/der")
    assert der.content == cert.public_bytes(serialization.Encoding.DER)


def test_issue_into_a_pkcs12_carrier(http):
    body = issue_body()
    del body["csr_pem"]
    body["carrier"] = {"type": "pkcs12", "password": "correct horse 42"}
    response = http.post("/certificates", json=body)
    assert response.status_code == 201, response.text
    issued = response.json()
    key, cert, _chain = pkcs12.load_key_and_certificates(base64.b64decode(issued["pkcs12_base64"]),
                                                         b"correct horse 42")
    assert format(cert.serial_number, "x") == issued["serial"]
    assert spki(key.public_key()) == spki(cert.public_key())
    assert http.get(f"/certificates/{issued['serial']}").json()["status"] == "valid"


def test_every_problem_is_listed_at_once_and_nothing_is_written(http):
    before = count_certificates(http)
    body = issue_body(iin=bad_checksum(new_iin()), organisation="O" * 65, email="not-an-email", bin=BIN)
    body["profile"] = "legal-sign"
    reported = problem(http.post("/certificates", json=body), 422)
    named = {f.rsplit(".", 1)[-1] for f in fields(reported)}
    assert {"iin", "organisation", "email"} <= named, reported
    assert count_certificates(http) == before


@pytest.mark.parametrize("where", ["top", "subject"])
def test_unknown_json_field_is_422(http, where):
    body = issue_body()
    (body if where == "top" else body["subject"])["colour"] = "blue"
    before = count_certificates(http)
    reported = problem(http.post("/certificates", json=body), 422)
    assert any("colour" in f for f in fields(reported)), reported
    assert count_certificates(http) == before


def test_malformed_json_is_422_problem_not_500(http):
    response = http.post("/certificates", content=b'{"profile": "individual-sign", ',
                         headers={"Content-Type": "application/json"})
    problem(response, 422)


def test_csr_whose_signature_does_not_verify_is_refused(http):
    before = count_certificates(http)
    body = issue_body()
    body["csr_pem"] = tampered_csr()
    reported = problem(http.post("/certificates", json=body), 422)
    assert any("csr" in f for f in fields(reported)), reported
    assert count_certificates(http) == before


# --- applications -------------------------------------------------------------


def test_individual_application_submitted_then_approved(http):
    body = individual_application()
    csr = x509.load_pem_x509_csr(body["csr_pem"].encode())
    submitted = submit(http, body)
    assert submitted["status"] == "submitted" and submitted["kind"] == "individual"
    assert dt.date.fromisoformat(submitted["due_date"]) >= dt.date.fromisoformat(submitted["submitted_at"][:10])
    assert submitted["certificate_serials"] == []

    approved = http.post(f"/applications/{submitted['id']}/approve")
    assert approved.status_code == 200, approved.text
    (certificate,) = approved.json()["certificates"]
    cert = x509.load_pem_x509_certificate(certificate["certificate_pem"].encode())
    assert format(cert.serial_number, "x") == certificate["serial"]
    assert spki(cert.public_key()) == spki(csr.public_key())

    shown = http.get(f"/applications/{submitted['id']}").json()
    assert shown["status"] == "issued" and shown["certificate_serials"] == [certificate["serial"]]
    registry = http.get(f"/certificates/{certificate['serial']}").json()
    assert registry["application_id"] == submitted["id"] and registry["status"] == "valid"
    problem(http.post(f"/applications/{submitted['id']}/approve"), 409)
    problem(http.post(f"/applications/{submitted['id']}/refuse",
                      json={"reason": "form-incorrect", "detail": "too late"}), 409)


def test_refusal_needs_a_known_reason_and_is_final(http):
    pending = submit(http, individual_application())
    path = f"/applications/{pending['id']}"
    reported = problem(http.post(path + "/refuse", json={"reason": "bad-mood", "detail": "no"}), 422)
    assert "reason" in fields(reported)
    for known in ("documents-missing", "form-incorrect", "data-mismatch", "key-unacceptable"):
        assert known in messages(reported), reported
    assert http.get(path).json()["status"] == "submitted"

    refused = http.post(path + "/refuse", json={"reason": "form-incorrect", "detail": "the phone is not hers"})
    assert refused.status_code == 200, refused.text
    assert refused.json()["status"] == "refused"
    assert refused.json()["refusal_reason"] == "form-incorrect"
    assert refused.json()["refusal_detail"] == "the phone is not hers"
    problem(http.post(path + "/approve"), 409)
    assert http.get(path).json()["certificate_serials"] == []


def test_NAT2_legal_entity_application_lists_short_name_iin_and_csr_together(http):
    """NAT-2: a short name over 64 characters is refused, alongside every other problem."""
    before = application_ids(http)
    form = person_form(iin=bad_checksum(new_iin()), bin=BIN, organisation="Qoltanba Test LLP",
                       short_name="Q" * 65)
    attachments = [{"kind": k, "name": f"{k}.pdf"} for k in ("id-copy", "state-registration", "power-of-attorney")]
    body = {"kind": "legal-entity", "form": form, "attachments": attachments, "csr_pem": tampered_csr()}
    reported = problem(http.post("/applications", json=body), 422)
    assert {"form.short_name", "form.iin", "csr"} <= set(fields(reported)), reported
    assert "NAT-2" in messages(reported)
    assert application_ids(http) == before


def test_GOV4_government_batch_issues_carriers_and_refuses_a_second_key(http):
    """GOV-2/GOV-3 batch issuance into PKCS#12 carriers; GOV-4 one valid key per holder."""
    iins = [new_iin("F"), new_iin("F")]
    letter = f"01-12/{next(_names)}"
    submitted = submit(http, batch_application(iins, letter))
    assert submitted["status"] == "submitted" and submitted["centre"] == "government"

    approved = http.post(f"/applications/{submitted['id']}/approve")
    assert approved.status_code == 200, approved.text
    result = approved.json()
    assert len(result["certificates"]) == 2
    assert set(result["generated_passwords"]) == set(iins)
    for issued in result["certificates"]:
        iin = re.search(r"IIN(\d{12})", issued["subject"]).group(1)
        _key, cert, _chain = load_pkcs12(base64.b64decode(issued["pkcs12_base64"]),
                                         result["generated_passwords"][iin].encode())
        assert format(cert.serial_number, "x") == issued["serial"]

    journal = http.get("/journal/issuance.csv")
    assert journal.status_code == 200 and journal.headers["content-type"].startswith("text/csv")
    rows = [r for r in csv.DictReader(io.StringIO(journal.text)) if r["letter_number"] == letter]
    assert len(rows) == 2 and journal.text.count(letter) == 2
    assert {r["certificate_serial"] for r in rows} == {c["serial"] for c in result["certificates"]}

    before = application_ids(http)
    again = batch_application([iins[1], new_iin("M")], f"01-12/{next(_names)}")
    reported = problem(http.post("/applications", json=again), 422)
    assert "GOV-4" in messages(reported) and "form.persons.0.iin" in fields(reported), reported
    assert application_ids(http) == before
