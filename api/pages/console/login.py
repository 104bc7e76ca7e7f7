"""The console's login and logout pages (issue 20); the rules are session.py's and ca/people.py's.

``GET /console/login`` shows the form; a browser's ``POST /console/login``
(a form, Accept text/html) logs in and goes to the page asked for; an API
client's goes on to the API's JSON route, as before. ``POST
/console/sign-out`` (a form with the session's token) ends the session; the
API's ``POST /console/logout`` stays the script clients'. Every refusal of a login says the same thing
(the name, the password or the code is wrong, or the account is locked),
in the page's language, as the API does: which part failed is in the audit
log only.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.pages.console.session import (
    LOGIN_COOKIE,
    FormRefused,
    SignIn,
    address,
    checked_form,
    go,
    login_page,
    page,
    services,
    session_cookie,
    signed_in,
)
from api.pages.i18n import language_of
from api.pages.rendering import NegotiatedRoute, PageRoute, limited
from ca.access import Unauthenticated
from ca.people import MAX_PASSWORD

router = APIRouter(include_in_schema=False, route_class=PageRoute)
negotiated = APIRouter(include_in_schema=False, route_class=NegotiatedRoute)


@router.get("/console", dependencies=[Depends(limited("public"))])
async def console_home(request: Request) -> Response:
    try:
        await signed_in(request)
    except SignIn as sign_in:
        _ = language_of(request).gettext
        return login_page(request, 401 if sign_in.ended else 200, drop_session=True, notice=_(
            "Your session has ended: it was idle too long or reached its time limit. Please log in again.")
            if sign_in.ended else None)
    return go("/console/applications")


@negotiated.get("/console/login", dependencies=[Depends(limited("public"))])
async def login_form(request: Request, next: str = "/console") -> Response:  # noqa: A002 - the link's word
    return login_page(request, next_path=next)


@negotiated.post("/console/login", dependencies=[Depends(limited("login"))])
async def log_in(request: Request) -> Response:
    _ = language_of(request).gettext
    svc = services(request)
    form = await request.form(max_files=0, max_fields=6)
    name, password, code, next_path = (str(form.get(key) or "") for key in ("name", "password", "code", "next"))
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    token = form.get("csrf")
    if not nonce or not isinstance(token, str) or not svc.people.form_token_matches(f"login:{nonce}", token):
        await run_in_threadpool(svc.people.form_refused, "anonymous", "/console/login", address(request))
        return login_page(request, 403, name=name[:120], next_path=next_path, error=[_(
            "The login form had expired or did not come from this page. Nothing was sent; please try again.")])
    problems = []
    if not name.strip() or len(name) > 120:
        problems.append(_("Type your user name."))
    if not password or len(password) > MAX_PASSWORD:
        problems.append(_("Type your password."))
    code = code.replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        problems.append(_("Type the 6-digit code your authenticator app shows now."))
    if problems:
        return login_page(request, 422, name=name[:120], next_path=next_path, error=problems)
    try:
        session = await run_in_threadpool(svc.people.login, name.strip(), password, code, address(request))
    except Unauthenticated as refused:
        if refused.kind is not None:   # an unknown name: counted per source, summarised (issue 18)
            svc.auth_failures.count(address(request), refused.kind)
        policy = svc.people.policy
        return login_page(request, 401, name=name[:120], next_path=next_path, error=[
            _("The name, password or code is wrong, or the account is locked."),
            _("After {count} failed attempts in a row an account is locked for {minutes} minutes; an administrator "
              "can unlock it sooner.").format(count=policy.lockout_failures,
                                              minutes=int(policy.lockout.total_seconds() // 60))])
    answer = go(next_path if next_path.startswith("/console") and "//" not in next_path else "/console")
    session_cookie(answer, request, session.token, int(svc.people.policy.absolute.total_seconds()))
    answer.delete_cookie(LOGIN_COOKIE, path="/console")
    return answer


@router.post("/console/sign-out", dependencies=[Depends(limited("public"))])
async def log_out(request: Request) -> Response:
    _ = language_of(request).gettext
    try:
        staff = await signed_in(request)
        await checked_form(request, staff, max_fields=2)
    except SignIn:
        return login_page(request, notice=_("You have logged out."), drop_session=True)
    except FormRefused:
        return page(request, "console/refused.html", staff, 403, back="/console",
                    lines=[_("The form was not accepted. Nothing was changed.")])
    await run_in_threadpool(services(request).people.logout, staff.token, staff.actor)
    return login_page(request, notice=_("You have logged out."), drop_session=True)


__all__ = ["negotiated", "router"]
