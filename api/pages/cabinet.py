"""The borrower's personal cabinet (issue 16): register from the MFO's invitation, log in, sign out.

The invitation link (``/cabinet/register?t=…``, sent to the client's
phone) keeps its token in an HttpOnly cookie for ``/cabinet/register`` and
redirects, so the token leaves the address bar (as the Sign page does). The
borrower chooses a password, then gives each factor LOAN-7 names: the SMS
code, the biometric step (the provider's simulator in development), and the
EDS (a CMS file over the data shown, from any CAdES tool). Login (LOAN-8)
sets the session cookie ``qoltanba_cabinet`` (HttpOnly, SameSite=Strict,
Secure over https, path ``/cabinet``); SameSite=Strict keeps another site's
form from carrying it, so the cabinet's forms need no token of their own.
My documents and the change of details are in ``cabinet_desk.py``.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.pages.i18n import Language, language_of
from api.pages.rendering import PageRoute, limited, render
from ca.errors import QoltanbaError
from signing.accounts import Proof

router = APIRouter(include_in_schema=False, route_class=PageRoute)
INVITE_COOKIE = "qoltanba_invite"
SESSION_COOKIE = "qoltanba_cabinet"
MAX_CMS_FILE = 96 * 1024


def N_(message: str) -> str:  # noqa: N802 - gettext's "mark only" (make i18n)
    return message


FIELDS = {"password": N_("Password"), "code": N_("Code"), "assertion": N_("Biometrics"), "cms": N_("EDS signature"),
          "eds": N_("EDS"), "iin": N_("IIN"), "tenant": N_("Lender"), "phone": N_("New phone"),
          "bank_account": N_("IBAN"), "bank_bic": N_("BIC"), "bank_name": N_("Bank"), "factor": N_("Step"),
          "ceremony": N_("Step")}


def said(lang: Language, error: QoltanbaError, *, invitation: bool = False) -> dict:
    """A refusal in the page's language: a sentence for its code, and each field named."""
    _ = lang.gettext
    sentences = {
        "unauthenticated": _("This invitation link is not valid, has expired or was used. Ask your lender for a new "
                             "one.") if invitation else _("The IIN, password or code is wrong, or the account is "
                                                          "locked for a while. Try again later."),
        "invalid-input": _("Please correct what is marked below."),
        "factor-refused": _("This step was not accepted. Check it and try again; too many failures start it over."),
        "conflict": _("This cannot be done now."),
        "not-found": _("There is no such page or document."),
        "rate-limited": _("Too many attempts. Please wait a minute and try again."),
    }
    return {"text": sentences.get(error.code, _("Something went wrong on our side. Nothing was changed; please try "
                                                "again later.")),
            "problems": [(_(FIELDS.get(p.field, p.field)), p.message) for p in error.problems]}


STATUS = {"unauthenticated": 401, "invalid-input": 422, "factor-refused": 403, "conflict": 409, "not-found": 404,
          "rate-limited": 429}


def cms_of(upload: object) -> tuple[str | None, str | None]:
    """The uploaded CMS file as the API's base64 (DER, PEM or base64 text), or why it cannot be read."""
    data = getattr(upload, "file", None)
    raw = data.read(MAX_CMS_FILE + 1) if data is not None else b""
    if not raw or len(raw) > MAX_CMS_FILE:
        return None, N_("Choose the CMS file (.p7s or .cms) your signing tool made.")
    text = raw.strip()
    if text.startswith(b"-----BEGIN"):
        text = b"".join(line for line in text.splitlines() if not line.startswith(b"-----"))
    try:
        return base64.b64encode(base64.b64decode(text, validate=True)).decode(), None
    except (ValueError, binascii.Error):
        return base64.b64encode(raw).decode(), None


def steps_context(lang: Language, view) -> dict:  # noqa: ANN001 - CeremonyView
    from api.pages.sign_view import movements

    return {"ceremony": view, "moves": movements(view.movements, lang), "until": lang.moment(view.expires_at)}


# -- registration -------------------------------------------------------------------------------------


def register_page(request: Request, *, status: int = 200, error: dict | None = None) -> Response:
    services = request.app.state.services
    token = request.cookies.get(INVITE_COOKIE)
    lang = language_of(request)
    try:
        holder = services.borrower_accounts.holder(token)
        view = services.borrower_accounts.registration(token)
    except QoltanbaError as refused:
        return render(request, "cabinet/register.html", STATUS.get(refused.code, 400), lang, holder=None,
                      error=said(lang, refused, invitation=True), ceremony=None, moves=[], done=False)
    extra = steps_context(lang, view) if view is not None else {"ceremony": None, "moves": [], "until": ""}
    return render(request, "cabinet/register.html", status, lang, holder=holder, error=error, done=False,
                  simulator=services.biometric_simulator is not None, **extra)


@router.get("/cabinet/register", dependencies=[Depends(limited("public"))])
def register(request: Request, t: str | None = None) -> Response:
    if t is not None:
        answer = RedirectResponse("/cabinet/register", status_code=303)
        answer.set_cookie(INVITE_COOKIE, t[:256], max_age=3 * 24 * 3600, path="/cabinet/register", httponly=True,
                          samesite="lax", secure=request.url.scheme == "https")
        return answer
    return register_page(request)


async def _registration_step(request: Request, call, *args) -> Response:  # noqa: ANN001
    services = request.app.state.services
    token = request.cookies.get(INVITE_COOKIE)
    try:
        tenant = services.borrower_accounts.holder(token).tenant   # for the login link, once registered
        view = await run_in_threadpool(call, token, *args)
    except QoltanbaError as error:
        return register_page(request, status=STATUS.get(error.code, 400), error=said(language_of(request), error))
    if getattr(view, "status", None) == "done":
        answer = render(request, "cabinet/register.html", 200, language_of(request), holder=None, done=True,
                        ceremony=None, moves=[], tenant=tenant)
        answer.delete_cookie(INVITE_COOKIE, path="/cabinet/register")
        return answer
    return RedirectResponse("/cabinet/register#steps", status_code=303)


@router.post("/cabinet/register", dependencies=[Depends(limited("public"))])
async def choose_password(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=2)
    password, again = str(form.get("password", "")), str(form.get("again", ""))
    if password != again:
        lang = language_of(request)
        return register_page(request, status=422, error={"text": lang.gettext("Please correct what is marked below."),
                                                         "problems": [(lang.gettext("Password"), lang.gettext(
                                                             "The two passwords differ."))]})
    return await _registration_step(request, request.app.state.services.borrower_accounts.start_registration,
                                    password)


@router.post("/cabinet/register/code", dependencies=[Depends(limited("public"))])
async def registration_code(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=1)
    return await _registration_step(request, request.app.state.services.borrower_accounts.prove_registration,
                                    Proof(factor="sms", code=str(form.get("code", "")).strip()[:16]))


@router.post("/cabinet/register/biometric/simulator", dependencies=[Depends(limited("public"))])
async def registration_biometric(request: Request) -> Response:
    """Development only: the provider simulator films the borrower performing the challenge's movements."""
    services = request.app.state.services
    if services.biometric_simulator is None:
        return Response(status_code=404)
    token = request.cookies.get(INVITE_COOKIE)
    try:
        holder = services.borrower_accounts.holder(token)
        view = services.borrower_accounts.registration(token)
    except QoltanbaError as error:
        return register_page(request, status=STATUS.get(error.code, 400), error=said(language_of(request), error))
    if view is None:
        return RedirectResponse("/cabinet/register", status_code=303)
    assertion = services.biometric_simulator.assertion(iin=holder.iin, challenge=view.id, movements=view.movements,
                                                       at=services.clock.now())
    return await _registration_step(request, services.borrower_accounts.prove_registration,
                                    Proof(factor="biometric", assertion=assertion))


@router.post("/cabinet/register/eds", dependencies=[Depends(limited("public"))])
async def registration_eds(request: Request) -> Response:
    form = await request.form(max_files=1, max_fields=1)
    cms, problem = cms_of(form.get("cms"))
    if cms is None:
        lang = language_of(request)
        return register_page(request, status=422, error={"text": lang.gettext("Please correct what is marked below."),
                                                         "problems": [(lang.gettext("EDS signature"),
                                                                       lang.gettext(problem))]})
    return await _registration_step(request, request.app.state.services.borrower_accounts.prove_registration,
                                    Proof(factor="eds", cms=cms))


@router.get("/cabinet/register/data.txt", dependencies=[Depends(limited("public"))])
def registration_data(request: Request) -> Response:
    try:
        view = request.app.state.services.borrower_accounts.registration(request.cookies.get(INVITE_COOKIE))
    except QoltanbaError:
        return Response(status_code=401)
    if view is None:
        return Response(status_code=404)
    return Response(view.data_to_sign, media_type="text/plain; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="qoltanba-registration.txt"', "Cache-Control": "no-store"})


# -- login (LOAN-8) ------------------------------------------------------------------------------------


@router.get("/cabinet/login", dependencies=[Depends(limited("public"))])
def login_page(request: Request, mfo: str | None = None) -> Response:
    return render(request, "cabinet/login.html", tenant=(mfo or "")[:64])


@router.post("/cabinet/login", dependencies=[Depends(limited("login"))])
async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=4)
    tenant, iin = str(form.get("mfo", ""))[:64], str(form.get("iin", "")).strip()[:32]
    password, code = str(form.get("password", ""))[:256], str(form.get("code", "")).strip()[:16] or None
    try:
        session = await run_in_threadpool(request.app.state.services.cabinet_sessions.login, tenant, iin, password,
                                          code)
    except QoltanbaError as error:
        return render(request, "cabinet/login.html", STATUS.get(error.code, 400), tenant=tenant, iin=iin,
                      error=said(language_of(request), error))
    answer = RedirectResponse("/cabinet", status_code=303)
    answer.set_cookie(SESSION_COOKIE, session.token, path="/cabinet", httponly=True, samesite="strict",
                      secure=request.url.scheme == "https")
    return answer


@router.post("/cabinet/sign-out", dependencies=[Depends(limited("public"))])
def sign_out(request: Request) -> Response:
    """The session ends; the login page is the answer (no redirect: one request, one token of the bucket)."""
    try:
        request.app.state.services.cabinet_sessions.logout(request.cookies.get(SESSION_COOKIE))
    except QoltanbaError:
        pass   # an ended session signs out as well
    answer = render(request, "cabinet/login.html", tenant="", here="/cabinet/login", signed_out=True)
    answer.delete_cookie(SESSION_COOKIE, path="/cabinet")
    return answer
