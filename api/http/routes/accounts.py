"""The borrower's own account (issue 16): the MFO's invitation and look-up, and the borrower's API.

The MFO backend (role mfo, its own tenant): ``POST /clients/{id}/account``
invites a registered client (the link goes to the client's phone, never to
the MFO) and ``GET /clients/{id}/account`` shows the account's status, the
phone masked, no bank details.

The borrower (no API key): registration with the invitation token
(``X-Invitation-Token``), the factors given one at a time; login answers a
session token, sent back as ``Authorization: Bearer`` on every other call;
documents, signed copies and evidence are the borrower's own (another
borrower's or tenant's answer 404); a change of phone or bank details
(LOAN-9) is opened and then proven with biometrics and EDS. Every call
spends from the client API's bucket; the login from the login bucket.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.http.deps import require, services
from api.http.openapi import problem_responses
from api.http.rate_limit import limited
from api.http.routes.documents import tenant_of
from api.http.routes.signing_requests import client_context
from api.wiring import Services
from ca.access import MFO, Actor
from signing.accounts import Borrower, DetailsChange, Invitation, Proof
from signing.requests.proofs import ClientContext

router = APIRouter(tags=["borrower accounts"])
borrower_router = APIRouter(prefix="/borrower", tags=["borrower"], responses=problem_responses(401, 403, 409, 429))
Invite = Header(default=None, alias="X-Invitation-Token", description="the token in the invitation link sent to "
                                                                      "the client's phone")
ID = r"^[0-9a-f]{32}$"


class InvitationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Literal["kk", "ru", "en"] = Field(default="kk", description="the language of the SMS texts")


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=10, max_length=128, pattern=r"^\S(.*\S)?$",
                          description="10 to 128 characters, not the IIN; argon2id at rest")


class ProofBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    factor: Literal["sms", "biometric", "eds"]
    code: str | None = Field(default=None, min_length=1, max_length=16, description="sms: the code sent")
    assertion: str | None = Field(default=None, min_length=1, max_length=8192,
                                  description="biometric: the identity provider's signed assertion")
    cms: str | None = Field(default=None, min_length=1, max_length=96 * 1024,
                            description="eds: base64 of a detached CMS over data_to_sign, by an enrolled EDS")


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant: str = Field(min_length=1, max_length=64, description="the MFO's code")
    iin: str = Field(pattern=r"^[0-9]{12}$", description="the borrower's IIN (check digit checked)")
    password: str = Field(min_length=1, max_length=128)
    code: str | None = Field(default=None, pattern=r"^[0-9]{6}$",
                             description="the authenticator's code, once the borrower enrolled one")


class CodeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[0-9]{6}$")


class ChangeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str | None = Field(default=None, min_length=1, max_length=32, description="the new phone, +7 7xx …")
    bank_account: str | None = Field(default=None, min_length=1, max_length=34, description="the new IBAN (KZ…)")
    bank_bic: str | None = Field(default=None, min_length=1, max_length=11, description="its bank's BIC")
    bank_name: str | None = Field(default=None, min_length=1, max_length=200, description="its bank's name")


def borrower(authorization: str | None = Header(default=None, include_in_schema=False),
             svc: Services = Depends(services), ctx: ClientContext = Depends(client_context)) -> Borrower:
    """The borrower of the session token (``Authorization: Bearer``), else 401."""
    token = authorization[7:].strip() if authorization and authorization.lower().startswith("bearer ") else None
    return svc.cabinet_sessions.authenticate(token)


# -- the MFO's -------------------------------------------------------------------------------------


@router.post("/clients/{client_id}/account", status_code=201, responses=problem_responses(404, 409, 429),
             summary="Invite a client to their personal cabinet: the link goes by SMS to the client's phone "
                     "(role: mfo)")
def invite(client_id: str, body: InvitationBody | None = None, svc: Services = Depends(services),
           who: Actor = Depends(require(MFO))) -> dict:
    return svc.borrower_accounts.invite(who.name, tenant_of(who, None), client_id,
                                        Invitation(**(body.model_dump() if body else {}))).as_json()


@router.get("/clients/{client_id}/account", responses=problem_responses(404),
            summary="A client's account: status, phone masked, whether an authenticator is enrolled (role: mfo)")
def account(client_id: str, svc: Services = Depends(services), who: Actor = Depends(require(MFO))) -> dict:
    return svc.borrower_accounts.of_client(tenant_of(who, None), client_id).as_json()


# -- registration (the invitation token) ----------------------------------------------------------------


@borrower_router.get("/registration", summary="The invited account and the registration under way (invitation "
                                              "token)")
def registration(token: str | None = Invite, svc: Services = Depends(services),
                 ctx: ClientContext = Depends(client_context)) -> dict:
    view = svc.borrower_accounts.registration(token)
    return {"account": svc.borrower_accounts.holder(token).as_json(), "registration": view.as_json() if view else None}


@borrower_router.post("/registration", status_code=201,
                      summary="Choose the password and start registration (LOAN-7): the SMS code goes to the phone; "
                              "biometrics and EDS follow (an individual entrepreneur: no EDS)")
def start_registration(body: PasswordBody, token: str | None = Invite, svc: Services = Depends(services),
                       ctx: ClientContext = Depends(client_context)) -> dict:
    return svc.borrower_accounts.start_registration(token, body.password).as_json()


@borrower_router.post("/registration/proofs", summary="Give one factor of the registration (invitation token)")
def prove_registration(body: ProofBody, token: str | None = Invite, svc: Services = Depends(services),
                       ctx: ClientContext = Depends(client_context)) -> dict:
    return svc.borrower_accounts.prove_registration(token, Proof(**body.model_dump())).as_json()


# -- sessions (LOAN-8) ---------------------------------------------------------------------------------------


@borrower_router.post("/sessions", status_code=201, dependencies=[Depends(limited("login"))],
                      summary="Log in (LOAN-8): the password, and the authenticator's code once enrolled; 5 failures "
                              "lock the account for 15 minutes")
def login(body: LoginBody, svc: Services = Depends(services)) -> dict:
    return svc.cabinet_sessions.login(body.tenant, body.iin, body.password, body.code).as_json()


@borrower_router.post("/sessions/end", status_code=204, summary="Log out")
def logout(authorization: str | None = Header(default=None, include_in_schema=False),
           svc: Services = Depends(services), ctx: ClientContext = Depends(client_context)) -> Response:
    token = authorization[7:].strip() if authorization and authorization.lower().startswith("bearer ") else None
    svc.cabinet_sessions.logout(token)
    return Response(status_code=204)


@borrower_router.get("/me", summary="The borrower's account: name, IIN, phone, bank details")
def me(who: Borrower = Depends(borrower), svc: Services = Depends(services)) -> dict:
    return svc.cabinet_sessions.me(who).as_json()


@borrower_router.post("/totp", summary="Enrol an authenticator: its seed, shown to the borrower only")
def begin_totp(who: Borrower = Depends(borrower), svc: Services = Depends(services)) -> dict:
    return svc.cabinet_sessions.begin_totp(who).as_json()


@borrower_router.post("/totp/confirm", summary="Confirm the authenticator with its first code")
def confirm_totp(body: CodeBody, who: Borrower = Depends(borrower), svc: Services = Depends(services)) -> dict:
    return svc.cabinet_sessions.confirm_totp(who, body.code).as_json()


# -- what the borrower sees -------------------------------------------------------------------------------------


@borrower_router.get("/documents", summary="The borrower's documents and signing requests")
def desk(who: Borrower = Depends(borrower), svc: Services = Depends(services)) -> dict:
    return svc.borrower_cabinet.desk(who).as_json()


@borrower_router.get("/documents/{document_id}/pdf", responses={200: {"content": {"application/pdf": {}}}},
                     summary="A document's latest version: the signed copy once signed")
def pdf(document_id: str, who: Borrower = Depends(borrower), svc: Services = Depends(services)) -> Response:
    stored = svc.borrower_cabinet.pdf(who, document_id)
    return Response(stored.content, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{stored.document_id}-v{stored.number}.pdf"'})


@borrower_router.get("/signing-requests/{request_id}/evidence",
                     summary="The evidence of a signature the borrower made (the record; the sealed report)")
async def evidence(request_id: str, who: Borrower = Depends(borrower), svc: Services = Depends(services)) -> dict:
    import base64

    view = await run_in_threadpool(svc.borrower_cabinet.evidence, who, request_id)
    return {"id": view.id, "request": view.request, "record": view.record,
            "report": base64.b64encode(view.report).decode() if view.report else None,
            "signature": base64.b64encode(view.signature).decode() if view.signature else None}


# -- LOAN-9: a change of phone or bank details ---------------------------------------------------------------


@borrower_router.post("/changes", status_code=201,
                      summary="Start a change of phone and/or bank details (LOAN-9): biometrics and EDS follow; a new "
                              "phone gets a code")
def start_change(body: ChangeBody, who: Borrower = Depends(borrower), svc: Services = Depends(services)) -> dict:
    return svc.borrower_accounts.start_change(who, DetailsChange(**body.model_dump())).as_json()


@borrower_router.get("/changes/{change_id}", summary="A change and the factors it still needs")
def show_change(change_id: str, who: Borrower = Depends(borrower), svc: Services = Depends(services)) -> dict:
    return svc.borrower_accounts.change(who, change_id).as_json()


@borrower_router.post("/changes/{change_id}/proofs",
                      summary="Give one factor of a change; the last one puts it in force and tells the old phone")
async def prove_change(change_id: str, body: ProofBody, who: Borrower = Depends(borrower),
                       svc: Services = Depends(services)) -> dict:
    return (await run_in_threadpool(svc.borrower_accounts.prove_change, who, change_id,
                                    Proof(**body.model_dump()))).as_json()
