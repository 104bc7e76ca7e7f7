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
import hashlib
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.context import Services
from ca.policy import CENTRES
from ca.publication import DELTA, FULL
from ca.responder import MALFORMED

OCSP_RESPONSE = "application/ocsp-response"
MAX_OCSP_REQUEST = 10_000
_CRL_FILES = {f"{code}.crl": (code, FULL) for code in CENTRES} | {f"{code}-delta.crl": (code, DELTA) for code in CENTRES}


def _services(request: Request) -> Services:
    return request.app.state.services


def _ocsp_response(der: bytes, request: Request) -> Response:
    headers = {}
    if request.method == "GET":
        # RFC 5019 §6: GET answers may be cached by HTTP caches until they are refreshed.
        headers["Cache-Control"] = "max-age=60, public, no-transform, must-revalidate"
        headers["ETag"] = '"' + hashlib.sha1(der).hexdigest() + '"'  # noqa: S324 - an ETag, not security
    return Response(der, media_type=OCSP_RESPONSE, headers=headers)


async def ocsp_get(request: Request) -> Response:
    encoded = unquote(request.path_params["request"])
    try:
        body = base64.b64decode(encoded.replace("-", "+").replace("_", "/") + "=" * (-len(encoded) % 4),
                                validate=True)
    except (binascii.Error, ValueError):
        return Response(MALFORMED, media_type=OCSP_RESPONSE)
    return await _answer(body, request)


async def ocsp_post(request: Request) -> Response:
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
        return Response(b"no such CRL\n", status_code=404, media_type="text/plain")
    services = _services(request)
    published = await run_in_threadpool(services.publisher.latest, *target)
    if published is None:
        return Response(b"no CRL published yet\n", status_code=404, media_type="text/plain")
    return Response(published.der, media_type="application/pkix-crl",
                    headers={"Cache-Control": "max-age=60, public, no-transform",
                             "ETag": f'"{target[0]}-{published.number}"'})


ROUTES = [
    Route("/ocsp/{code}", ocsp_post, methods=["POST"]),
    Route("/ocsp", ocsp_post, methods=["POST"]),
    Route("/ocsp/{code}/{request:path}", ocsp_get, methods=["GET"]),
    Route("/crl/{name}", crl, methods=["GET"]),
]
