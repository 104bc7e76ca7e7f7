"""The Verify page (public, no login): a signed PDF or CMS in, a card per signature out (issue 20).

``GET /verify`` shows the form. A browser's form post to ``POST /verify``
(Accept text/html) gets the page; an API client's request goes on to the
API's route (api/http/routes/verification.py), whose JSON is unchanged. The
page runs the same verification the same way: the sandboxed verifier
(``Services.verifier``) under the client address's quota, the same
``verify`` token bucket, the same upload limit (api/http/limits.py stops a
larger body before it is read; ``PageErrors`` shows its 413 as this page).

``GET /verify/{document id}`` is where the QR code on our stamps leads: a
browser gets the page with that document's summary (signing/verification/
public.py: no personal data) in the visitor's language; an API client gets
the JSON, as before.

The full report is offered for download as the API's JSON, from the page
itself (a data: link): nothing of the uploaded file is kept on the server.
"""

from __future__ import annotations

import base64
import json

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.pages.cards import report_view, summary_view
from api.pages.errors import message
from api.pages.i18n import language_of
from api.pages.rendering import NegotiatedRoute, PageRoute, limited, render, wants_page
from ca.errors import QoltanbaError
from signing.verification.context import VerificationOptions

router = APIRouter(include_in_schema=False, route_class=PageRoute)
negotiated = APIRouter(include_in_schema=False, route_class=NegotiatedRoute)
# The status each refusal of the verification answers with (the API's, api/http/problems.py).
STATUS = {"unverifiable": 422, "invalid-input": 422, "rate-limited": 429, "payload-too-large": 413,
          "timeout": 504, "unavailable": 503}


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/verify", dependencies=[Depends(limited("public"))])
def verify_form(request: Request):  # noqa: ANN201
    """The form, for a browser; an API client gets the 405 it always got (the API has only POST /verify)."""
    if not wants_page(request.scope):
        raise HTTPException(405, "Method Not Allowed")
    return render(request, "verify.html")


async def _file(form, name: str) -> tuple[bytes, str]:  # noqa: ANN001 - starlette FormData
    value = form.get(name)
    if isinstance(value, UploadFile):
        return await value.read(), value.filename or ""
    return b"", ""


@negotiated.post("/verify", dependencies=[Depends(limited("verify"))])
async def verify_upload(request: Request):  # noqa: ANN201
    lang = language_of(request)
    settings = request.app.state.services.settings
    form = await request.form(max_files=2, max_fields=2)
    try:
        (data, name), (detached, _detached_name) = await _file(form, "file"), await _file(form, "detached")
    finally:
        await form.close()
    if not data:
        return render(request, "verify.html", 422, lang, error=message(lang, "invalid-input"))
    if len(data) > settings.verify_max_bytes or len(detached) > settings.verify_max_bytes:
        return render(request, "verify.html", 413, lang,
                      error=message(lang, "payload-too-large", limit=settings.verify_max_bytes))
    options = VerificationOptions(online=settings.verify_online)
    try:
        report = await run_in_threadpool(request.app.state.services.verifier.verify, data,
                                         detached=detached or None, options=options, source=_address(request))
    except QoltanbaError as refused:
        retry = getattr(refused, "retry_after", None)
        response = render(request, "verify.html", STATUS.get(refused.code, 422), lang,
                          error=message(lang, refused.code, retry_after=str(retry) if retry else None))
        if retry:
            response.headers["Retry-After"] = str(retry)
        return response
    download = "data:application/json;base64," + base64.b64encode(
        json.dumps(report, ensure_ascii=False, indent=2).encode()).decode()
    return render(request, "verify.html", 200, lang, result=report_view(report, lang), file_name=name,
                  download=download, download_name=(name.rsplit(".", 1)[0] or "document") + ".report.json")


@negotiated.get("/verify/{document_id}", dependencies=[Depends(limited("verify"))])
async def verify_stored(document_id: str, request: Request):  # noqa: ANN201
    lang = language_of(request)
    services = request.app.state.services
    summary = await run_in_threadpool(services.public_verification.summary, document_id, _address(request))
    return render(request, "document.html", 200, lang, result=summary_view(summary.as_json(), lang))


__all__ = ["negotiated", "router"]
