"""The cabinet once logged in (issue 16): my documents, downloads, evidence, and the change of details (LOAN-9).

Every page needs the session cookie; without a live one it answers the
login page (401). A change of phone or bank details opens the factors
LOAN-9 names — biometrics and the EDS, and the code sent to a new phone —
on its own page; the last one puts the change in force and the old phone
is told by SMS.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.pages.cabinet import SESSION_COOKIE, STATUS, cms_of, said, steps_context
from api.pages.i18n import language_of
from api.pages.rendering import PageRoute, file_response, limited, render
from ca.errors import QoltanbaError
from signing.accounts import Borrower, DetailsChange, Proof

router = APIRouter(include_in_schema=False, route_class=PageRoute)


def N_(message: str) -> str:  # noqa: N802 - gettext's "mark only" (make i18n)
    return message


# The registry's statuses as the borrower reads them (documents, then signing requests).
STATUSES = {"uploaded": N_("waiting for signatures"), "client-signed": N_("signed by you"),
            "sealed": N_("signed by you and sealed by the lender"), "open": N_("waiting for your signature"),
            "signed": N_("signed by you"), "cancelled": N_("cancelled by the lender"), "expired": N_("expired"),
            "locked": N_("locked after wrong attempts")}


def who(request: Request) -> Borrower | Response:
    """The borrower of the session cookie, or the login page (401)."""
    try:
        return request.app.state.services.cabinet_sessions.authenticate(request.cookies.get(SESSION_COOKIE))
    except QoltanbaError:
        return render(request, "cabinet/login.html", 401, tenant="", here="/cabinet/login")


@router.get("/cabinet", dependencies=[Depends(limited("public"))])
def desk(request: Request) -> Response:
    borrower = who(request)
    if isinstance(borrower, Response):
        return borrower
    services = request.app.state.services
    lang = language_of(request)
    account = services.cabinet_sessions.me(borrower)
    mine = services.borrower_cabinet.desk(borrower)
    return render(request, "cabinet/desk.html", account=account, desk=mine, moment=lang.moment,
                  status=lambda code: lang.gettext(STATUSES[code]) if code in STATUSES else code,
                  changed=request.query_params.get("changed") == "1")


@router.get("/cabinet/documents/{document_id}.pdf", dependencies=[Depends(limited("public"))])
def document_pdf(document_id: str, request: Request) -> Response:
    borrower = who(request)
    if isinstance(borrower, Response):
        return borrower
    try:
        stored = request.app.state.services.borrower_cabinet.pdf(borrower, document_id)
    except QoltanbaError as error:
        return render(request, "error.html", STATUS.get(error.code, 400), status=404,
                      error=said(language_of(request), error)["text"])
    return file_response(stored.content, "application/pdf", f"{stored.document_id}-v{stored.number}.pdf")


@router.get("/cabinet/requests/{request_id}/evidence.json", dependencies=[Depends(limited("public"))])
async def evidence(request_id: str, request: Request) -> Response:
    borrower = who(request)
    if isinstance(borrower, Response):
        return borrower
    try:
        view = await run_in_threadpool(request.app.state.services.borrower_cabinet.evidence, borrower, request_id)
    except QoltanbaError as error:
        return render(request, "error.html", STATUS.get(error.code, 400), status=STATUS.get(error.code, 400),
                      error=said(language_of(request), error)["text"])
    return Response(json.dumps(view.record, ensure_ascii=False, indent=2).encode(), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="evidence-{request_id}.json"',
                             "Cache-Control": "no-store"})


# -- LOAN-9 ------------------------------------------------------------------------------------------------


@router.get("/cabinet/details", dependencies=[Depends(limited("public"))])
def details(request: Request) -> Response:
    borrower = who(request)
    if isinstance(borrower, Response):
        return borrower
    return render(request, "cabinet/details.html", account=request.app.state.services.cabinet_sessions.me(borrower),
                  values={})


@router.post("/cabinet/details", dependencies=[Depends(limited("public"))])
async def start_change(request: Request) -> Response:
    borrower = who(request)
    if isinstance(borrower, Response):
        return borrower
    form = await request.form(max_files=0, max_fields=4)
    values = {k: str(form.get(k, "")).strip()[:200] for k in ("phone", "bank_account", "bank_bic", "bank_name")}
    change = DetailsChange(**{k: (v or None) for k, v in values.items()})
    services = request.app.state.services
    try:
        view = await run_in_threadpool(services.borrower_accounts.start_change, borrower, change)
    except QoltanbaError as error:
        return render(request, "cabinet/details.html", STATUS.get(error.code, 400),
                      account=services.cabinet_sessions.me(borrower), values=values,
                      error=said(language_of(request), error))
    return RedirectResponse(f"/cabinet/details/{view.id}", status_code=303)


def change_page(request: Request, borrower: Borrower, change_id: str, *, status: int = 200,
                error: dict | None = None) -> Response:
    services = request.app.state.services
    try:
        view = services.borrower_accounts.change(borrower, change_id)
    except QoltanbaError as refused:
        return render(request, "error.html", STATUS.get(refused.code, 400), status=STATUS.get(refused.code, 400),
                      error=said(language_of(request), refused)["text"])
    return render(request, "cabinet/change.html", status, error=error, simulator=services.biometric_simulator is not None,
                  **steps_context(language_of(request), view))


@router.get("/cabinet/details/{change_id}", dependencies=[Depends(limited("public"))])
def show_change(change_id: str, request: Request) -> Response:
    borrower = who(request)
    if isinstance(borrower, Response):
        return borrower
    return change_page(request, borrower, change_id)


async def _step(request: Request, borrower: Borrower, change_id: str, proof: Proof) -> Response:
    try:
        view = await run_in_threadpool(request.app.state.services.borrower_accounts.prove_change, borrower, change_id,
                                       proof)
    except QoltanbaError as error:
        return change_page(request, borrower, change_id, status=STATUS.get(error.code, 400),
                           error=said(language_of(request), error))
    if view.status == "done":
        return RedirectResponse("/cabinet?changed=1", status_code=303)
    return RedirectResponse(f"/cabinet/details/{change_id}#steps", status_code=303)


@router.post("/cabinet/details/{change_id}/code", dependencies=[Depends(limited("public"))])
async def change_code(change_id: str, request: Request) -> Response:
    borrower = who(request)
    if isinstance(borrower, Response):
        return borrower
    form = await request.form(max_files=0, max_fields=1)
    return await _step(request, borrower, change_id, Proof(factor="sms", code=str(form.get("code", "")).strip()[:16]))


@router.post("/cabinet/details/{change_id}/biometric/simulator", dependencies=[Depends(limited("public"))])
async def change_biometric(change_id: str, request: Request) -> Response:
    """Development only: the provider simulator stands in for the camera."""
    borrower = who(request)
    if isinstance(borrower, Response):
        return borrower
    services = request.app.state.services
    if services.biometric_simulator is None:
        return Response(status_code=404)
    try:
        view = services.borrower_accounts.change(borrower, change_id)
    except QoltanbaError as error:
        return change_page(request, borrower, change_id, status=STATUS.get(error.code, 400),
                           error=said(language_of(request), error))
    iin = services.cabinet_sessions.me(borrower).iin
    assertion = services.biometric_simulator.assertion(iin=iin, challenge=view.id, movements=view.movements,
                                                       at=services.clock.now())
    return await _step(request, borrower, change_id, Proof(factor="biometric", assertion=assertion))


@router.post("/cabinet/details/{change_id}/eds", dependencies=[Depends(limited("public"))])
async def change_eds(change_id: str, request: Request) -> Response:
    borrower = who(request)
    if isinstance(borrower, Response):
        return borrower
    form = await request.form(max_files=1, max_fields=1)
    cms, problem = cms_of(form.get("cms"))
    if cms is None:
        lang = language_of(request)
        return change_page(request, borrower, change_id, status=422, error={
            "text": lang.gettext("Please correct what is marked below."),
            "problems": [(lang.gettext("EDS signature"), lang.gettext(problem))]})
    return await _step(request, borrower, change_id, Proof(factor="eds", cms=cms))


@router.get("/cabinet/details/{change_id}/data.txt", dependencies=[Depends(limited("public"))])
def change_data(change_id: str, request: Request) -> Response:
    borrower = who(request)
    if isinstance(borrower, Response):
        return borrower
    try:
        view = request.app.state.services.borrower_accounts.change(borrower, change_id)
    except QoltanbaError:
        return Response(status_code=404)
    return Response(view.data_to_sign, media_type="text/plain; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="qoltanba-change.txt"', "Cache-Control": "no-store"})
