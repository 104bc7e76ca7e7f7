"""The web pages' room: server-rendered pages for people, in Kazakh, Russian and English (issue 20).

Pages are rendered from the services (api/wiring/) like the HTTP API's
routes, but the pages import nothing of the API (import-linter's
independence contract in pyproject.toml); what both need lives below them,
in ca/ and signing/, or in api/settings.py and api/wiring/. The one link
between the rooms is the app factory (api/http/app.py), which mounts
``router`` before the API's routes and wraps the app in ``PageErrors``.

- ``i18n.py``: the languages, how one is chosen, the catalogues (``locale/``),
  Almaty time and the locale's numbers;
- ``rendering.py``: the Jinja2 environments (``templates/``), the assets
  (``static/``), ``NegotiatedRoute`` (a page and an API route on one path),
  the token buckets;
- ``errors.py``: problem+json to a browser becomes a page;
- ``home.py``: ``/``, the language switch, the assets;
- ``verify.py`` and ``cards.py``: the Verify page and its cards;
- ``console/``: the certification centre's console for its staff.
- ``sign.py`` (the borrower's Sign page and its factor steps), ``sign_view.py``
  (what it shows), ``sign_eds.py`` (the EDS: eGov mobile, NCALayer, a CMS
  file), ``sign_done.py`` (the signed copy and the evidence), ``sign_csc.py`` (the CSC API's authorisation
  page, issue 19).
- ``cabinet.py`` (the borrower's personal cabinet, issue 16: registration from the MFO's invitation, login,
  sign-out) and ``cabinet_desk.py`` (my documents, downloads, evidence, the change of phone or bank details).

A new page: a module here with its ``APIRouter(include_in_schema=False)``,
listed in ``router`` below, a template extending ``base.html``, its strings
in the catalogues (``make i18n``). docs/architecture/api.md, "Pages".
"""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import cabinet, cabinet_desk, console, home, sign, sign_csc, sign_done, sign_eds, verify
from api.pages.errors import PageErrors

router = APIRouter(include_in_schema=False)
# The negotiated routes first: they take a browser's request and let an API client's go on to the API.
for module_router in (verify.negotiated, console.negotiated, home.router, verify.router, console.router, sign.router,
                      sign_eds.router, sign_done.router, cabinet.router, cabinet_desk.router,
                      sign_csc.router):
    router.include_router(module_router)

__all__ = ["PageErrors", "router"]
