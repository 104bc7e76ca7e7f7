"""Signing requests: the MFO backend's routes and the client's (issue 5).

The MFO backend (role mfo, its tenant) creates a request for a document and
a client, reads its status, cancels it, and gets the signed PDF and the
evidence. The client's signing page calls the ``/client/…`` routes with no
API key: the request's token (given once to the MFO backend) goes in the
``X-Signing-Token`` header, and each address is rate-limited.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.http.deps import require, services
from api.http.openapi import problem_responses
from api.http.routes.documents import PDF, pdf_response, tenant_of
from api.http.schemas import base64_field
from api.wiring import Services
from ca.access import MFO, Actor
from ca.errors import ConflictError, InvalidInput, Problem
from signing import StoredPdf
from signing.requests.proofs import ClientContext
from signing.requests import SEALED, SIGNED

router = APIRouter(tags=["signing requests"])
# The client's routes: the token (401), the factors (403 refused, 409 out of order or the review window,
# 423 locked after too many wrong codes).
client_router = APIRouter(prefix="/client/signing-requests", tags=["client"],
                          responses=problem_responses(401, 403, 409, 423))

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: str = Field(min_length=1, max_length=64)
    client: str = Field(min_length=1, max_length=64)
    level: Level | None = None
    seal: bool = Field(default=True, description="the MFO's seal signs right after the client (default)")
    waive_review: bool = Field(default=False, description="the client waived the review window, where the policy "
                                                          "allows it (amendments; never a contract)")
    client_ip: str | None = Field(default=None, max_length=64, description="the client's address, as the MFO saw it")
    user_agent: str | None = Field(default=None, max_length=512, description="the client's user agent, as the MFO "
                                                                              "saw it")
    language: Literal["kk", "ru", "en"] = Field(default="kk", description="what the borrower reads: the signing "
                                                "page's first language, the SMS, the stamp's labels (issue 20)")


@router.post("/signing-requests", status_code=201,
             summary="Put a document before its client, under the policy for its kind (role: mfo); the answer "
                     "carries the client's token, once", responses=problem_responses(409))
async def create(body: RequestBody, response: Response, svc: Services = Depends(services),
                 who: Actor = Depends(require(MFO))) -> dict:
    view = await run_in_threadpool(svc.signing_requests.create, who.name, tenant_of(who, None),
                                   **body.model_dump())
    response.headers["Location"] = f"/signing-requests/{view.id}"
    return view.as_json()


@router.get("/signing-requests/{request_id}", summary="Status, factors proven, payout time (role: mfo)")
def status(request_id: str, svc: Services = Depends(services), who: Actor = Depends(require(MFO))) -> dict:
    return svc.signing_requests.get(tenant_of(who, None), request_id).as_json()


@router.post("/signing-requests/{request_id}/cancel", summary="Cancel an open request (role: mfo)",
             responses=problem_responses(409))
def cancel(request_id: str, svc: Services = Depends(services), who: Actor = Depends(require(MFO))) -> dict:
    return svc.signing_requests.cancel(who.name, tenant_of(who, None), request_id).as_json()


@router.get("/signing-requests/{request_id}/signed.pdf", response_class=Response,
            responses={**PDF, **problem_responses(409)},
            summary="The PDF once the client signed (sealed when the request asked for the seal) (role: mfo)")
def signed_pdf(request_id: str, request: Request, svc: Services = Depends(services),
               who: Actor = Depends(require(MFO))) -> Response:
    tenant = tenant_of(who, None)
    view = svc.signing_requests.get(tenant, request_id)
    if view.status not in (SIGNED, SEALED):
        raise ConflictError(f"the signing request is {view.status}; the signed PDF exists once the client signed")
    return pdf_response(svc.documents.latest_pdf(tenant, view.document), request)


def _evidence(svc: Services, who: Actor, request_id: str):  # noqa: ANN202 - EvidenceView
    return svc.evidence.for_request(who.name, tenant_of(who, None), request_id)


@router.get("/signing-requests/{request_id}/evidence",
            summary="The evidence report: the exact JSON the seal signed (role: mfo)",
            response_class=Response, responses={200: {"content": {"application/json": {}}},
                                                **problem_responses(409)})
async def evidence(request_id: str, svc: Services = Depends(services), who: Actor = Depends(require(MFO))) -> Response:
    view = await run_in_threadpool(_evidence, svc, who, request_id)
    return Response(view.report, media_type="application/json",
                    headers={"Link": f'</signing-requests/{request_id}/evidence.p7s>; rel="signature"',
                             "Cache-Control": "private, no-cache"})


@router.get("/signing-requests/{request_id}/evidence.p7s",
            summary="The MFO seal's detached CMS over the evidence report (role: mfo)",
            response_class=Response, responses={200: {"content": {"application/pkcs7-signature": {
                "schema": {"type": "string", "format": "binary"}}}}, **problem_responses(409)})
async def evidence_signature(request_id: str, svc: Services = Depends(services),
                             who: Actor = Depends(require(MFO))) -> Response:
    view = await run_in_threadpool(_evidence, svc, who, request_id)
    return Response(view.signature, media_type="application/pkcs7-signature",
                    headers={"Content-Disposition": f'attachment; filename="evidence-{request_id}.p7s"'})


# --- the client's routes ---------------------------------------------------------------


def client_context(request: Request, user_agent: str | None = Header(default=None)) -> ClientContext:
    host = request.client.host if request.client else None
    request.app.state.client_limiter.take(host or "unknown")
    return ClientContext(ip=host, user_agent=user_agent)


client_context.rate_limit_bucket = "client"  # type: ignore[attr-defined] - found by api/http/openapi.py


class CodeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    factor: Literal["sms", "totp"]
    code: str = Field(min_length=1, max_length=16)


class AssertionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assertion: str = Field(min_length=1, max_length=8 * 1024, description="the identity provider's signed "
                                                                          "assertion (JWS)")


class EDSBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    certificate: str = Field(min_length=1, max_length=64 * 1024, description="the client's EDS certificate, PEM")


class EDSSignatureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signature: str | None = Field(default=None, max_length=16 * 1024,
                                  description="base64 raw signature over signed_attributes")
    cms: str | None = Field(default=None, max_length=256 * 1024, description="base64 CMS over document_digest")


Token = Header(default=None, alias="X-Signing-Token", description="the request's token, from the MFO backend")


@client_router.get("/{request_id}", summary="What the client is asked to sign and which factors remain (token)")
def client_view(request_id: str, token: str | None = Token, svc: Services = Depends(services),
                ctx: ClientContext = Depends(client_context)) -> dict:
    return svc.client_signing.show(request_id, token).as_json()


@client_router.get("/{request_id}/document.pdf", response_class=Response, responses=PDF,
                   summary="The document as it will be signed: what the client reads (token)")
def client_document(request_id: str, request: Request, token: str | None = Token, svc: Services = Depends(services),
                    ctx: ClientContext = Depends(client_context)) -> Response:
    stored: StoredPdf = svc.client_signing.document(request_id, token)
    return pdf_response(stored, request)


@client_router.post("/{request_id}/factors/{factor}/start",
                    summary="sms: send a code; biometric: a liveness challenge; totp: ready (token)")
async def client_start(request_id: str, factor: Literal["sms", "totp", "biometric"], token: str | None = Token,
                       svc: Services = Depends(services),
                       ctx: ClientContext = Depends(client_context)) -> dict:
    return (await run_in_threadpool(svc.client_signing.start, request_id, token, factor, ctx)).as_json()


@client_router.post("/{request_id}/codes", summary="Submit an SMS or TOTP code (token)")
def client_code(request_id: str, body: CodeBody, token: str | None = Token, svc: Services = Depends(services),
                ctx: ClientContext = Depends(client_context)) -> dict:
    return svc.client_signing.submit_code(request_id, token, body.factor, body.code, ctx).as_json()


@client_router.post("/{request_id}/assertions", summary="Submit the identity provider's assertion (token)")
def client_assertion(request_id: str, body: AssertionBody, token: str | None = Token,
                     svc: Services = Depends(services), ctx: ClientContext = Depends(client_context)) -> dict:
    return svc.client_signing.submit_assertion(request_id, token, body.assertion, ctx).as_json()


@client_router.post("/{request_id}/eds", status_code=201,
                    summary="Start the EDS: what the client's token must sign, once the other factors are proven "
                            "(token)")
async def client_eds(request_id: str, body: EDSBody, token: str | None = Token, svc: Services = Depends(services),
                     ctx: ClientContext = Depends(client_context)) -> dict:
    return (await run_in_threadpool(svc.client_signing.start_eds, request_id, token, body.certificate, ctx)).as_json()


@client_router.post("/{request_id}/eds/signature", summary="Submit the EDS signature; the document is signed "
                                                           "(token)")
async def client_eds_signature(request_id: str, body: EDSSignatureBody, token: str | None = Token,
                               svc: Services = Depends(services), ctx: ClientContext = Depends(client_context)) -> dict:
    signature, cms = base64_field(body.signature, "signature"), base64_field(body.cms, "cms")
    if (signature is None) == (cms is None):
        raise InvalidInput("give the signature or the CMS", [Problem("signature", "exactly one of signature and "
                                                                                  "cms is required")])
    signed = await run_in_threadpool(svc.client_signing.submit_eds_signature, request_id, token,
                                     signature=signature, cms=cms, ctx=ctx)
    return signed.as_json()


@client_router.post("/{request_id}/confirm",
                    summary="Sign with the key the service holds, once the factors meet the policy (token)")
async def client_confirm(request_id: str, token: str | None = Token, svc: Services = Depends(services),
                         ctx: ClientContext = Depends(client_context)) -> dict:
    return (await run_in_threadpool(svc.client_signing.confirm, request_id, token, ctx)).as_json()
