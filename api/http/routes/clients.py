"""Clients, their factors and the MFO's webhook, for the MFO backend (issue 5).

All of it is the MFO's (role mfo, its own tenant). The development SMS
outbox is shown here too, in embedded mode only.
"""

from __future__ import annotations

import re
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.http.deps import require, services
from api.http.openapi import problem_responses
from api.http.routes.documents import read_scope, tenant_of
from api.wiring import Services
from ca.access import DOCUMENT_READ, MFO, Actor
from ca.errors import NotFound
from signing import EVERY_TENANT
from signing.factors.enrolment import ClientRegistration, FactorEnrolment

router = APIRouter(tags=["clients"])
Language = Literal["kk", "ru", "en"]
ENROLMENT_TOKEN = re.compile(r"#[A-Za-z0-9_-]{16,}")   # the fragment of the link an enrolment SMS carries
INVITATION_TOKEN = re.compile(r"(/cabinet/register\?t=)[0-9a-f]{32}\.[A-Za-z0-9_-]{16,}")   # issue 16's invitation


class ClientBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["individual", "entrepreneur", "legal_entity"]
    iin: str = Field(min_length=1, max_length=32, description="the person acting: individual, entrepreneur or the "
                                                               "legal entity's representative")
    bin: str | None = Field(default=None, max_length=32, description="a legal entity's (or a joint "
                                                                     "entrepreneurship's) BIN")
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=32, description="+7 7xx …; confirmed by an SMS code (LOAN-7)")
    language: Language = Field(default="kk", description="the language of the SMS the client reads (issue 20)")


class FactorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["sms", "totp", "biometric", "eds"]
    phone: str | None = Field(default=None, max_length=32, description="sms: the new phone (LOAN-9)")
    details_change_request: str | None = Field(default=None, max_length=64,
                                               description="sms, when a phone is confirmed already: the signed "
                                                           "details-change request (LOAN-9)")
    reference: str | None = Field(default=None, max_length=128,
                                  description="biometric: the enrolment's reference at the identity provider")
    provider: str | None = Field(default=None, max_length=64, description="biometric: the identity provider")
    certificate: str | None = Field(default=None, max_length=64 * 1024,
                                    description="eds: the client's certificate, PEM or base64 DER")
    language: Language = Field(default="kk", description="sms and totp: the language of the SMS the client reads "
                                                         "(issue 20)")


class CodeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=16)


class WebhookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2048)


@router.post("/clients", status_code=201, summary="Register a client; an SMS code confirms the phone (role: mfo)",
             responses=problem_responses(409, 429))
def register(body: ClientBody, response: Response, svc: Services = Depends(services),
             who: Actor = Depends(require(MFO))) -> dict:
    view = svc.clients.register(who.name, tenant_of(who, None), ClientRegistration(**body.model_dump()))
    response.headers["Location"] = f"/clients/{view.id}"
    return view.as_json()


@router.get("/clients/{client_id}", summary="A client and the factors enrolled (role: mfo)")
def show(client_id: str, svc: Services = Depends(services), who: Actor = Depends(require(MFO))) -> dict:
    return svc.clients.get(tenant_of(who, None), client_id).as_json()


@router.post("/clients/{client_id}/factors", status_code=201,
             summary="Enrol a factor: totp (pending: the link to enrol it goes to the client's phone; the seed is "
                     "never shown here), biometric (reference), eds (certificate), sms (a new phone, LOAN-9) "
                     "(role: mfo)", responses=problem_responses(409, 429))
def enrol(client_id: str, body: FactorBody, svc: Services = Depends(services),
          who: Actor = Depends(require(MFO))) -> dict:
    return svc.clients.enrol(who.name, tenant_of(who, None), client_id, FactorEnrolment(**body.model_dump())).as_json()


@router.post("/clients/{client_id}/factors/{factor_id}/confirm",
             summary="Confirm a phone by its SMS code (role: mfo); an authenticator is confirmed by the client "
                     "(POST /client/factors/{id}/confirm)",
             responses=problem_responses(409, 423))
def confirm(client_id: str, factor_id: str, body: CodeBody, svc: Services = Depends(services),
            who: Actor = Depends(require(MFO))) -> dict:
    return svc.clients.confirm(who.name, tenant_of(who, None), client_id, factor_id, body.code).as_json()


@router.post("/clients/{client_id}/factors/{factor_id}/resend",
             summary="A new confirmation code for a phone (throttled) (role: mfo)",
             responses=problem_responses(409, 429))
def resend(client_id: str, factor_id: str, svc: Services = Depends(services), who: Actor = Depends(require(MFO)),
           language: Language = Query("kk", description="the language of the SMS (issue 20)")) -> dict:
    return svc.clients.resend(who.name, tenant_of(who, None), client_id, factor_id, language).as_json()


@router.put("/webhook", summary="Set the URL status changes are pushed to; answers a new HMAC secret, once "
                                "(role: mfo)")
async def register_webhook(body: WebhookBody, svc: Services = Depends(services),
                           who: Actor = Depends(require(MFO))) -> dict:
    registration = await run_in_threadpool(svc.webhooks.register, who.name, tenant_of(who, None), body.url)
    return registration.as_json()


@router.get("/webhook", summary="The URL status changes are pushed to (role: mfo)", responses=problem_responses(404))
def show_webhook(svc: Services = Depends(services), who: Actor = Depends(require(MFO))) -> dict:
    registration = svc.webhooks.registration(tenant_of(who, None))
    if registration is None:
        raise NotFound("no webhook is registered for this tenant")
    return registration.as_json()


@router.get("/dev/sms-outbox", summary="Development only: the SMS the outbox kept (roles: mfo, administrator)",
            responses=problem_responses(404))
def sms_outbox(phone: str | None = Query(default=None, pattern=r"^\+7[0-9]{10}$",
                                         description="the number as the outbox keeps it, +7 and ten digits"),
               tenant: str | None = Query(default=None, max_length=64), svc: Services = Depends(services),
               who: Actor = Depends(require(DOCUMENT_READ))) -> list[dict]:
    # Outside embedded mode the route does not exist as far as anyone can tell.
    if not svc.settings.sms_outbox:
        raise NotFound("no such route")
    scope = read_scope(who, tenant)
    # An authenticator's enrolment link is the client's alone (issue 15): an MFO's key does not see its token
    # here either (the centre's administrator, testing the installation, does).
    shown = [m.as_json() for m in svc.sms.messages(tenant=None if scope is EVERY_TENANT else scope, phone=phone)]
    if who.role in MFO:
        shown = [m | {"text": INVITATION_TOKEN.sub(r"\1(the client's invitation token)", ENROLMENT_TOKEN.sub(
            "#(the client's enrolment token)", m["text"]))} for m in shown]
    return shown
