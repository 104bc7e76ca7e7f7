"""eGov mobile's QR signing: the app fetches the data to sign from our link and posts the CMS back (issue 20).

The borrower's signing page shows a single-use, expiring link
(signing/requests/handoff.py) as a QR code with eGov mobile's ``mobileSign:``
prefix (a second screen) and as eGov mobile's deep link (the same phone).
The app then speaks the QR signing protocol eGov mobile offers to
information systems connected to its "QR signing service" (as SIGEX and the
open-source clients of it describe it, e.g. mitwork/kalkan's
IntegrationService):

1. ``GET /mobile-sign?link=…`` — what is signed, until when, for whom, and
   where the documents are: ``{"description", "expiry_date", "organisation":
   {"nameRu", "nameKz", "nameEn", "bin"}, "document": {"uri", "auth_type":
   "Token", "auth_token"}}``;
2. ``GET /mobile-sign/documents`` with ``Authorization: Bearer <auth_token>``
   — ``{"signMethod": "CMS_SIGN_ONLY", "documentsToSign": [{"id", "nameRu",
   "nameKz", "nameEn", "meta", "document": {"file": {"mime", "data"}}}]}``:
   the data is the PDF's signed byte ranges (base64), whose digest the
   citizen's CMS must carry;
3. ``PUT /mobile-sign/documents`` with the same header and the same body
   where ``data`` is the detached CMS (base64): the document is signed.

The link goes in the query and the token in a header, never in a path, so
the access log keeps neither (api/http/access_log.py). Answers are JSON;
refusals the API's problem+json: 404 for a link we did not make, 410 for an
expired, replaced or used one, 403 ``factor-refused`` (a failed attempt,
counted like a wrong code; past the tolerance the request locks: 423) for a
CMS that does not sign the data with the certificate the borrower chose.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.http.deps import services
from api.http.openapi import problem_responses
from api.http.rate_limit import client_address
from api.wiring import Services
from ca.access import Unauthenticated
from ca.errors import InvalidInput, Problem
from signing.requests.proofs import ClientContext

router = APIRouter(prefix="/mobile-sign", tags=["mobile signing"], responses=problem_responses(401, 404, 410))
PATH = "/mobile-sign"
MAX_CMS_BASE64 = 256 * 1024


def context(request: Request, user_agent: str | None = Header(default=None)) -> ClientContext:
    """The client API's bucket (per address), and where the call came from."""
    host = client_address(request)
    request.app.state.client_limiter.take(host)
    return ClientContext(ip=host, user_agent=user_agent)


context.rate_limit_bucket = "client"  # type: ignore[attr-defined] - found by api/http/openapi.py


def _bearer(authorization: str | None) -> str:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("the link's token is missing: Authorization: Bearer <auth_token of the link>")
    return value.strip()


def _names(svc: Services) -> dict:
    name = svc.settings.organisation
    return {"nameRu": name, "nameKz": name, "nameEn": name}


@router.get("", summary="eGov mobile, step 1: what the link signs and where its documents are")
def service_data(request: Request, link: str = Query(min_length=1, max_length=1024),
                 svc: Services = Depends(services), ctx: ClientContext = Depends(context)) -> dict:
    handoff, _data = svc.borrower_desk.opened(link)
    base = svc.settings.base_url.rstrip("/")
    return {"description": "Qoltanba: " + handoff.request, "expiry_date": handoff.expires_at.isoformat(),
            "organisation": {**_names(svc), "bin": ""},
            "document": {"uri": f"{base}{PATH}/documents", "auth_type": "Token", "auth_token": link}}


@router.get("/documents", summary="eGov mobile, step 2: the data to sign (CMS_SIGN_ONLY)")
def documents(authorization: str | None = Header(default=None), svc: Services = Depends(services),
              ctx: ClientContext = Depends(context)) -> dict:
    handoff, data = svc.borrower_desk.opened(_bearer(authorization))
    title = f"{handoff.request[:8]} ({data.hash_algorithm})"
    return {"signMethod": "CMS_SIGN_ONLY", "documentsToSign": [{
        "id": 1, "nameRu": title, "nameKz": title, "nameEn": title,
        "meta": [{"name": "digest", "value": data.digest_b64}, {"name": "hash", "value": data.hash_algorithm}],
        "document": {"file": {"mime": "@file/pdf", "data": base64.b64encode(data.content).decode()}}}]}


class SignedFile(BaseModel):
    model_config = ConfigDict(extra="allow")
    mime: str | None = Field(default=None, max_length=64)
    data: str = Field(min_length=1, max_length=MAX_CMS_BASE64)


class SignedDocument(BaseModel):
    model_config = ConfigDict(extra="allow")
    file: SignedFile


class SignedEntry(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int | str
    document: SignedDocument


class SignedBody(BaseModel):
    model_config = ConfigDict(extra="allow")
    signMethod: str | None = Field(default=None, max_length=32)  # noqa: N815 - the protocol's name
    documentsToSign: list[SignedEntry] = Field(min_length=1, max_length=1)  # noqa: N815


@router.put("/documents", summary="eGov mobile, step 3: the citizen's CMS over the data; the document is signed",
            responses=problem_responses(403, 409, 422, 423))
async def signed(body: SignedBody, authorization: str | None = Header(default=None),
                 svc: Services = Depends(services), ctx: ClientContext = Depends(context)) -> dict:
    link = _bearer(authorization)
    try:
        cms = base64.b64decode(body.documentsToSign[0].document.file.data, validate=True)
    except (ValueError, binascii.Error):
        raise InvalidInput("the CMS cannot be read", [Problem("documentsToSign[0].document.file.data",
                                                              "is not base64")]) from None
    view = await run_in_threadpool(svc.borrower_desk.submit_from_link, link, cms, ctx)
    return {"status": view.status, "signed": True}
