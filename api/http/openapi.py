"""The OpenAPI document tells the truth about errors: every answer a route can give is declared.

Each route declares its own domain answers (404, 409, 423 …) with
``problem_responses``; what follows from the route's shape is added here
once, by walking the route table, so no route can forget it:

- a key is needed: 401 and 403, and 429 past the source's rejected credentials;
- it takes parameters or a body: 422, every field problem listed;
- it takes a path parameter: 404 (an unknown id, or another tenant's);
- it takes a body: 400 (unreadable) and 413 (api/http/limits.py stops reading past the limit);
- it is rate-limited: 429 with Retry-After;
- any route: 503 (not initialised, or the verification workers busy) and
  504, the request-processing timeout (api/http/limits.py).

All of them are RFC 9457 problem+json, described by the ``Problem`` schema;
FastAPI's own 422 (``HTTPValidationError``, which this document does not
define) is replaced on every operation, so no ``$ref`` dangles. A keyed
route states its credentials as security requirements (an API key in
``X-API-Key``, the same key or a console session as a bearer token, or the
console's session cookie), not as optional headers.
tests/integration/test_schemathesis.py holds the answers to the document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import FastAPI, Path
from fastapi.routing import APIRoute
from starlette.routing import Route

from api.http.deps import actor as actor_dependency
from api.http.problems import MEDIA_TYPE
from api.http.route_table import routes
from ca.people import SESSION_COOKIE

_REF = {"$ref": "#/components/schemas/Problem"}
# Registry ids are signed 64-bit integers; a larger one could only fail inside the database driver.
MAX_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
PROBLEM_SCHEMA = {
    "title": "Problem", "type": "object", "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "urn:qoltanba:problem:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string"},
        "problems": {"type": "array", "description": "every field problem at once", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}
SECURITY_SCHEMES = {
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "an API key, qk_<id>_<secret>"},
    "bearer": {"type": "http", "scheme": "bearer", "description": "an API key or a console session token"},
    "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                "description": "the console's session cookie (POST /console/login)"},
}
# Any one of them: a list of alternatives (OpenAPI 3.1 §4.8.30).
KEYED = [{name: []} for name in SECURITY_SCHEMES]
DESCRIPTIONS = {
    400: "The body cannot be read (not JSON of the declared media type, malformed multipart)",
    401: "No valid API key (or, on the client's routes, signing token)",
    403: "The role or the tenant may not do this",
    404: "No such resource, or another tenant's",
    409: "Conflicts with the resource's state",
    413: "The body is over the route's limit; it was not read further",
    415: "Unsupported media type",
    422: "Invalid input: every field problem listed",
    423: "The signing request is locked",
    429: "Too many requests from this address; see Retry-After",
    503: "The service cannot answer now (not initialised, or busy)",
    504: "The request took longer than the processing limit; a write may still have completed",
}


def problem_responses(*statuses: int) -> dict[int | str, dict]:
    """``responses=`` for a route decorator: these statuses answer problem+json."""
    return {status: {"description": DESCRIPTIONS.get(status, "Problem"), "content": {MEDIA_TYPE: {"schema": _REF}}}
            for status in statuses}


def _calls(dependant) -> Iterator:  # noqa: ANN001 - fastapi.dependencies.models.Dependant
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def needs_key(route: APIRoute) -> bool:
    return any(call is actor_dependency for call in _calls(route.dependant))


def rate_limit_bucket(route: APIRoute) -> str | None:
    """The bucket a route spends from, marked on its dependency (api/http/rate_limit.py), or None."""
    return next((getattr(call, "rate_limit_bucket") for call in _calls(route.dependant)
                 if getattr(call, "rate_limit_bucket", None)), None)


def takes_body(route: APIRoute) -> bool:
    return route.body_field is not None or "requestBody" in (route.openapi_extra or {})


def _automatic(route: APIRoute) -> list[int]:
    d = route.dependant
    statuses = [503, 504]
    if needs_key(route):
        statuses += [401, 403]
    if d.path_params or d.query_params or d.header_params or takes_body(route):
        statuses.append(422)
    if d.path_params:
        statuses.append(404)
    if takes_body(route):
        statuses += [400, 413]
    # A keyed route answers 429 too, past the source's bucket of rejected credentials (ca/auth_failures.py).
    if rate_limit_bucket(route) or needs_key(route):
        statuses.append(429)
    return statuses


def _add_plain_routes(app: FastAPI, schema: dict) -> None:
    """Plain Starlette routes (OCSP, CRLs) that describe themselves with an ``openapi`` attribute."""
    for route in app.routes:
        described = getattr(getattr(route, "endpoint", None), "openapi", None)
        if not isinstance(route, Route) or isinstance(route, APIRoute) or not described:
            continue
        path = route.path.replace(":path}", "}")
        for method, operation in described.items():
            declared = {p["name"] for p in operation.get("parameters", [])}
            missing = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                       for name in re.findall(r"\{([^}]+)\}", path) if name not in declared]
            operation = {**operation, "operationId": f"{route.name}_{method}_{len(schema['paths'])}",
                         "parameters": [*operation.get("parameters", []), *missing]}
            answers = {**operation["responses"], **{str(s): r for s, r in problem_responses(503, 504).items()}}
            if "requestBody" in operation:
                answers.update({str(s): r for s, r in problem_responses(413).items()})
            if "{" in path:
                answers.update({str(s): r for s, r in problem_responses(404).items()})
            schema["paths"].setdefault(path, {})[method] = {**operation, "responses": answers}


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = generate()
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
            schema["components"]["securitySchemes"] = SECURITY_SCHEMES
            for path, methods, route in routes(app):
                if not route.include_in_schema:
                    continue
                for method in methods:
                    operation = schema["paths"][path][method.lower()]
                    answers = operation.setdefault("responses", {})
                    for status, response in problem_responses(*_automatic(route)).items():
                        if str(status) not in answers:
                            answers[str(status)] = response
                    if "422" in answers:
                        # FastAPI's own 422 describes its error list, not our problem+json; and it
                        # declares one for the credential headers too, which cannot be invalid.
                        if 422 in _automatic(route) or 422 in route.responses:
                            answers["422"] = problem_responses(422)[422]
                        else:
                            del answers["422"]
                    if needs_key(route):
                        operation["security"] = KEYED
                    if 429 in (int(s) for s in answers if s.isdigit()):
                        answers["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                                     "description": "seconds to wait"}}
            _add_plain_routes(app, schema)
            schema["components"]["schemas"].pop("HTTPValidationError", None)
            schema["components"]["schemas"].pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
