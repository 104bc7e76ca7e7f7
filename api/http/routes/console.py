"""Console logins of the centre's people (issue 8): log in, who am I, log out.

The session token goes into an HttpOnly, Secure, SameSite=Strict cookie, so
scripts in a page cannot read it and other sites cannot make the browser
send it; a script client may ask for it in the body instead and send it as
``Authorization: Bearer``. Either way it authenticates the same routes as an
API key, with the person's role (api/http/deps.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from api.http.deps import actor, presented_credential, services
from api.http.openapi import problem_responses
from api.http.rate_limit import client_address, limited
from api.http.schemas import StrictBody
from api.wiring import Services
from ca.access import Actor
from ca.access import Unauthenticated
from ca.people import SESSION_COOKIE, PeopleService

router = APIRouter(tags=["console"])


class LoginBody(StrictBody):
    name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=1, max_length=1024)
    code: str = Field(pattern=r"^[0-9]{6}$", description="the authenticator's current TOTP code")
    token_in_body: bool = Field(default=False, description="also return the session token in the answer "
                                                           "(script clients); browsers use the cookie")


@router.post("/console/login", summary="Log in with name, password and TOTP code (public, rate-limited; sets "
                                       "the session cookie)", dependencies=[Depends(limited("login"))],
             responses=problem_responses(401))
def login(body: LoginBody, request: Request, response: Response, svc: Services = Depends(services)) -> dict:
    address = request.client.host if request.client else None
    try:
        session = svc.people.login(body.name, body.password, body.code, address)
    except Unauthenticated as refused:
        if refused.kind is not None:   # an unknown name: counted per source, summarised (issue 18)
            svc.auth_failures.count(client_address(request), refused.kind)
        raise
    max_age = int(svc.people.policy.absolute.total_seconds())
    response.set_cookie(SESSION_COOKIE, session.token, max_age=max_age, httponly=True, secure=True,
                        samesite="strict", path="/")
    answer = {"name": session.actor.name, "role": session.actor.role.value,
              "expires_at": session.expires_at.isoformat(),
              "idle_minutes": svc.people.policy.idle.total_seconds() / 60}
    if body.token_in_body:
        answer["token"] = session.token
    return answer


@router.get("/console/me", summary="Who the credential belongs to (any role)")
def me(who: Actor = Depends(actor)) -> dict:
    return {"name": who.name, "role": who.role.value, "tenant": who.tenant}


@router.post("/console/logout", status_code=204, response_class=Response,
             summary="End this console session (a session's own credential)")
def logout(presented: str | None = Depends(presented_credential), svc: Services = Depends(services),
           who: Actor = Depends(actor)) -> Response:
    if not PeopleService.is_session_token(presented):
        raise Unauthenticated("logout ends a console session; this credential is an API key")
    svc.people.logout(presented, who)  # type: ignore[arg-type]
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response
