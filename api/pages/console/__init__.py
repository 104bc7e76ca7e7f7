"""The console (issue 20): the certification centre's staff at work, at ``/console``.

- ``session.py``: signing in (password and TOTP, ca/people.py), the session
  cookie, the forms' CSRF tokens, timeouts, ``guarded`` (the role check and
  the refusals every console page shares);
- ``login.py``: ``/console``, the login and logout pages;
- ``applications.py``: the applications queue, approve or refuse;
- ``certificates.py``: search by IIN, BIN, serial or name; revoke;
- ``approvals.py``: the dual-control queue;
- ``oversight.py``: CRL and OCSP status, the journals and their CSV, the audit log;
- ``words.py``: the words for the services' codes, in the page's language.

Templates in ``templates/console/``; docs/architecture/api.md, "Pages", "The console".
"""

from __future__ import annotations

from fastapi import APIRouter

from api.pages.console import applications, approvals, certificates, login, oversight

# A browser's GET of and form post to /console/login; an API client's goes on to the API's route (405 for a GET).
negotiated = login.negotiated
router = APIRouter(include_in_schema=False)
for module in (login, applications, certificates, approvals, oversight):
    router.include_router(module.router)

__all__ = ["negotiated", "router"]
