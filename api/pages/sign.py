"""The Sign page: the borrower opens the MFO's link, reads the contract, proves the factors and signs (issue 20).

``GET /sign/{request}?t=<token>`` is the link the MFO backend sends the
borrower (the request's token, given to the MFO once when it made the
request): the page keeps the token in an HttpOnly cookie for that request's
path only (SameSite=Lax: another site's form cannot use it) and sends the
browser on to ``/sign/{request}``, so the token leaves the address bar and
the history; the access log never keeps a query string's values
(api/http/access_log.py). No account is needed.

Every step goes through the client API's services (``Services.client_signing``,
the same ``/client/signing-requests`` uses; ``Services.borrower_desk`` for the
few reads the API lacks), in the borrower's language: the request's
(named by the MFO, Kazakh by default) until the switch on the page says
otherwise. A step the service refuses shows its reason in that language
and changes nothing but the failure count the service keeps (a wrong code
counts, as in the API). The EDS step is api/pages/sign_eds.py.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.pages.i18n import COOKIE as LANGUAGE_COOKIE
from api.pages.i18n import LANGUAGES, Language, language_of
from api.pages.rendering import SECURITY_HEADERS, PageRoute, file_response, limited, render
from api.pages.sign_view import eds_panel, movements, page_count, page_png, sign_view
from ca.errors import QoltanbaError
from signing.requests.proofs import ClientContext
from signing.requests.steps import Challenge, CodeSent

router = APIRouter(include_in_schema=False, route_class=PageRoute)
TOKEN_COOKIE = "qoltanba_sign"
OPEN_STATES = {"open"}
# The token lives as long as a request may (the policy's request lifetime is at most days).
TOKEN_AGE = 7 * 24 * 3600
STATUS = {"unauthenticated": 401, "factor-refused": 403, "request-locked": 423, "review-window-open": 409,
          "conflict": 409, "invalid-input": 422, "invalid-signature": 422, "rate-limited": 429, "not-found": 404,
          "link-gone": 410, "payload-too-large": 413}


def said(lang: Language, code: str) -> str:
    """What the borrower is told when a step is refused (the API's problem codes)."""
    _ = lang.gettext
    known = {
        "unauthenticated": _("This signing link is not valid. Open the link from your lender's message again."),
        "factor-refused": _("That did not match. Check it and try again: after a few more failed attempts the "
                            "request locks."),
        "request-locked": _("The request is locked after too many failed attempts. Ask your lender for a new link."),
        "review-window-open": _("You can sign once the time to read the contract is over."),
        "conflict": _("This step cannot be done now. The page shows what is left to do."),
        "invalid-input": _("Please check what you entered: it is not in the expected form."),
        "invalid-signature": _("The signature does not match this document or your certificate. Nothing was "
                               "signed."),
        "rate-limited": _("Too many attempts from your address. Please wait a minute and try again."),
        "not-found": _("There is no such signing request."),
        "link-gone": _("This link has expired or was used already."),
        "payload-too-large": _("The file is too large."),
    }
    return known.get(code, _("Something went wrong on our side. Nothing was changed; please try again later."))


def token_of(request: Request) -> str | None:
    return request.cookies.get(TOKEN_COOKIE)


def ctx_of(request: Request) -> ClientContext:
    return ClientContext(ip=request.client.host if request.client else None,
                         user_agent=request.headers.get("user-agent"))


def language(request: Request, holder_language: str | None) -> Language:
    """The page's language: the switch's cookie when the borrower used it, else the request's (named by the
    MFO); without a request (a link that does not work), the browser's Accept-Language as on every page."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return Language(chosen)
    return Language(holder_language) if holder_language in LANGUAGES else language_of(request)


def page(request: Request, request_id: str, *, status: int = 200, error: str | None = None,
         **extra) -> Response:  # noqa: ANN003 - the template's extras
    """The page as the request stands now (or the page of its state: locked, expired, cancelled, signed)."""
    services = request.app.state.services
    token = token_of(request)
    try:
        holder = services.borrower_desk.holder(request_id, token)
        shown = services.client_signing.show(request_id, token)
    except QoltanbaError as refused:
        lang = language(request, None)
        return render(request, "sign/state.html", STATUS.get(refused.code, 422), lang, state="invalid",
                      error=said(lang, refused.code), view=None, here=f"/sign/{request_id}")
    lang = language(request, holder.language)
    view = sign_view(shown, lang, services.clock.now())
    if view.status not in OPEN_STATES:
        return render(request, "sign/state.html", status if error else 200, lang, state=view.status, view=view,
                      error=error, here=f"/sign/{request_id}")
    document = services.client_signing.document(request_id, token)
    eds = eds_panel(services, request_id, token, lang) if view.eds_ready else None
    provider = services.settings.biometric_provider_url
    answer = render(request, "sign/page.html", status, lang, view=view, holder=holder, error=error,
                    pages=page_count(document.sha256, document.content), eds=eds, here=f"/sign/{request_id}",
                    simulator=services.biometric_simulator is not None and not provider, provider=provider,
                    provider_return=services.settings.base_url.rstrip("/") + f"/sign/{request_id}/biometric/assertion",
                    **extra)
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    if provider and "challenge" in extra:
        # The biometric step's form goes to the identity provider's page: its origin joins form-action.
        origin = urllib.parse.urlsplit(provider)
        policy = policy.replace("form-action 'self'", f"form-action 'self' {origin.scheme}://{origin.netloc}")
    if eds is not None and eds.session:
        # The one place a page talks to anything but us: NCALayer on the borrower's own computer.
        policy += f"; connect-src 'self' {services.settings.ncalayer_url}"
    answer.headers["Content-Security-Policy"] = policy
    return answer


def refused(request: Request, request_id: str, error: QoltanbaError, *, say_as: str | None = None) -> Response:
    """The page again with the refusal said in the borrower's language (``say_as``: another code's words)."""
    token = token_of(request)
    try:
        holder_language = request.app.state.services.borrower_desk.holder(request_id, token).language
    except QoltanbaError:
        holder_language = None
    return page(request, request_id, status=STATUS.get(error.code, 422),
                error=said(language(request, holder_language), say_as or error.code))


def back(request_id: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/sign/{request_id}{anchor}", status_code=303)


@router.get("/sign/{request_id}", dependencies=[Depends(limited("public"))])
def sign_page(request_id: str, request: Request, t: str | None = None) -> Response:
    if t is not None:
        # The MFO's link: keep the token for this request's pages only, and take it out of the address bar.
        answer = back(request_id)
        answer.set_cookie(TOKEN_COOKIE, t[:256], max_age=TOKEN_AGE, path=f"/sign/{request_id}", httponly=True,
                          samesite="lax", secure=request.url.scheme == "https")
        return answer
    return page(request, request_id)


@router.get("/sign/{request_id}/document.pdf", dependencies=[Depends(limited("public"))])
def document_pdf(request_id: str, request: Request) -> Response:
    try:
        stored = request.app.state.services.client_signing.document(request_id, token_of(request))
    except QoltanbaError as error:
        return refused(request, request_id, error)
    return file_response(stored.content, "application/pdf", f"{stored.document_id}.pdf", inline=True)


@router.get("/sign/{request_id}/pages/{number}.png", dependencies=[Depends(limited("public"))])
async def page_image(request_id: str, number: int, request: Request) -> Response:
    try:
        stored = request.app.state.services.client_signing.document(request_id, token_of(request))
    except QoltanbaError:
        return Response(status_code=404)
    png = await run_in_threadpool(page_png, stored.sha256, stored.content, number)
    if png is None:
        return Response(status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600",
                                                          "X-Content-Type-Options": "nosniff"})


@router.post("/sign/{request_id}/sms", dependencies=[Depends(limited("public"))])
async def send_code(request_id: str, request: Request) -> Response:
    services = request.app.state.services
    try:
        sent = await run_in_threadpool(services.client_signing.start, request_id, token_of(request), "sms",
                                       ctx_of(request))
    except QoltanbaError as error:
        return refused(request, request_id, error)
    assert isinstance(sent, CodeSent)
    return page(request, request_id, sent_to=sent.sent_to)


@router.post("/sign/{request_id}/code", dependencies=[Depends(limited("public"))])
async def submit_code(request_id: str, request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=2)
    factor, code = str(form.get("factor", "")), str(form.get("code", "")).strip()
    try:
        await run_in_threadpool(request.app.state.services.client_signing.submit_code, request_id,
                                token_of(request), factor, code, ctx_of(request))
    except QoltanbaError as error:
        return refused(request, request_id, error)
    return back(request_id, "#steps")


@router.post("/sign/{request_id}/biometric", dependencies=[Depends(limited("public"))])
async def start_biometric(request_id: str, request: Request) -> Response:
    services = request.app.state.services
    try:
        challenge = await run_in_threadpool(services.client_signing.start, request_id, token_of(request),
                                            "biometric", ctx_of(request))
    except QoltanbaError as error:
        return refused(request, request_id, error)
    assert isinstance(challenge, Challenge)
    holder = services.borrower_desk.holder(request_id, token_of(request))
    lang = language(request, holder.language)
    return page(request, request_id, challenge=challenge, moves=movements(challenge.movements, lang))


@router.post("/sign/{request_id}/biometric/simulator", dependencies=[Depends(limited("public"))])
async def simulate_biometric(request_id: str, request: Request) -> Response:
    """Development only: the provider simulator films the borrower performing the challenge's movements."""
    services = request.app.state.services
    simulator = services.biometric_simulator
    if simulator is None:
        return Response(status_code=404)
    form = await request.form(max_files=0, max_fields=2)
    token = token_of(request)
    try:
        holder = services.borrower_desk.holder(request_id, token)
        moves = [m for m in str(form.get("movements", "")).split(",") if m]
        assertion = simulator.assertion(iin=holder.iin or "", challenge=str(form.get("challenge", "")),
                                        movements=moves, at=services.clock.now())
        await run_in_threadpool(services.client_signing.submit_assertion, request_id, token, assertion,
                                ctx_of(request))
    except QoltanbaError as error:
        return refused(request, request_id, error)
    return back(request_id, "#steps")


@router.post("/sign/{request_id}/biometric/assertion", dependencies=[Depends(limited("public"))])
async def provider_assertion(request_id: str, request: Request) -> Response:
    """Where the identity provider's page posts its signed assertion back (production's biometric step)."""
    form = await request.form(max_files=0, max_fields=1)
    return await _assertion(request_id, request, str(form.get("assertion", "")))


@router.get("/sign/{request_id}/biometric/assertion", dependencies=[Depends(limited("public"))])
async def provider_return(request_id: str, request: Request, assertion: str | None = None) -> Response:
    """Where the identity provider's page sends the borrower back (QOLTANBA_BIOMETRIC_PROVIDER_URL's ``return``):
    a top-level GET, so the SameSite=Lax token cookie comes along; the assertion (single-use, bound to our
    challenge) is taken, and the browser goes on to the page without it in the address."""
    if not assertion:
        # The borrower came back without an assertion (cancelled at the provider): nothing is counted.
        holder_language = None
        try:
            holder_language = request.app.state.services.borrower_desk.holder(request_id, token_of(request)).language
        except QoltanbaError:
            pass
        return page(request, request_id, status=400, error=language(request, holder_language).gettext(
            "The identity provider did not confirm the check. Start the biometric check again."))
    return await _assertion(request_id, request, assertion)


async def _assertion(request_id: str, request: Request, assertion: str) -> Response:
    try:
        await run_in_threadpool(request.app.state.services.client_signing.submit_assertion, request_id,
                                token_of(request), assertion[:8192], ctx_of(request))
    except QoltanbaError as error:
        return refused(request, request_id, error)
    return back(request_id, "#steps")


@router.post("/sign/{request_id}/confirm", dependencies=[Depends(limited("public"))])
async def confirm(request_id: str, request: Request) -> Response:
    try:
        await run_in_threadpool(request.app.state.services.client_signing.confirm, request_id, token_of(request),
                                ctx_of(request))
    except QoltanbaError as error:
        return refused(request, request_id, error)
    return back(request_id)


def now_of(request: Request) -> dt.datetime:
    return request.app.state.services.clock.now()


__all__ = ["TOKEN_COOKIE", "back", "ctx_of", "language", "page", "refused", "router", "said", "token_of"]
