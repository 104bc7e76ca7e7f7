"""FastAPI dependencies: the services and the authenticated actor."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Header, Request

from api.access import AccessService, Actor, Role
from api.context import Services


def services(request: Request) -> Services:
    return request.app.state.services


def access(request: Request) -> AccessService:
    return request.app.state.access


def actor(x_api_key: str | None = Header(default=None), authorization: str | None = Header(default=None),
          access_service: AccessService = Depends(access)) -> Actor:
    presented = x_api_key
    if presented is None and authorization and authorization.lower().startswith("bearer "):
        presented = authorization[7:].strip()
    return access_service.authenticate(presented)


def require(allowed: frozenset[Role]) -> Callable[..., Actor]:
    """A dependency that authenticates and checks the role; routes state theirs."""

    def check(who: Actor = Depends(actor)) -> Actor:
        AccessService.require(who, allowed)
        return who

    check.__doc__ = "needs role: " + ", ".join(sorted(r.value for r in allowed))
    return check
