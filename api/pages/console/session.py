"""Signing in to the console (issue 20): password and TOTP, the session cookie, forms' CSRF tokens, timeouts.

The accounts, passwords (argon2id), TOTP codes (each accepted once),
lockout and sessions are ca/people.py's, the same as the API's
``POST /console/login``; this module is the browser's door to them.

- **The session cookie** ``qoltanba_session`` holds the session token:
  HttpOnly (no script reads it), SameSite=Strict (no other site's page makes
  the browser send it), Path=/, and Secure whenever the console is served
  over https. The one exception is development on ``http://127.0.0.1``
  (``make run``): a Secure cookie would not be sent back over plain http, so
  there the cookie goes without the Secure flag; a deployment serves https
  (docs/SECURITY.md). The API's login route sets the same cookie, Secure
  always, for script clients.
- **CSRF.** Every form carries the session's form token
  (``PeopleService.form_token``: HMAC-SHA256 of the session token under a
  key derived from the master key), compared in constant time before
  anything is read from the form; a post without it, or with another
  session's, is refused (403), audited (``console.form_refused``) and changes
  nothing. The login form has its own: a random nonce in an HttpOnly,
  SameSite=Strict cookie and its keyed hash in the form.
- **Timeouts.** A session ends after ``QOLTANBA_CONSOLE_IDLE_MINUTES``
  without a request and ``QOLTANBA_CONSOLE_SESSION_HOURS`` after the login
  (ca/people.py decides; ``console.session_expired`` is audited); the next
  page is the login page saying so, and the person comes back to the page
  they asked for.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api.pages.console.words import ROLES, refusal, word
from api.pages.i18n import language_of
from api.pages.rendering import render
from api.wiring import Services
from ca.access import Actor, Role, Unauthenticated
from ca.errors import QoltanbaError
from ca.people import SESSION_COOKIE, PeopleService

LOGIN_COOKIE = "qoltanba_login"
_NEXT = re.compile(r"/console(/[A-Za-z0-9/_.-]*)?")
# The status of a refusal a page shows (the API's, api/http/problems.py).
STATUS = {"invalid-input": 422, "conflict": 409, "not-found": 404, "forbidden": 403, "dual-control-required": 409,
          "rate-limited": 429, "unauthenticated": 401}
Handler = Callable[..., Awaitable[Response]]


class SignIn(Exception):
    """No live session: the login page (``ended``: the session timed out or was closed)."""

    def __init__(self, ended: bool = False) -> None:
        super().__init__("sign in")
        self.ended = ended


class FormRefused(Exception):
    """A post without this session's form token."""


@dataclass(frozen=True)
class Staff:
    """The person signed in on this request, and their forms' token."""

    actor: Actor
    token: str
    csrf: str

    @property
    def name(self) -> str:
        return self.actor.name

    @property
    def role(self) -> str:
        return self.actor.role.value

    def may(self, allowed: frozenset[Role]) -> bool:
        return self.actor.role in allowed


def services(request: Request) -> Services:
    return request.app.state.services


def address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def secure(request: Request) -> bool:
    """Secure cookies over https; plain http only in development on the loopback (see the docstring)."""
    return request.url.scheme == "https"


async def signed_in(request: Request) -> Staff:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or not PeopleService.is_session_token(token):
        raise SignIn()
    svc = services(request)
    source = address(request)
    svc.auth_failures.admit(source)
    try:
        who = await run_in_threadpool(svc.people.authenticate, token)
    except Unauthenticated as refused:
        if refused.kind is not None:
            svc.auth_failures.rejected(source, refused.kind)
        raise SignIn(ended=refused.kind is None) from None
    return Staff(who, token, svc.people.form_token(token))


def login_page(request: Request, status: int = 200, *, error: list[str] | None = None, notice: str | None = None,
               next_path: str = "/console", name: str = "", drop_session: bool = False) -> HTMLResponse:
    """The login form, with a fresh nonce for its CSRF token; ``drop_session``: the session cookie too (it ended)."""
    nonce = secrets.token_urlsafe(24)
    svc = services(request)
    policy = svc.people.policy
    response = render(request, "console/login.html", status, error=error, notice=notice, name=name,
                      next_path=next_path if _NEXT.fullmatch(next_path) else "/console",
                      csrf=svc.people.form_token(f"login:{nonce}"), here="/console/login",
                      idle_minutes=int(policy.idle.total_seconds() // 60),
                      session_hours=language_of(request).number(round(policy.absolute.total_seconds() / 3600, 1)))
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, path="/console", httponly=True, samesite="strict",
                        secure=secure(request))
    if drop_session and SESSION_COOKIE in request.cookies:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure(request))
    return response


def session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=secure(request))


async def checked_form(request: Request, staff: Staff, *, max_fields: int = 20) -> FormData:
    """The posted form, once its token is this session's (constant-time); else ``FormRefused``, audited."""
    form = await request.form(max_files=0, max_fields=max_fields)
    presented = form.get("csrf")
    if not isinstance(presented, str) or not services(request).people.form_token_matches(staff.token, presented):
        await run_in_threadpool(services(request).people.form_refused, staff.name, request.url.path,
                                address(request))
        raise FormRefused()
    return form


def page(request: Request, template: str, staff: Staff, status: int = 200, **context: object) -> HTMLResponse:
    """A console page: the template with the person, their role's words and the forms' token."""
    lang = language_of(request)
    return render(request, template, status, lang, staff=staff, csrf=staff.csrf,
                  role_name=word(lang, ROLES, staff.role), **context)


async def guarded(request: Request, allowed: frozenset[Role], handler: Handler, *args: object) -> Response:
    """``handler(request, staff, *args)`` for a signed-in person whose role is ``allowed``.

    No session: the login page (401), coming back here afterwards for a GET.
    The wrong role: a refusal (403). A forged or stale form: 403, audited. A
    service's refusal: the page's words for it, with the API's status.
    """
    lang = language_of(request)
    _ = lang.gettext
    try:
        staff = await signed_in(request)
    except SignIn as sign_in:
        notice = _("Your session has ended: it was idle too long or reached its time limit. Please log in again.") \
            if sign_in.ended else _("Please log in to use the console.")
        return login_page(request, 401, notice=notice, drop_session=True,
                          next_path=request.url.path if request.method == "GET" else "/console")
    except QoltanbaError as limited:
        return render(request, "console/refused.html", STATUS.get(limited.code, 400), lang,
                      lines=refusal(lang, limited), back="/console", staff=None)
    if not staff.may(allowed):
        return page(request, "console/refused.html", staff, 403,
                    lines=[_("Your role does not allow this. Nothing was changed.")], back="/console")
    try:
        return await handler(request, staff, *args)
    except FormRefused:
        return page(request, "console/refused.html", staff, 403, back=request.url.path.rsplit("/", 1)[0] or "/console",
                    lines=[_("The form was not accepted: it did not come from your console session, or the page "
                             "was opened before you last logged in. Nothing was changed; open the page again.")])
    except QoltanbaError as refused:
        back = request.url.path if request.method == "GET" else request.url.path.rsplit("/", 1)[0]
        return page(request, "console/refused.html", staff, STATUS.get(refused.code, 400),
                    lines=refusal(lang, refused), back=back if back != request.url.path else "/console")


def go(path: str) -> RedirectResponse:
    """After a post: to the page that shows its outcome (post/redirect/get)."""
    return RedirectResponse(path, status_code=303)


__all__ = ["FormRefused", "LOGIN_COOKIE", "SignIn", "Staff", "address", "checked_form", "go", "guarded",
           "login_page", "page", "secure", "services", "session_cookie", "signed_in"]
