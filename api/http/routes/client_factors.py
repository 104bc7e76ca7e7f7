"""The client's own channel for factors whose secret is shared (issue 15): an authenticator (TOTP).

No API key: the enrolment token sent to the client's confirmed phone (in
the link's fragment, so no server logs it) goes in ``X-Enrolment-Token``.
The MFO never reaches these answers: it asked for the factor and sees it
pending, then active (signing/factors/own_enrolment.py). Every address
spends from the client API's bucket, as the signing page's routes do.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, ConfigDict, Field

from api.http.deps import services
from api.http.openapi import problem_responses
from api.http.routes.signing_requests import client_context
from api.wiring import Services
from signing.requests.proofs import ClientContext

# 401 the token, 403 a wrong code, 409 not pending (locked after too many wrong codes, or confirmed).
router = APIRouter(prefix="/client/factors", tags=["client"], responses=problem_responses(401, 403, 409))

Token = Header(default=None, alias="X-Enrolment-Token", description="the token in the link sent to the client's phone")


class EnrolmentCode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=16, description="the authenticator's current code")


@router.post("/{factor_id}/secret", summary="The authenticator's seed and otpauth URI, while it waits for its "
                                            "first code (enrolment token)")
def secret(factor_id: str, token: str | None = Token, svc: Services = Depends(services),
           ctx: ClientContext = Depends(client_context)) -> dict:
    return svc.own_enrolment.show(factor_id, token).as_json()


@router.post("/{factor_id}/confirm", summary="Confirm the authenticator with its first code; 5 wrong codes lock "
                                             "the enrolment (enrolment token)")
def confirm(factor_id: str, body: EnrolmentCode, token: str | None = Token, svc: Services = Depends(services),
            ctx: ClientContext = Depends(client_context)) -> dict:
    return svc.own_enrolment.confirm(factor_id, token, body.code).as_json()
