"""RFC 9457 problem+json at the edge: one table from error codes to statuses."""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route, compile_path

from api.http.logs import current_request_id
from api.http.route_table import routes
from ca.errors import QoltanbaError
from keys import KeyError_
from registry.sealing import SealedDataUnreadable

log = logging.getLogger("qoltanba.api")

STATUS = {
    "invalid-input": 422,
    "refused": 422,
    "not-found": 404,
    "conflict": 409,
    "unauthenticated": 401,
    "forbidden": 403,
    "not-initialised": 503,
    "payload-too-large": 413,
    "unsupported-media-type": 415,
    "unavailable": 503,
    "lint-failed": 422,
    "invalid-signature": 422,
    "authorisation-required": 403,
    "factor-refused": 403,
    "request-locked": 423,
    "rate-limited": 429,
    "review-window-open": 409,
    "unverifiable": 422,
    "dual-control-required": 403,
    "timeout": 504,
    "link-gone": 410,
    "tenant-suspended": 409,
    "seal-unusable": 409,
    "not-ready": 503,
    "sealed-data-unreadable": 409,
}
TITLES = {
    "invalid-input": "The request has invalid fields",
    "refused": "The request is refused",
    "not-found": "Not found",
    "conflict": "Conflict with the registry's state",
    "unauthenticated": "Authentication required",
    "forbidden": "Not allowed for this role",
    "not-initialised": "Service not initialised",
    "payload-too-large": "Request too large",
    "unsupported-media-type": "Unsupported media type",
    "unavailable": "The service cannot answer now",
    "lint-failed": "The certificate failed linting and was not issued",
    "invalid-signature": "The signature does not verify",
    "authorisation-required": "The client's authorisation is required",
    "factor-refused": "The factor is refused",
    "request-locked": "The signing request is locked",
    "rate-limited": "Too many requests; try again later",
    "review-window-open": "The client's review window is still open",
    "unverifiable": "The input cannot be verified",
    "dual-control-required": "A second administrator's approval is needed (POST /approvals)",
    "timeout": "The request took longer than the processing limit",
    "link-gone": "The signing link has expired, was replaced or was used",
    "tenant-suspended": "The tenant is suspended",
    "seal-unusable": "The tenant's seal cannot sign",
    "not-ready": "The service is not ready: a readiness check failed",
    "sealed-data-unreadable": "Stored data does not open under its tenant's keys (moved, altered or its key retired)",
    "bad-request": "The request cannot be read",
    "method-not-allowed": "Method not allowed",
    "internal": "Internal error",
}
MEDIA_TYPE = "application/problem+json"


def problem(status: int, code: str, detail: str, request: Request, problems: list[dict] | None = None,
            headers: dict[str, str] | None = None, extra: dict | None = None) -> JSONResponse:
    body = {"type": f"urn:qoltanba:problem:{code}", "title": TITLES.get(code, code), "status": status,
            "detail": detail, "instance": str(request.url.path), "code": code}
    if problems:
        body["problems"] = problems
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field(error: dict) -> str:
    # A JSON syntax error's location ends in a byte offset, not a field.
    if error.get("type") == "json_invalid":
        return "body"
    return ".".join(str(p) for p in error["loc"] if p != "body") or "body"


class AllowedMethods:
    """The methods every route of a path answers, for the ``Allow`` header of a 405 (RFC 9110 §15.5.6).

    Starlette names only the methods of the one route that matched the path
    first, while a path such as ``/webhook`` is served by several routes (GET
    and PUT); the header must list them all. The route table is read once, on
    the first 405, when every router has been included.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._paths: list[tuple[re.Pattern, frozenset[str]]] | None = None

    def _table(self) -> list[tuple[re.Pattern, frozenset[str]]]:
        if self._paths is None:
            # A page's route (api/pages/, ``browser_only``) serves no API client: not in its Allow.
            table = [(path, methods) for path, methods, route in routes(self.app)
                     if not getattr(route, "browser_only", False)]
            table += [(r.path, r.methods) for r in self.app.routes if isinstance(r, Route) and not
                      isinstance(r, APIRoute) and r.methods]
            self._paths = [(compile_path(path)[0], frozenset(methods)) for path, methods in table]
        return self._paths

    def __call__(self, path: str) -> str:
        methods = set().union(*(methods for pattern, methods in self._table() if pattern.match(path)))
        return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    allowed = AllowedMethods(app)

    @app.exception_handler(QoltanbaError)
    async def _domain(request: Request, error: QoltanbaError) -> JSONResponse:
        status = STATUS.get(error.code, 422)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            headers = {"Retry-After": str(retry_after)}
        return problem(status, error.code, error.detail, request, [p.as_dict() for p in error.problems], headers)

    @app.exception_handler(SealedDataUnreadable)
    async def _sealed(request: Request, error: SealedDataUnreadable) -> JSONResponse:
        # LOAN-15: a row whose sealed data was moved from another row or tenant, or altered; logged without it.
        log.warning("sealed data unreadable: %s", error)
        return problem(409, "sealed-data-unreadable", "the stored data of this object does not open under its "
                       "tenant's keys: it was moved from another object or tenant, or altered", request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [{"field": _field(e), "message": e["msg"]} for e in error.errors()]
        return problem(422, "invalid-input", "the request has invalid fields", request, problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {400: "bad-request", 404: "not-found", 405: "method-not-allowed", 413: "payload-too-large",
                415: "unsupported-media-type"}.get(error.status_code, "http-error")
        # An unreadable body (FastAPI's 400, Starlette's multipart limits) names the body as the field.
        fields = [{"field": "body", "message": str(error.detail)}] if error.status_code == 400 else None
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed(request.url.path) or headers.get("Allow", "")
        return problem(error.status_code, code, str(error.detail), request, fields, headers or None)

    @app.exception_handler(KeyError_)
    async def _keys(request: Request, error: KeyError_) -> JSONResponse:
        # The key backend (the HSM) failed under the request (issue 17: SoftHSM2 refusing a key generation while
        # another process wrote its token): nothing was stored; the caller may try again. Its words stay in the log.
        request_id = current_request_id() or uuid.uuid4().hex
        log.error("key backend failure, request id %s: %s", request_id, type(error).__name__, exc_info=error)
        return problem(503, "unavailable", f"the key store could not do it now; try again (request id "
                                           f"{request_id})", request, headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        # The request's own id (api/http/logs.py), so the answer names the lines the log holds of it.
        request_id = current_request_id() or uuid.uuid4().hex
        log.error("unexpected error, request id %s: %s", request_id, type(error).__name__, exc_info=error)
        return problem(500, "internal", f"an unexpected error occurred; request id {request_id}", request,
                       headers={"X-Request-ID": request_id})
