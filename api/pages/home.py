"""The landing page, the language switch and the pages' assets.

``GET /``: what the service is, the way to Verify, and for staff the way to
the console when a ``/console`` page exists. ``GET /lang/{code}?next=/path``:
remembers the language (a cookie for a year) and goes back to the page the
switch was on; ``next`` must be a path of this site, so the switch is no
open redirect. ``GET /static/{name}``: the CSS and the small script, served
by the application itself (no CDN: the pages work without the internet),
cached for a year under their digest (``asset_url``).
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.pages.i18n import COOKIE, LANGUAGES
from api.pages.rendering import STATIC, PageRoute, limited, render
from ca.errors import NotFound

router = APIRouter(include_in_schema=False, route_class=PageRoute)
_ASSET = re.compile(r"[a-z0-9-]+\.(css|js|svg)")
_TYPES = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml"}
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9/_.~-]*")


@router.get("/", dependencies=[Depends(limited("public"))])
def landing(request: Request):  # noqa: ANN201
    return render(request, "landing.html")


@router.get("/lang/{code}", dependencies=[Depends(limited("public"))])
def switch_language(code: str, request: Request, next: str = "/") -> Response:  # noqa: A002 - the link's word
    if code not in LANGUAGES:
        raise NotFound(f"no language {code!r}")
    back = next if _LOCAL_PATH.fullmatch(next) else "/"
    answer = RedirectResponse(back, status_code=303)
    answer.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, path="/", samesite="lax", httponly=True,
                      secure=request.url.scheme == "https")
    return answer


@router.get("/static/{name}", dependencies=[Depends(limited("public"))])
def asset(name: str) -> Response:
    found = _ASSET.fullmatch(name)
    if found is None or not (STATIC / name).is_file():
        return Response(status_code=404)
    return FileResponse(STATIC / name, media_type=_TYPES[found.group(1)],
                        headers={"Cache-Control": "public, max-age=31536000, immutable",
                                 "X-Content-Type-Options": "nosniff"})


__all__ = ["router"]
