"""Verification for anyone (issue 6): upload a signed PDF or CMS, get the report; the trust store.

``POST /verify`` and ``GET /verify/{document id}`` need no API key: courts,
auditors and clients use them. Both are rate-limited per client address
(api/http/rate_limit.py) and every verification runs in a limited worker process
(signing/verification/sandbox.py), at most ``QOLTANBA_VERIFY_PER_ADDRESS``
of them per client address at once (signing/verification/quota.py: 429 past
it, so one address cannot hold every worker). The trust store is read by
staff roles and changed by administrators.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.http.deps import require, services
from api.http.limits import MULTIPART_ALLOWANCE, PayloadTooLarge, capped
from api.http.openapi import problem_responses
from api.http.rate_limit import client_address, limited
from api.wiring import Services
from ca.access import ADMINISTRATOR, READ, Actor
from ca.errors import InvalidInput, Problem
from signing.verification.context import VerificationOptions

router = APIRouter(tags=["verification"])

_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "a signed PDF, a CMS signature (DER, PEM or base64; .p7s, .cms, .sig), or an "
                                "ASiC-E container (.asice, e.g. a credit dossier, LOAN-14)"},
        "detached": {"type": "string", "format": "binary",
                     "description": "the signed file, when the CMS is detached"},
    }}}}}}


class TrustAnchorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    certificate: str = Field(min_length=1, max_length=256 * 1024, description="PEM (one or more CA certificates)")
    label: str = Field(min_length=1, max_length=120, description="what the anchor is, e.g. 'NCA RK RSA root'")


def _at(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput("the request has invalid fields",
                           [Problem("at", "an ISO 8601 time with a zone, e.g. 2027-01-31T12:00:00Z")])
    return moment


async def _part(form, name: str) -> bytes | None:  # noqa: ANN001 - starlette FormData
    value = form.get(name)
    if value is None:
        return None
    if isinstance(value, UploadFile):
        return await value.read()
    return value.encode()


@router.post("/verify", openapi_extra=_UPLOAD_BODY, dependencies=[Depends(limited("verify"))],

             summary="Verify a signed PDF, CMS or ASiC-E: the report with ETSI indications (public, rate-limited)")
async def verify(request: Request, at: str | None = Query(default=None, description="validation time, ISO 8601"),
                 svc: Services = Depends(services)) -> JSONResponse:
    moment = _at(at)
    limit = 2 * svc.settings.verify_max_bytes + MULTIPART_ALLOWANCE
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    form = await capped(request, limit).form(max_files=2, max_fields=2)
    try:
        data, detached = await _part(form, "file"), await _part(form, "detached")
    finally:
        await form.close()
    if not data:
        raise InvalidInput("the request has invalid fields", [Problem("file", "upload the signed PDF or CMS")])
    options = VerificationOptions(at=moment, online=svc.settings.verify_online)
    report = await run_in_threadpool(svc.verifier.verify, data, detached=detached, options=options,
                                     source=client_address(request))
    return JSONResponse(report)


@router.get("/verify/{document_id}", summary="What a stamp's QR code opens: hash and signature summary of one of "
                                             "our documents, no personal data (public, rate-limited)",
            responses={200: {"content": {"application/json": {}, "text/html": {}}}},
            dependencies=[Depends(limited("verify"))])
async def verify_stored(document_id: str, request: Request, svc: Services = Depends(services)):  # noqa: ANN201
    found = await run_in_threadpool(svc.public_verification.summary, document_id, client_address(request))
    summary = found.as_json()
    # A browser (Accept: text/html) never reaches this route: the page is api/pages/verify.py's.
    return JSONResponse(summary, headers={"Cache-Control": "no-store"})


@router.get("/trust-anchors", summary="The verification trust store: our root and imported anchors "
                                      "(roles: auditor, registrar, administrator)")
def trust_anchors(svc: Services = Depends(services), who: Actor = Depends(require(READ))) -> list[dict]:
    return [a.as_json() for a in svc.trust_store.list()]


@router.post("/trust-anchors", status_code=201, summary="Import CA certificates as trust anchors "
                                                        "(role: administrator)", responses=problem_responses(409))
def add_trust_anchor(body: TrustAnchorBody, svc: Services = Depends(services),
                     who: Actor = Depends(require(ADMINISTRATOR))) -> list[dict]:
    return [a.as_json() for a in svc.trust_store.add(body.certificate.encode(), body.label, who.name)]


@router.delete("/trust-anchors/{sha256}", summary="Remove an imported trust anchor (role: administrator)")
def remove_trust_anchor(sha256: str, svc: Services = Depends(services),
                        who: Actor = Depends(require(ADMINISTRATOR))) -> dict:
    return svc.trust_store.remove(sha256, who.name).as_json()
