"""FastAPI dependencies: the services and the authenticated actor."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Cookie, Depends, Header, Request

from api.access import AccessService, Actor, Role, Unauthenticated
from api.context import Services
from api.people import SESSION_COOKIE, PeopleService
from api.rate_limit import client_address


def services(request: Request) -> Services:
    return request.app.state.services


def access(request: Request) -> AccessService:
    return request.app.state.access


def presented_credential(x_api_key: str | None = Header(default=None),
                         authorization: str | None = Header(default=None),
                         session_cookie: str | None = Cookie(default=None, alias=SESSION_COOKIE,
                                                             include_in_schema=False)) -> str | None:
    """An API key or a console session token: X-API-Key, then Authorization: Bearer, then the cookie."""
    presented = x_api_key
    if presented is None and authorization and authorization.lower().startswith("bearer "):
        presented = authorization[7:].strip()
    return presented if presented is not None else session_cookie


def actor(request: Request, presented: str | None = Depends(presented_credential),
          access_service: AccessService = Depends(access), svc: Services = Depends(services)) -> Actor:
    if not presented:
        return access_service.authenticate(presented)   # 401; nothing looked up, nothing counted
    # A presented credential is looked up only while its source is within its bucket of rejected ones, and a
    # rejected one is counted per source, summarised in the audit log later (api/auth_failures.py, issue 18).
    source = client_address(request)
    svc.auth_failures.admit(source)
    try:
        # A console session (api/people.py) acts with its person's role on the same routes as an API key.
        if PeopleService.is_session_token(presented):
            return svc.people.authenticate(presented)
        return access_service.authenticate(presented)
    except Unauthenticated as refused:
        if refused.kind is not None:
            svc.auth_failures.rejected(source, refused.kind)
        raise


def require(allowed: frozenset[Role]) -> Callable[..., Actor]:
    """A dependency that authenticates and checks the role; routes state theirs."""

    def check(who: Actor = Depends(actor)) -> Actor:
        AccessService.require(who, allowed)
        return who

    check.__doc__ = "needs role: " + ", ".join(sorted(r.value for r in allowed))
    return check
