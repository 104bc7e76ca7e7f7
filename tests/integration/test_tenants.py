"""MFO backends are tenants (issue 8): another tenant's id answers 404 on every route that takes one.

The walk: tenant alpha makes one of everything (a client with a factor, a
document signed and sealed through a signing request with its evidence, a
document with an external signing session). Then, for every route of the
table with a path parameter naming tenant data, for every method, tenant
beta's key calls it with alpha's ids: 404 problem+json, the same answer as
an id that never existed (not 403, which would say the id exists; never
200). Alpha's objects read the same afterwards. A route with a path
parameter that is neither walked nor written below as not tenant data fails
the test, so a new route must join the walk. Ids inside bodies (an
amendment's contract, a signing request's document and client) are refused
as field problems, and tenant-wide reads (lists, the webhook, the SMS
outbox) show beta nothing of alpha's. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re

import pytest
from cryptography.hazmat.primitives import serialization

from api.http.openapi import needs_key, routes
from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key, post_document  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support.factors import SigningPage, own_token, register, services, upload  # noqa: F401 - fixture
from tests.support.signing import authorise, client_with_held_key

# Path parameters that name a tenant's data, and the routes that take one but hold no tenant data.
TENANT_PARAMETERS = {"document_id", "number", "request_id", "session_id", "client_id", "factor_id",
                     "tenant", "form_id"}   # issue 15: the tenant itself (its seal, keys, policy) and its forms
NOT_TENANT_DATA = {
    "/applications/{application_id}": "the centres' applications: staff roles only; an mfo key gets 403",
    "/applications/{application_id}/approve": "as above",
    "/applications/{application_id}/refuse": "as above",
    "/certificates/{serial}": "the public registry of certificates: staff roles",
    "/certificates/{serial}/der": "as above",
    "/certificates/{serial}/revoke": "as above",
    "/certificates/{serial}/destroy-key": "a borrower's key the service holds (issue 15): registrar only",
    "/client/factors/{factor_id}/secret": "the client's own channel (issue 15): the enrolment token sent to the "
                                          "client's phone authenticates, no API key (tests/integration/"
                                          "test_own_factors.py)",
    "/client/factors/{factor_id}/confirm": "as above",
    "/ca/{code}/chain": "public CA artefacts",
    "/ca/{code}.cer": "public CA artefacts",
    "/ca/{code}/stop": "a centre, administrator only",
    "/crl/{code}/publish": "a centre, administrator only",
    "/trust-anchors/{sha256}": "the verification trust store, administrator only",
    "/approvals/{approval_id}": "dual-control requests of the centre's staff (issue 8); an mfo key gets 403",
    "/approvals/{approval_id}/approve": "as above, administrator only",
    "/approvals/{approval_id}/reject": "as above, administrator only",
    "/verify/{document_id}": "public by design: the stamp's QR code opens it; hash and verdicts, no personal data",
    "/lang/{code}": "the pages' language switch (issue 20): a cookie, no data",
    "/static/{name}": "the pages' CSS and script (issue 20)",
    "/sign-csc/{activation}": "the CSC API's authorisation page (issue 19): the page's token, in its cookie, "
                              "authenticates, no API key; another's token answers 401 (tests/e2e/test_csc_page.py)",
    "/sign-csc/{activation}/biometric": "as above",
    "/sign-csc/{activation}/biometric/simulator": "as above",
    "/sign-csc/{activation}/confirm": "as above",
}
# The borrower's Sign page (issue 20) takes no API key either: the request's token, kept in the page's cookie,
# authenticates each step through the same client services (tests/integration/test_sign_page.py: no or a wrong
# token answers 401).
SIGN_PREFIX = "/sign/"
# The client's routes take no API key: the signing request's token authenticates each call
# (tests/integration/test_factors_api.py: a wrong or another request's token answers 401).
CLIENT_PREFIX = "/client/signing-requests/"
# The console's pages are the centre's staff's (issue 20): a staff session authenticates, no API key reaches
# them, and a tenant has no staff account (tests/integration/test_console_pages.py).
CONSOLE_PREFIX = "/console/"
# The borrower's own account (issue 16) takes no API key: the borrower's session authenticates, and another
# borrower's or tenant's document or request answers 404 (tests/integration/test_borrower_accounts.py walks them).
BORROWER_PREFIXES = ("/borrower/", "/cabinet/")
BODIES = {"/signatures/client": {"authorisation": "a" * 32}, "/signatures/seal": {},
          "/signing-sessions": {"certificate": "<certificate>", "authorisation": "a" * 32}, "/complete": {"signature": "AAAA"},
          "/factors": {"kind": "totp"}, "/confirm": {"code": "123456"}, "/cancel": None, "/resend": None,
          "/account": {"language": "ru"},
          "{tenant}/seal": {}, "{tenant}/policy": {"policy": None},
          "{tenant}/forms": {"kind": "schedule", "version": "walk-1", "sha256": "a" * 64}}


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


@pytest.fixture
def beta(mfo_key):  # noqa: F811
    return mfo_key("beta")


@pytest.fixture
def alphas(http, services, alpha) -> dict[str, str]:
    """One of everything of alpha's: parameter name -> id."""
    iin = f.iin()
    token = own_token(services, iin)
    client = register(http, alpha, services, iin=iin, eds=token, biometric=False)
    # Issue 16: the client's account in the cabinet, invited (GET /clients/{id}/account reads it).
    assert http.post(f"/clients/{client['id']}/account", headers=alpha).status_code == 201
    document = upload(http, alpha, iin=iin, kind="schedule")
    created = http.post("/signing-requests", headers=alpha, json={"document": document, "client": client["id"],
                                                                  "level": "B-B"})
    assert created.status_code == 201, created.text
    assert SigningPage(http, services, created.json()).eds(token).json()["status"] == "sealed"
    # A second document, with an external signing session open on it.
    held = client_with_held_key(services)
    other = upload(http, alpha, iin=held.iin, kind="schedule")
    authorisation = authorise(services, other, held.serial, tenant="alpha")
    session = http.post(f"/documents/{other}/signing-sessions", headers=alpha, json={
        "certificate": held.certificate.public_bytes(serialization.Encoding.PEM).decode(),
        "authorisation": authorisation.id})
    assert session.status_code == 201, session.text
    form = http.post("/tenants/alpha/forms", headers=alpha, json={"kind": "consent", "version": "C-1",
                                                                  "sha256": "b" * 64})
    assert form.status_code == 201, form.text
    return {"tenant": "alpha", "form_id": form.json()["id"],
            "document_id": document, "number": "1", "request_id": created.json()["id"],
            "session_id": session.json()["id"], "client_id": client["id"], "factor_id": client["factors"][0]["id"],
            "other_document": other,
            "certificate": held.certificate.public_bytes(serialization.Encoding.PEM).decode()}


def _state(http, headers, ids: dict[str, str]) -> list:
    reads = [f"/documents/{ids['document_id']}", f"/documents/{ids['other_document']}",
             f"/signing-requests/{ids['request_id']}", f"/clients/{ids['client_id']}", "/tenants/alpha",
             "/tenants/alpha/forms"]
    answers = [http.get(path, headers=headers) for path in reads]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return [a.json() for a in answers] + [http.get("/documents", headers=headers).json()]


def _fill(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: ids[m.group(1)], template)


def test_another_tenants_id_answers_404_on_every_route_that_takes_one(http, alpha, beta, alphas) -> None:
    table = [(path, methods, route) for path, methods, route in routes(http.app)
             if re.search(r"\{[^}]+\}", path)]
    walked, skipped = [], []
    for path, methods, route in table:
        parameters = set(re.findall(r"\{([^}]+)\}", path))
        if path in NOT_TENANT_DATA or path.startswith((CLIENT_PREFIX, CONSOLE_PREFIX, SIGN_PREFIX, *BORROWER_PREFIXES)):
            skipped.append(path)
            continue
        # Every other route with an id must be walked: keyed, and every parameter one of alpha's ids.
        assert needs_key(route) and parameters <= TENANT_PARAMETERS, f"{path}: walk it or say why it is not tenant data"
        walked.extend((method, path) for method in sorted(methods))
    assert set(NOT_TENANT_DATA) <= set(skipped), "exceptions naming routes that no longer exist"
    assert len(walked) >= 17, walked

    before = _state(http, alpha, alphas)
    unknown = {name: "f" * 32 if name != "number" else "1" for name in alphas}
    for method, path in walked:
        # Bodies beta could send about its own objects: the only thing wrong with them is whose id it is.
        body = next((b for suffix, b in BODIES.items() if path.endswith(suffix)), None)
        if body and body.get("certificate"):
            body = {**body, "certificate": alphas["certificate"]}
        theirs = http.request(method, _fill(path, alphas), headers=beta, json=body)
        answer = problem(theirs, 404)
        # The same answer as an id that never existed: nothing tells beta the id is real.
        never = problem(http.request(method, _fill(path, unknown), headers=beta, json=body), 404)
        assert (answer["title"], answer["code"]) == (never["title"], never["code"]), (method, path)
        if method == "GET":
            assert http.get(_fill(path, alphas), headers=alpha).status_code == 200, (method, path)
    assert _state(http, alpha, alphas) == before


def test_ids_in_bodies_and_tenant_wide_reads_show_another_tenant_nothing(http, alpha, beta, alphas) -> None:
    contract = http.get(f"/documents/{alphas['document_id']}", headers=alpha).json()
    meta = contract["metadata"]
    amendment = f.loan_metadata(kind="amendment", contract=alphas["document_id"],
                                contract_number=meta["contract_number"], client_id_number=meta["client_id_number"])
    reported = problem(post_document(http, beta, metadata=amendment), 422)
    assert [p["field"] for p in reported["problems"]] == ["metadata.contract"]
    refused = problem(http.post("/signing-requests", headers=beta, json={
        "document": alphas["document_id"], "client": alphas["client_id"]}), 422)
    assert {p["field"] for p in refused["problems"]} == {"document", "client"}
    assert http.get("/documents", headers=beta).json() == []
    # Issue 15: beta's view of itself names its own keys and seal only, and lists no form of alpha's.
    ours, theirs = http.get("/tenants/beta", headers=beta).json(), http.get("/tenants/alpha", headers=alpha).json()
    assert ours["api_keys"] and {k["key_id"] for k in ours["api_keys"]}.isdisjoint(
        {k["key_id"] for k in theirs["api_keys"]})
    assert ours["seal"]["serial"] != theirs["seal"]["serial"] and theirs["seal"]["serial"] not in json.dumps(ours)
    assert http.get("/tenants/beta/forms", headers=beta).json() == []
    problem(http.get("/tenants/alpha/forms", headers=beta), 404)
    assert http.put("/webhook", headers=alpha, json={"url": "https://alpha.example/hook"}).status_code == 200
    problem(http.get("/webhook", headers=beta), 404)
    assert http.get("/dev/sms-outbox", headers=beta).json() == []
    assert http.get("/dev/sms-outbox", headers=alpha).json() != []
    # The administrator reads a tenant's documents only by naming it.
    assert http.get(f"/documents/{alphas['document_id']}", params={"tenant": "beta"}).status_code == 404
    assert http.get(f"/documents/{alphas['document_id']}", params={"tenant": "alpha"}).status_code == 200
