"""Loan documents: the MFO uploads contracts and amendments and reads them back.

The tenant comes from the MFO's API key, never from the request; an
administrator reads any tenant's documents by naming it. Another tenant's
document answers 404, the same as an id that never existed.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.http.deps import require, services
from api.http.limits import MULTIPART_ALLOWANCE, PayloadTooLarge, capped
from api.http.openapi import MAX_ID, RowId, problem_responses
from api.wiring import Services
from ca.access import DOCUMENT_READ, MFO, Actor, Forbidden, Role
from ca.errors import InvalidInput, Problem
from signing import EVERY_TENANT, StoredPdf
from signing.documents import Scope
from signing.requests.dossier import MEDIA_TYPE

router = APIRouter(tags=["documents"])

MAX_METADATA_BYTES = 64 * 1024

_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "metadata"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "the PDF to be signed"},
        "metadata": {"type": "string", "description": (
            "JSON object: kind (contract|amendment), contract (amendments: the contract's id), contract_number, "
            "client_id_number (IIN or BIN), client_kind (individual|entrepreneur|legal_entity), loan_amount "
            "(KZT), term_days, annual_effective_rate (%), interest_rate (%, optional), secured, purpose "
            "(business|consumer), template_version, title (optional)")},
    }}}}}}


# A PDF download: the bytes, or 304 when If-None-Match names the current version's hash.
PDF = {200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
       304: {"description": "Not modified: the ETag (the PDF's SHA-256) matches If-None-Match"}}


def tenant_of(who: Actor, requested: str | None) -> str:
    """Whose documents this request may touch."""
    if who.role is Role.MFO:
        if not who.tenant:
            raise Forbidden("this mfo key belongs to no tenant; an administrator must issue one with a tenant")
        if requested not in (None, who.tenant):
            raise Forbidden("an mfo key reads only its own tenant's documents")
        return who.tenant
    tenant = requested or who.tenant
    if not tenant:
        raise InvalidInput("name the tenant", [Problem("tenant", "an administrator names the tenant to read")])
    return tenant


TENANT = Query(default=None, max_length=64, description="administrator: read this tenant's documents only; "
                                                        "omitted: every tenant's (an mfo key reads its own)")


def read_scope(who: Actor, requested: str | None) -> Scope:
    """Whose documents a read may reach: an MFO its own tenant's; an administrator the one named, or every one.

    An administrator who names no tenant reads across tenants, as the
    document's optional ``tenant`` says (issue 18, finding 7); writes keep
    ``tenant_of``, which never widens.
    """
    if who.role is not Role.MFO and not requested and not who.tenant:
        return EVERY_TENANT
    return tenant_of(who, requested)


async def _part(form, name: str) -> bytes | str | None:  # noqa: ANN001 - starlette FormData
    value = form.get(name)
    if isinstance(value, UploadFile):
        return await value.read()
    return value


@router.post("/documents", status_code=201, openapi_extra=_UPLOAD_BODY, responses=problem_responses(409),
             summary="Upload a contract or amendment to be signed (role: mfo)")
async def upload(request: Request, response: Response, svc: Services = Depends(services),
                 who: Actor = Depends(require(MFO))) -> dict:
    tenant = tenant_of(who, None)
    limit = svc.settings.max_document_bytes + MULTIPART_ALLOWANCE
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    form = await capped(request, limit).form(max_files=2, max_fields=8, max_part_size=MAX_METADATA_BYTES)
    try:
        pdf, metadata = await _part(form, "file"), await _part(form, "metadata")
    finally:
        await form.close()
    if isinstance(pdf, str):
        # A text field, not a file: keep going, so its other problems are listed too.
        pdf = pdf.encode()
    view = await run_in_threadpool(svc.documents.upload, who.name, tenant, pdf, metadata)
    response.headers["Location"] = f"/documents/{view.id}"
    return view.as_json()


@router.get("/documents", summary="The tenant's documents, optionally one contract number's (roles: mfo; "
                                  "administrator: the tenant named, or every tenant's)")
def list_documents(contract_number: str | None = Query(default=None, min_length=1, max_length=64),
                   tenant: str | None = TENANT,
                   limit: int = Query(default=100, ge=1, le=1000), offset: int = Query(default=0, ge=0, le=MAX_ID),
                   svc: Services = Depends(services), who: Actor = Depends(require(DOCUMENT_READ))) -> list[dict]:
    views = svc.documents.list(read_scope(who, tenant), contract_number=contract_number, limit=limit, offset=offset)
    return [v.as_json() for v in views]


@router.get("/documents/{document_id}", summary="One document, its loan terms and versions (roles: mfo, "
                                                "administrator)")
def show(document_id: str, tenant: str | None = TENANT,
         svc: Services = Depends(services), who: Actor = Depends(require(DOCUMENT_READ))) -> dict:
    return svc.documents.get(read_scope(who, tenant), document_id).as_json()


@router.get("/documents/{document_id}/pdf", response_class=Response, responses=PDF,
            summary="The latest version's PDF (roles: mfo, administrator)")
def latest_pdf(document_id: str, request: Request, tenant: str | None = TENANT,
               svc: Services = Depends(services), who: Actor = Depends(require(DOCUMENT_READ))) -> Response:
    return pdf_response(svc.documents.latest_pdf(read_scope(who, tenant), document_id), request)


@router.get("/documents/{document_id}/versions/{number}/pdf", response_class=Response, responses=PDF,
            summary="One version's PDF (roles: mfo, administrator)")
def version_pdf(document_id: str, number: RowId, request: Request,
                tenant: str | None = TENANT, svc: Services = Depends(services),
                who: Actor = Depends(require(DOCUMENT_READ))) -> Response:
    return pdf_response(svc.documents.version_pdf(read_scope(who, tenant), document_id, number), request)


@router.get("/documents/{document_id}/dossier", response_class=Response,
            responses={200: {"content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
                       **problem_responses(409)},
            summary="The loan's credit dossier (LOAN-14): every document and version, the evidence, the "
                    "correspondence, as one ASiC-E sealed by the tenant (roles: mfo, administrator)")
def dossier(document_id: str = Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$",
                                    description="the contract's id, or any document's of the loan"),
            tenant: str | None = TENANT, svc: Services = Depends(services),
            who: Actor = Depends(require(DOCUMENT_READ))) -> Response:
    made = svc.dossiers.export(who.name, read_scope(who, tenant), document_id)
    return Response(made.content, media_type=MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{made.filename}"', "X-Dossier-SHA256": made.sha256,
        "Cache-Control": "private, no-store"})


def pdf_response(stored: StoredPdf, request: Request) -> Response:
    # The hash is the entity tag: a version's bytes never change, and the
    # latest version's tag changes exactly when a new version is added.
    etag = f'"{stored.sha256}"'
    headers = {"ETag": etag, "X-Document-SHA256": stored.sha256, "X-Document-Version": str(stored.number),
               "Content-Disposition": f'attachment; filename="{stored.document_id}-v{stored.number}.pdf"',
               # Contracts carry personal data: no shared cache may keep them.
               "Cache-Control": "private, no-cache"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(stored.content, media_type="application/pdf", headers=headers)
