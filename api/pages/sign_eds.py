"""The Sign page's EDS step: the borrower's own key signs, on a phone or a desktop or by an uploaded CMS (issue 20).

Once every other factor is proven, the borrower chooses one of the EDS
certificates they enrolled; ``POST /sign/{request}/eds`` starts the client
API's EDS session with it (what the key must sign is fixed from then on:
the PDF's signed byte ranges, whose digest the CMS carries). The page then
offers three ways to the same session:

- **eGov mobile** (a phone): a QR code for a second screen and a deep link on
  the same phone, both to a single-use, expiring link of ours
  (signing/requests/handoff.py) that the app reads and posts the CMS back to
  (api/http/routes/mobile_signing.py);
- **NCALayer** (a desktop): static/sign.js asks the NCA RK's local
  application over its WebSocket (``settings.ncalayer_url``, by default
  wss://127.0.0.1:13579) for ``createCAdESFromBase64Hash`` over the digest
  and posts the CMS here;
- **a CMS file**: the data to sign is offered for download; any CAdES tool
  that signs it detached (SHA-256, or the key's GOST hash) makes a CMS this
  form takes.

The page reloads itself (a plain link, no script needed) to see a signature
made on the phone.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.pages.rendering import PageRoute, file_response, limited
from api.pages.sign import back, ctx_of, refused, token_of
from ca.errors import InvalidInput, Problem, QoltanbaError

router = APIRouter(include_in_schema=False, route_class=PageRoute)
MAX_CMS = 192 * 1024   # a CMS with its certificate chain: a few KB; the client API takes at most 256 KB of base64


@router.post("/sign/{request_id}/eds", dependencies=[Depends(limited("public"))])
async def start_eds(request_id: str, request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=1)
    try:
        await run_in_threadpool(request.app.state.services.borrower_desk.start_eds, request_id, token_of(request),
                                str(form.get("certificate", ""))[:64], ctx_of(request))
    except QoltanbaError as error:
        return refused(request, request_id, error)
    return back(request_id, "#eds")


@router.get("/sign/{request_id}/eds/data", dependencies=[Depends(limited("public"))])
def data_to_sign(request_id: str, request: Request) -> Response:
    try:
        data = request.app.state.services.borrower_desk.data_to_sign(request_id, token_of(request))
    except QoltanbaError as error:
        return refused(request, request_id, error)
    return file_response(data.content, "application/octet-stream", f"to-sign-{request_id[:8]}.bin")


async def _cms(request: Request) -> bytes:
    """The CMS from the form: an uploaded file (``file``), or NCALayer's base64 answer (``cms``)."""
    form = await request.form(max_files=1, max_fields=2)
    try:
        upload, text = form.get("file"), str(form.get("cms") or "").strip()
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(MAX_CMS + 1)
        elif text:
            data = base64.b64decode(text, validate=True) if len(text) <= MAX_CMS * 4 // 3 + 4 else b"x" * (MAX_CMS + 1)
        else:
            raise InvalidInput("no CMS", [Problem("file", "choose the CMS file (.p7s, .cms, .sig)")])
    except (ValueError, binascii.Error):
        raise InvalidInput("the CMS cannot be read", [Problem("cms", "is not base64")]) from None
    finally:
        await form.close()
    if len(data) > MAX_CMS:
        raise InvalidInput("the CMS is too large", [Problem("file", f"must be at most {MAX_CMS} bytes")])
    if data.lstrip()[:11] == b"-----BEGIN ":   # a PEM-armoured CMS (openssl cms -outform PEM)
        body = b"".join(line for line in data.splitlines() if line and not line.startswith(b"-----"))
        try:
            data = base64.b64decode(body, validate=True)
        except (ValueError, binascii.Error):
            raise InvalidInput("the CMS cannot be read", [Problem("file", "is not a CMS in DER or PEM")]) from None
    return data


@router.post("/sign/{request_id}/eds/cms", dependencies=[Depends(limited("public"))])
async def submit_cms(request_id: str, request: Request) -> Response:
    try:
        cms = await _cms(request)
        await run_in_threadpool(request.app.state.services.client_signing.submit_eds_signature, request_id,
                                token_of(request), signature=None, cms=cms, ctx=ctx_of(request))
    except QoltanbaError as error:
        # A CMS that does not verify counts as a failed attempt (factor-refused): say why it failed.
        return refused(request, request_id, error, say_as="invalid-signature" if error.code == "factor-refused"
                       else None)
    return back(request_id)


__all__ = ["router"]
