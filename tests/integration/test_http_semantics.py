"""HTTP semantics the outside test of issue 18 (finding 7) found wanting, each held here.

- every 405 carries ``Allow`` listing every method of its path (RFC 9110
  §15.5.6), also where several routes share a path (GET and PUT /webhook);
- the OpenAPI document has no ``$ref`` to a schema it does not define;
- an administrator's ``GET /documents`` without ``tenant`` does what the
  document says (the parameter is optional): every tenant's documents;
- and what schemathesis' negative_data_rejection found once it ran: a query
  parameter given twice is refused, not read as its last value.
"""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_api_documents import listed, mfo_key, uploaded  # noqa: F401 - fixture

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from api.http.app import create_app
    from tests.support.signing import embedded_services

    with embedded_services(tmp_path_factory.mktemp("semantics") / "home") as services:
        yield create_app(services=services)


def test_every_405_names_every_method_of_its_path_in_allow(app) -> None:
    """Issue 18, finding 7: 405 answers carried no Allow header (all 58 operations)."""
    client = TestClient(app)
    document = app.openapi()
    walked = 0
    for path, operations in document["paths"].items():
        declared = {m.upper() for m in operations if m in METHODS}
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in (m.upper() for m in METHODS if m.upper() not in declared):
            answer = client.request(method, concrete)
            assert answer.status_code == 405, (method, path, answer.status_code, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            allowed = {m.strip() for m in answer.headers.get("allow", "").split(",") if m.strip()}
            # HEAD comes with GET on the plain Starlette routes (CRLs, OCSP GET); nothing else is extra.
            assert allowed - {"HEAD"} == declared, (method, path, answer.headers.get("allow"))
            walked += 1
    assert walked >= 200, walked
    both = client.patch("/webhook")
    assert both.status_code == 405 and both.headers["allow"] == "GET, PUT"


def test_the_openapi_document_has_no_dangling_ref(app) -> None:
    """Issue 18, finding 7: six operations referred to HTTPValidationError, which the document did not define."""
    document = app.openapi()
    text = json.dumps(document)
    references = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text))
    assert references and references <= set(document["components"]["schemas"]), \
        references - set(document["components"]["schemas"])
    assert "HTTPValidationError" not in text
    # Every 422 is the project's problem+json, as the other errors are.
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answer = operation["responses"].get("422")
            if answer is not None:
                assert answer["content"] == {"application/problem+json": {"schema": {
                    "$ref": "#/components/schemas/Problem"}}}, (method, path)


def test_an_administrator_lists_every_tenants_documents_without_naming_a_tenant(http, mfo_key) -> None:  # noqa: F811
    """Issue 18, finding 7: GET /documents without tenant answered an administrator 422 though tenant is optional."""
    alpha, beta = mfo_key("alpha"), mfo_key("beta")
    ours, theirs = uploaded(http, alpha)["id"], uploaded(http, beta)["id"]
    everyone = listed(http, {})                                       # the administrator, naming no tenant
    assert ours in everyone and theirs in everyone
    assert listed(http, {}, tenant="alpha") == [ours]                # naming one narrows it
    assert listed(http, alpha) == [ours] and listed(http, beta) == [theirs]   # an mfo key: only its own
    assert http.get("/documents", headers=alpha, params={"tenant": "beta"}).status_code == 403
    # The document says so.
    (tenant,) = [p for p in http.app.openapi()["paths"]["/documents"]["get"]["parameters"] if p["name"] == "tenant"]
    assert tenant["required"] is False and "every tenant" in tenant["description"]


def test_a_query_parameter_given_twice_is_a_field_problem_not_its_last_value(app) -> None:
    """Issue 18 (schemathesis' negative_data_rejection): ?phone=a&phone=b was read as its last value."""
    from ca.access import AccessService

    services = app.state.services
    key = AccessService(services.registry, services.clock).create_key("twice", "administrator", by="test").key
    client = TestClient(app, headers={"X-API-Key": key})
    answer = client.get("/dev/sms-outbox", params=[("phone", "+77011234567"), ("phone", "+77017654321"),
                                                   ("tenant", "a"), ("tenant", "b")])
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    assert [p["field"] for p in answer.json()["problems"]] == ["query.phone", "query.tenant"]
    assert client.get("/certificates", params=[("limit", "5"), ("limit", "500")]).status_code == 422
    # One value each, or an undeclared parameter repeated: as before.
    assert client.get("/dev/sms-outbox", params={"phone": "+77011234567", "tenant": "a"}).status_code == 200
    assert client.get("/dev/sms-outbox", params=[("x", "1"), ("x", "2")]).status_code == 200
