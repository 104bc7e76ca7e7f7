"""Templates, assets and the rules every page route follows.

- ``render``: a Jinja2 template in the request's language (one environment
  per language, with that catalogue installed: ``{{ _("…") }}`` and
  ``{% trans %}`` are gettext), autoescaped, never cached by the browser.
- ``asset_url``: an asset's URL with its content's digest, so the files
  (``static/``) are cached for a year and a changed file is fetched anew.
- ``NegotiatedRoute``: a route that answers only a browser's request
  (Accept prefers text/html), so a page and an API route can share a path
  (``POST /verify``, ``GET /verify/{id}``): an API client's request falls
  through to the API's route as before.
- ``limited``: the same token buckets as the API's public routes
  (``app.state.<bucket>_limiter``, made from the same settings), so a page
  and its API route spend from one bucket per address.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import Match, NoMatchFound
from starlette.types import Scope

from api.pages.i18n import LANGUAGES, NAMES, Language, language_of, translations
from ca.rate_limit import RateLimiter

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
# The bucket -> (rate a minute, burst) settings; the API's table (api/http/rate_limit.py) names the same fields.
BUCKETS = {"verify": ("verify_rate_per_minute", "verify_burst"),
           "public": ("public_rate_per_minute", "public_burst"),
           "login": ("login_rate_per_minute", "login_burst")}
# What a page may load: only this origin's files; no inline script; the JSON download is a data: link.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def file_response(content: bytes, media_type: str, filename: str, *, inline: bool = False) -> Response:
    """A file a page offers (a PDF, the evidence, the data to sign): never cached, never sniffed."""
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{filename}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def wants_page(scope: Scope) -> bool:
    """A browser asking for a page: Accept names text/html, and not after application/json."""
    accept = next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"accept"), "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


class PageRoute(APIRoute):
    """A page's route. ``browser_only``: the API's 405 answers leave it out of their Allow header
    (api/http/problems.py), since an API client is not served by it."""

    browser_only = True


class NegotiatedRoute(PageRoute):
    """A page route that lets every request that is not a browser's through to the next route of its path."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE and not wants_page(scope):
            return Match.NONE, {}
        return match, child


@functools.cache
def _digest(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def asset_url(name: str) -> str:
    return f"/static/{name}?v={_digest(name)}"


@functools.cache
def environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             extensions=["jinja2.ext.i18n"], undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(asset_url=asset_url, languages=[(code, NAMES[code]) for code in LANGUAGES])
    return env


def render(request: Request, template: str, status_code: int = 200, language: Language | None = None,
           **context: Any) -> HTMLResponse:
    language = language or language_of(request)
    context = {"error": None, "result": None, **context}
    here = context.pop("here", None) or _here(request)   # a form's answer may name its GET page
    page = environment(language.code).get_template(template).render(
        request=request, lang=language, here=here, console=_has_console(request), **context)
    return HTMLResponse(page, status_code=status_code, headers=SECURITY_HEADERS)


def _has_console(request: Request) -> bool:
    """Whether the application serves the console's page (asked by the route's name: FastAPI keeps an included
    router's routes behind the router, so a walk of ``app.router.routes`` no longer sees their paths)."""
    known = getattr(request.app.state, "has_console", None)
    if known is None:
        try:
            request.app.url_path_for("console_home")
            known = True
        except NoMatchFound:
            known = False
        request.app.state.has_console = known
    return known


def _here(request: Request) -> str:
    """Where the language switch comes back to: this page's path (a form's answer: its GET page)."""
    return request.url.path


def limited(bucket: str):  # noqa: ANN201 - a FastAPI dependency
    """A dependency spending one token of the caller's address from the API's ``bucket``."""

    def take(request: Request) -> None:
        state = request.app.state
        found = getattr(state, f"{bucket}_limiter", None)
        if found is None:
            settings = state.services.settings
            rate, burst = (getattr(settings, field) for field in BUCKETS[bucket])
            found = RateLimiter(rate / 60, burst, shared=state.services.rate_buckets, name=bucket)
            setattr(state, f"{bucket}_limiter", found)
        found.check(request.client.host if request.client else "unknown")

    # The route-table walk (tests/integration/test_limits.py) finds the limit by this mark, as the API's.
    take.rate_limit_bucket = bucket  # type: ignore[attr-defined]
    take.__name__ = f"rate_limit_{bucket}"
    return take


__all__ = ["NegotiatedRoute", "PageRoute", "SECURITY_HEADERS", "asset_url", "environment", "limited", "render", "wants_page"]
