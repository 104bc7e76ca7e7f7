"""Public status: CRLs at their distribution points and the OCSP responder (RFC 6960 appendix A).

These are plain Starlette routes, not FastAPI ones: they are the hottest
paths of the service, they take no JSON and need no authentication, and
FastAPI's dependency and validation layer would cost more than the cached
answer itself. A cached OCSP answer is served without leaving the event
loop; a miss (registry read and a signature) runs in the thread pool.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.http.problems import problem
from api.wiring import Services
from ca.policy import CENTRES
from ca.publication import DELTA, FULL
from ca.responder import MALFORMED

OCSP_RESPONSE = "application/ocsp-response"
MAX_OCSP_REQUEST = 10_000
_CRL_FILES = {f"{code}.crl": (code, FULL) for code in CENTRES} | {f"{code}-delta.crl": (code, DELTA) for code in CENTRES}


def _services(request: Request) -> Services:
    return request.app.state.services


# RFC 5019 §6: GET answers may be kept by HTTP caches for a short while.
CACHE_CONTROL = "max-age=60, public, no-transform, must-revalidate"


def _ocsp_response(der: bytes, request: Request) -> Response:
    headers = {"Cache-Control": CACHE_CONTROL} if request.method == "GET" else {}
    return Response(der, media_type=OCSP_RESPONSE, headers=headers)


class GetPaths:
    """GET request paths already seen, mapped to the OCSP request they encode (bounded)."""

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self.paths: dict[bytes, bytes] = {}

    def remember(self, raw_path: bytes, body: bytes) -> None:
        if len(self.paths) >= self.limit:
            self.paths.clear()
        self.paths[raw_path] = body


class CachedOCSPMiddleware:
    """Answers a repeated OCSP GET from the pre-signed cache before any routing.

    Boulder's "OCSP served from cache": the request path is looked up in a
    dictionary, the cached answer in another, and the bytes go out. Anything
    else, and every miss, goes down the normal stack.
    """

    _HEADERS = [(b"content-type", OCSP_RESPONSE.encode()), (b"cache-control", CACHE_CONTROL.encode())]

    def __init__(self, app, services: Services, paths: GetPaths) -> None:  # noqa: ANN001 - an ASGI app
        self.app = app
        self.services = services
        self.paths = paths.paths

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001 - ASGI
        if scope["type"] == "http" and scope["method"] == "GET":
            body = self.paths.get(scope.get("raw_path", b""))
            if body is not None:
                der = self.services.responder.cached(body)
                if der is not None:
                    await send({"type": "http.response.start", "status": 200,
                                "headers": [*self._HEADERS, (b"content-length", str(len(der)).encode())]})
                    await send({"type": "http.response.body", "body": der})
                    return
        await self.app(scope, receive, send)


async def ocsp_get(request: Request) -> Response:
    encoded = unquote(request.path_params["request"])
    try:
        body = base64.b64decode(encoded.replace("-", "+").replace("_", "/") + "=" * (-len(encoded) % 4),
                                validate=True)
    except (binascii.Error, ValueError):
        return Response(MALFORMED, media_type=OCSP_RESPONSE)
    raw_path = request.scope.get("raw_path")
    if raw_path and len(body) <= MAX_OCSP_REQUEST:
        request.app.state.ocsp_get_paths.remember(raw_path, body)
    return await _answer(body, request)


async def ocsp_post(request: Request) -> Response:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_OCSP_REQUEST:
        return Response(MALFORMED, media_type=OCSP_RESPONSE)  # refused before a byte of the body is read
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_OCSP_REQUEST:
            return Response(MALFORMED, media_type=OCSP_RESPONSE)
    return await _answer(body, request)


async def _answer(body: bytes, request: Request) -> Response:
    if not body or len(body) > MAX_OCSP_REQUEST:
        return Response(MALFORMED, media_type=OCSP_RESPONSE)
    services = _services(request)
    der = services.responder.cached(body)
    if der is None:
        der = await run_in_threadpool(services.responder.respond, body)
    return _ocsp_response(der, request)


async def crl(request: Request) -> Response:
    target = _CRL_FILES.get(request.path_params["name"])
    if target is None:
        return problem(404, "not-found", f"no CRL named {request.path_params['name']!r}; "
                                         f"known: {', '.join(sorted(_CRL_FILES))}", request)
    services = _services(request)
    published = await run_in_threadpool(services.publisher.latest, *target)
    if published is None:
        return problem(404, "not-found", "no CRL published yet", request)
    return Response(published.der, media_type="application/pkix-crl",
                    headers={"Cache-Control": "max-age=60, public, no-transform",
                             "ETag": f'"{target[0]}-{published.number}"'})


# These routes describe themselves for the OpenAPI document (api/http/openapi.py reads ``endpoint.openapi``).
_BINARY = {"type": "string", "format": "binary"}
_OCSP_ANSWER = {"200": {"description": "a DER OCSPResponse: an answer, or malformedRequest for what cannot be read "
                                       "(RFC 6960 §2.3)", "content": {OCSP_RESPONSE: {"schema": _BINARY}}}}
_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "the centre (informational: the request names its issuer)"}
ocsp_post.openapi = {"post": {"tags": ["status"], "summary": "OCSP (RFC 6960 appendix A.1), POST (public)",
                              "requestBody": {"required": True, "content": {
                                  "application/ocsp-request": {"schema": _BINARY}}},
                              "responses": _OCSP_ANSWER}}
ocsp_get.openapi = {"get": {"tags": ["status"], "summary": "OCSP GET: the base64 (URL-encoded) DER request in the "
                                                          "path (public, cached)",
                            "parameters": [_CODE, {"name": "request", "in": "path", "required": True,
                                                   "schema": {"type": "string"}}],
                            "responses": _OCSP_ANSWER}}
crl.openapi = {"get": {"tags": ["status"], "summary": "A centre's full or delta CRL, as named in the CDP (public)",
                       "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
                                       "description": "root.crl, national-delta.crl, …"}],
                       "responses": {"200": {"description": "the DER CRL", "content": {
                           "application/pkix-crl": {"schema": _BINARY}}}}}}

ROUTES = [
    Route("/ocsp/{code}", ocsp_post, methods=["POST"]),
    Route("/ocsp", ocsp_post, methods=["POST"]),
    Route("/ocsp/{code}/{request:path}", ocsp_get, methods=["GET"]),
    Route("/crl/{name}", crl, methods=["GET"]),
]
