"""RFC 3161 §3.4 time-stamping over HTTP: ``POST /tsa``, public like OCSP.

A query the TSA refuses is still a 200 carrying a TimeStampResp with status
rejection (RFC 3161 §3.4: the reply is the TimeStampResp, whatever its
status); only what never reaches the protocol, a wrong media type or an
oversized body, is an HTTP error with a problem+json body.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from api.http.deps import services
from api.http.openapi import problem_responses
from api.http.rate_limit import limited
from api.wiring import Services

router = APIRouter(tags=["time-stamping"])

QUERY = "application/timestamp-query"
REPLY = "application/timestamp-reply"
# A real query is well under 200 bytes (imprint, nonce, policy OID).
MAX_QUERY_BYTES = 64 * 1024


@router.post(
    "/tsa", summary="RFC 3161 time-stamp token for a message imprint (public, rate-limited)", response_class=Response,
    dependencies=[Depends(limited("tsa"))],
    responses={200: {"content": {REPLY: {"schema": {"type": "string", "format": "binary"}}},
                     "description": "a DER TimeStampResp, granted or rejected"},
               **problem_responses(413, 415)},
    openapi_extra={"requestBody": {"required": True, "content": {
        QUERY: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def timestamp(request: Request, svc: Services = Depends(services)) -> Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != QUERY:
        raise HTTPException(415, f"send the DER TimeStampReq as {QUERY} (RFC 3161 §3.4)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_QUERY_BYTES:
        raise HTTPException(413, f"a time-stamp query is at most {MAX_QUERY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_QUERY_BYTES:
            raise HTTPException(413, f"a time-stamp query is at most {MAX_QUERY_BYTES} bytes")
    # Reading the serial counter and signing block: off the event loop.
    reply = await run_in_threadpool(svc.tsa.respond, bytes(body))
    return Response(reply, media_type=REPLY)
