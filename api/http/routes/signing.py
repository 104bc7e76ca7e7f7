"""Signing a document over HTTP: the client's signature (held key or own token), then the MFO's seal.

Only the MFO backend (role mfo, its own tenant) asks for signatures. The
client's key held by the service signs only with an authorisation the
factor check granted for this document's current state; the client's own
token signs what a signing session hands out.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.http.deps import require, services
from api.http.openapi import problem_responses
from api.http.routes.documents import PDF, pdf_response, tenant_of
from api.http.schemas import base64_field
from api.wiring import Services
from ca.access import MFO, Actor
from ca.errors import ConflictError

router = APIRouter(tags=["signing"])

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]


class ClientSignatureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    authorisation: str = Field(min_length=1, max_length=64,
                               description="the single-use authorisation the factor check granted")
    level: Level | None = Field(default=None, description="PAdES level; default from the settings (B-LT)")


class SealBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: Level | None = None


class SessionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    certificate: str = Field(min_length=1, max_length=64 * 1024,
                             description="the client's signing certificate, PEM (or DER in base64)")
    authorisation: str = Field(min_length=1, max_length=64,
                               description="the single-use authorisation the factor check granted for this "
                                           "certificate and the document's current state")
    level: Level | None = None


class CompleteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signature: str | None = Field(default=None, max_length=16 * 1024,
                                  description="base64 raw signature over signed_attributes")
    cms: str | None = Field(default=None, max_length=256 * 1024,
                            description="base64 CMS SignedData over document_digest (NCALayer hash signing)")


def _certificate(text: str) -> bytes:
    if text.lstrip().startswith("-----BEGIN"):
        return text.encode()
    return base64_field(text, "certificate")


@router.post("/documents/{document_id}/signatures/client", status_code=201,
             summary="The client's signature with the key the service holds for them (role: mfo)",
             responses=problem_responses(409))
async def client_signature(document_id: str, body: ClientSignatureBody, svc: Services = Depends(services),
                           who: Actor = Depends(require(MFO))) -> dict:
    result = await run_in_threadpool(svc.signing.sign_with_client_key, who.name, tenant_of(who, None), document_id,
                                     authorisation=body.authorisation, level=body.level)
    return result.as_json()


@router.post("/documents/{document_id}/signatures/seal", status_code=201,
             summary="The MFO's seal, last, locking the document (role: mfo)", responses=problem_responses(409))
async def seal(document_id: str, body: SealBody | None = None, svc: Services = Depends(services),
               who: Actor = Depends(require(MFO))) -> dict:
    result = await run_in_threadpool(svc.client_signing.seal, who.name, tenant_of(who, None), document_id,
                                     level=body.level if body else None)
    return result.as_json()


@router.post("/documents/{document_id}/signing-sessions", status_code=201,
             summary="Start an external signature: what the client's own token must sign (role: mfo)",
             responses=problem_responses(409))
async def start_session(document_id: str, body: SessionBody, response: Response, svc: Services = Depends(services),
                        who: Actor = Depends(require(MFO))) -> dict:
    session = await run_in_threadpool(svc.signing.start_external, who.name, tenant_of(who, None), document_id,
                                      certificate=_certificate(body.certificate),
                                      authorisation=body.authorisation, level=body.level)
    response.headers["Location"] = f"/signing-sessions/{session.id}"
    return session.as_json()


@router.post("/signing-sessions/{session_id}/complete", status_code=201,
             summary="Finish an external signature with the raw signature or the token's CMS (role: mfo)",
             responses=problem_responses(409))
async def complete_session(session_id: str, body: CompleteBody, svc: Services = Depends(services),
                           who: Actor = Depends(require(MFO))) -> dict:
    result = await run_in_threadpool(svc.signing.complete_external, who.name, tenant_of(who, None), session_id,
                                     signature=base64_field(body.signature, "signature"), cms=base64_field(body.cms, "cms"))
    return result.as_json()


@router.get("/documents/{document_id}/signed.pdf", response_class=Response,
            responses={**PDF, **problem_responses(409)},
            summary="The final PDF, once the seal has locked it (role: mfo)")
def final_pdf(document_id: str, request: Request, svc: Services = Depends(services),
              who: Actor = Depends(require(MFO))) -> Response:
    tenant = tenant_of(who, None)
    view = svc.documents.get(tenant, document_id)
    if view.status != "sealed":
        raise ConflictError(f"the document is {view.status}; the final PDF exists once the MFO's seal is on it")
    return pdf_response(svc.documents.latest_pdf(tenant, document_id), request)
