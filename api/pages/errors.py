"""A refusal a browser gets is a page in its language, never problem+json nor a stack trace.

The API answers every refusal as RFC 9457 problem+json (api/http/problems.py),
also those that come before any page route runs: a body over the upload
limit (413), a rate limit (429), a path that does not exist (404), the
request timeout (504). ``PageErrors`` stands outside the app: when the
request is a browser's (``wants_page``) and the answer is problem+json, it
renders the same status as a page in the visitor's language instead —
the Verify page with the message for ``/verify``, the error page
elsewhere. An API client's answers pass untouched. An exception that
escaped a page is logged and shown as the error page (status 500).
"""

from __future__ import annotations

import json
import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.pages.i18n import Language, language_of
from api.pages.rendering import render, wants_page

log = logging.getLogger("qoltanba.pages")
PROBLEM = b"application/problem+json"


def message(language: Language, code: str, *, retry_after: str | None = None, limit: int | None = None) -> str:
    """What a person is told for a problem ``code`` (the API's codes), in ``language``."""
    _ = language.gettext
    if code == "payload-too-large" and limit:
        return _("The file is too large: a file to verify may be at most {size}.").format(size=language.size(limit))
    if code == "rate-limited":
        seconds = int(retry_after) if retry_after and retry_after.isdigit() else 60
        return _("Too many requests from your address. Please try again in {seconds} seconds.").format(
            seconds=language.number(seconds))
    known = {
        "payload-too-large": _("The file is too large."),
        "not-found": _("There is no such page or document. Check the address, or scan the QR code again."),
        "method-not-allowed": _("This page cannot be used that way. Open it from the service's home page."),
        "unverifiable": _("This file cannot be verified: it is not a signed PDF or a CMS signature, or it cannot "
                          "be read."),
        "invalid-input": _("Choose the signed PDF or CMS file to verify."),
        "timeout": _("The check took too long and was stopped. Please try again later."),
        "unavailable": _("The service cannot answer now. Please try again later."),
        "not-initialised": _("The service is not ready yet. Please try again later."),
    }
    return known.get(code, _("Something went wrong on our side. Nothing was changed; please try again later."))


def error_page(request: Request, status: int, code: str, *, retry_after: str | None = None):  # noqa: ANN201
    language = language_of(request)
    limit = None
    if code == "payload-too-large":
        limit = request.app.state.services.settings.verify_max_bytes
    said = message(language, code, retry_after=retry_after, limit=limit)
    if request.url.path == "/verify":
        response = render(request, "verify.html", status, language, error=said)
    else:
        response = render(request, "error.html", status, language, error=said, status=status)
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


class PageErrors:
    """problem+json to a browser becomes a page (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not wants_page(scope):
            await self.app(scope, receive, send)
            return
        held: dict = {}
        body = bytearray()

        async def watched(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = dict(msg.get("headers", []))
                if headers.get(b"content-type", b"").startswith(PROBLEM):
                    held["start"] = msg
                    held["retry_after"] = headers.get(b"retry-after", b"").decode("latin-1") or None
                    return
            elif msg["type"] == "http.response.body" and "start" in held:
                body.extend(msg.get("body", b""))
                if not msg.get("more_body", False):
                    held["done"] = True
                return
            if msg["type"] == "http.response.start":
                held["sent"] = True
            await send(msg)

        try:
            await self.app(scope, receive, watched)
        except Exception:  # noqa: BLE001 - a page shows no stack trace; the log keeps it
            log.exception("a page failed: %s %s", scope.get("method"), scope.get("path"))
            if held.get("sent"):
                raise
            held.update(start={"status": 500}, done=True)
            body[:] = b'{"code": "internal"}'
        if "start" not in held:
            return
        try:
            code = json.loads(bytes(body)).get("code", "internal")
        except ValueError:
            code = "internal"
        page = error_page(Request(scope), held["start"]["status"], code, retry_after=held.get("retry_after"))
        await page(scope, receive, send)


__all__ = ["PageErrors", "error_page", "message"]
