"""The borrower's signing page for the CSC API's OAuth2 authorisation-code flow (issue 19).

The MFO sends the borrower's browser to ``/csc/v2/oauth2/authorize``; the
API opens a pending activation and sends the browser here with the page's
token in an HttpOnly cookie for this activation's path only. The page runs
the biometric step of the policy (signing/requests/csc_page.py) and, once
the rule is met, sends the browser back to the MFO's ``redirect_uri`` with
the single-use code.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.pages.i18n import language_of
from api.pages.rendering import SECURITY_HEADERS, PageRoute, limited, render
from api.pages.sign_view import movements
from signing.requests.csc_credentials import CSCRefused
from signing.requests.csc_page import PageView

router = APIRouter(include_in_schema=False, route_class=PageRoute)
COOKIE = "qoltanba_csc"
KINDS = {"contract": "contract", "amendment": "amendment", "application": "application", "consent": "consent",
         "schedule": "schedule", "details_change": "details change"}


def _token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


def _page(request: Request, view: PageView, *, error: str | None = None, status: int = 200) -> Response:
    lang = language_of(request)
    services = request.app.state.services
    return render(request, "sign/csc.html", status_code=status, view=view, error=error,
                  kind=lang.gettext(KINDS.get(view.document_kind, view.document_kind)),
                  moves=movements(view.movements, lang), simulator=services.biometric_simulator is not None)


def _refused(request: Request, activation: str, refused: CSCRefused) -> Response:
    try:
        view = request.app.state.services.csc_page.view(activation, _token(request))
    except CSCRefused:
        return render(request, "sign/state.html", status_code=refused.status, state="invalid", view=None,
                      error=refused.description)
    return _page(request, view, error=refused.description, status=refused.status)


@router.get("/sign-csc/{activation}", dependencies=[Depends(limited("public"))])
async def show(activation: str, request: Request) -> Response:
    try:
        view = await run_in_threadpool(request.app.state.services.csc_page.view, activation, _token(request))
    except CSCRefused as refused:
        return render(request, "sign/state.html", status_code=refused.status, state="invalid", view=None,
                      error=refused.description)
    return _page(request, view)


@router.post("/sign-csc/{activation}/biometric", dependencies=[Depends(limited("public"))])
async def start_biometric(activation: str, request: Request) -> Response:
    try:
        view = await run_in_threadpool(request.app.state.services.csc_page.start_biometric, activation,
                                       _token(request))
    except CSCRefused as refused:
        return _refused(request, activation, refused)
    return _page(request, view)


@router.post("/sign-csc/{activation}/biometric/simulator", dependencies=[Depends(limited("public"))])
async def simulate_biometric(activation: str, request: Request) -> Response:
    """Development only: the provider simulator films the borrower performing the challenge's movements."""
    services = request.app.state.services
    if services.biometric_simulator is None:
        return Response(status_code=404)
    token = _token(request)
    try:
        view = await run_in_threadpool(services.csc_page.view, activation, token)
        iin = await run_in_threadpool(services.csc_page.holder_iin, activation, token)
        assertion = services.biometric_simulator.assertion(iin=iin, challenge=view.challenge or "",
                                                           movements=view.movements, at=services.clock.now())
        await run_in_threadpool(services.csc_page.submit_assertion, activation, token, assertion)
    except CSCRefused as refused:
        return _refused(request, activation, refused)
    return RedirectResponse(f"/sign-csc/{activation}#steps", status_code=303, headers=SECURITY_HEADERS)


@router.post("/sign-csc/{activation}/confirm", dependencies=[Depends(limited("public"))])
async def confirm(activation: str, request: Request) -> Response:
    try:
        target = await run_in_threadpool(request.app.state.services.csc_page.finish, activation, _token(request))
    except CSCRefused as refused:
        return _refused(request, activation, refused)
    answer = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
    answer.delete_cookie(COOKIE, path=f"/sign-csc/{activation}")
    return answer


__all__ = ["COOKIE", "router"]
