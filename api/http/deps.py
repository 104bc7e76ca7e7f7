"""FastAPI dependencies: the services and the authenticated actor.

Those that only read the request or the app's state are ``async def``: FastAPI runs a plain ``def``
dependency in its thread pool, a thread hop per dependency per request (issue 17 item 3: py-spy showed the
hops among the largest costs of a worker under issuance load). ``actor`` looks the key up in the registry, so it
stays a plain ``def``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from fastapi import Cookie, Depends, Header, Request

from api.http.rate_limit import client_address
from api.wiring import Services
from ca.access import AccessService, Actor, Role, Unauthenticated
from ca.errors import InvalidInput, Problem
from ca.people import SESSION_COOKIE, PeopleService


async def single_query_values(request: Request) -> None:
    """A declared query parameter given twice is refused, not read as whichever value came last.

    Every query parameter of the API is one value; ``?tenant=a&tenant=b``
    or ``?phone=…&phone=…`` is ambiguous (a proxy or a log may read the first
    where the handler reads the last), so it is a field problem. Found by
    schemathesis' negative_data_rejection (issue 18). Undeclared parameters
    are ignored, as ever.
    """
    if not request.url.query:
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    declared = _query_names(dependant)
    counts = Counter(name for name, _value in request.query_params.multi_items() if name in declared)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        raise InvalidInput("the request has invalid fields",
                           [Problem(f"query.{name}", "given more than once; give one value") for name in repeated])


def _query_names(dependant) -> set[str]:  # noqa: ANN001 - fastapi.dependencies.models.Dependant
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def services(request: Request) -> Services:
    return request.app.state.services


async def access(request: Request) -> AccessService:
    return request.app.state.access


# The document states these as security requirements (api/http/openapi.py), not as parameters.
async def presented_credential(x_api_key: str | None = Header(default=None, include_in_schema=False),
                         authorization: str | None = Header(default=None, include_in_schema=False),
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
    # rejected one is counted per source, summarised in the audit log later (ca/auth_failures.py, issue 18).
    source = client_address(request)
    try:
        # A console session (ca/people.py) acts with its person's role on the same routes as an API key.
        if PeopleService.is_session_token(presented):
            svc.auth_failures.admit(source)
            return svc.people.authenticate(presented)
        # An API key: the source's bucket is read in the unit of work that looks the key up, before it.
        return access_service.authenticate(presented, admit=lambda tx: svc.auth_failures.admit(source, tx))
    except Unauthenticated as refused:
        if refused.kind is not None:
            svc.auth_failures.rejected(source, refused.kind)
        raise


def require(allowed: frozenset[Role]) -> Callable[..., Actor]:
    """A dependency that authenticates and checks the role; routes state theirs."""

    async def check(who: Actor = Depends(actor)) -> Actor:
        AccessService.require(who, allowed)
        return who

    check.__doc__ = "needs role: " + ", ".join(sorted(r.value for r in allowed))
    return check
