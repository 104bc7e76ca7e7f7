"""Tenants (issue 15): an MFO's onboarding, seal, policy and suspension (administrator), and its forms.

An administrator creates, reads, suspends and resumes every tenant. An mfo
key reads its own tenant and registers and reads its own forms; another
tenant answers 404, the same as a code that never existed (nothing tells
one MFO that another exists). An mfo key asking an administrator's action
of its own tenant gets 403.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.http.deps import require, services
from api.http.openapi import problem_responses
from api.wiring import Services
from ca.access import ADMINISTRATOR, Actor, Forbidden, Role
from ca.errors import InvalidInput, NotFound, Problem
from signing.tenants import NewForm, NewTenant, SealOrder

router = APIRouter(tags=["tenants"])

TENANT_READ = frozenset({Role.ADMINISTRATOR, Role.AUDITOR, Role.MFO})
FORM_KINDS = Literal["contract", "amendment", "application", "consent", "schedule", "details_change"]
Code = Annotated[str, Path(min_length=1, max_length=64, description="the tenant's code")]


class SealBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    certificate: str | None = Field(default=None, max_length=64 * 1024, description=(
        "an imported seal: the accredited centre's legal-entity certificate (PEM or base64 DER) naming the "
        "tenant's BIN; omitted with key_handle: our national CA issues the seal"))
    key_handle: str | None = Field(default=None, min_length=1, max_length=200,
                                   description="an imported seal: its key's handle in the configured backend (HSM)")


class TenantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, description="the MFO's legal name")
    bin: str = Field(min_length=1, max_length=32, description="the MFO's BIN (checksum checked)")
    code: str | None = Field(default=None, max_length=64, description="what keys, documents and the webhook "
                                                                      "name; the BIN when omitted")
    short_name: str | None = Field(default=None, max_length=200, description="the name on the seal, at most 64 "
                                                                             "characters (NAT-2); the name when "
                                                                             "omitted")
    seal: SealBody = Field(default_factory=SealBody)
    policy: dict[str, Any] | None = Field(default=None, description="the tenant's own signing policy (the signing "
                                                                    "policy file's JSON), on or above DOMAIN.md's "
                                                                    "floor; omitted: the installation's")


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, min_length=1, max_length=500, pattern=r"\S",
                               description="why, in words; not blank")


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: dict[str, Any] | None = Field(description="the tenant's own signing policy; null: the installation's")


class FormBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: FORM_KINDS
    version: str = Field(min_length=1, max_length=32)
    pdf: str | None = Field(default=None, max_length=30 * 1024 * 1024, description="the form's PDF, base64")
    sha256: str | None = Field(default=None, max_length=64, description="or its SHA-256 (hex)")
    consent_date: dt.date | None = Field(default=None, description="the regulator's consent to this version "
                                                                   "(a contract form: seed 002)")
    no_consent_reason: Literal["change-of-law", "change-of-requisites"] | None = Field(
        default=None, description="a later contract form version needing no new consent, and why")
    note: str | None = Field(default=None, max_length=500)


def visible(who: Actor, tenant: str) -> str:
    """The tenant this actor may see: any for staff, its own for an mfo key (another's is not found)."""
    if who.role is Role.MFO and who.tenant != tenant:
        raise NotFound(f"no tenant {tenant}")
    return tenant


def administrator(who: Actor, tenant: str) -> str:
    visible(who, tenant)
    if who.role is not Role.ADMINISTRATOR:
        raise Forbidden(f"role {who.role.value} may not do this; needs: administrator")
    return tenant


def seal_order(body: SealBody) -> SealOrder:
    return SealOrder(certificate=body.certificate.encode() if body.certificate is not None else None,
                     key_handle=body.key_handle)


@router.post("/tenants", status_code=201, responses=problem_responses(409),
             summary="Create a tenant (an MFO) with its seal (role: administrator)")
def create(body: TenantBody, svc: Services = Depends(services),
           who: Actor = Depends(require(ADMINISTRATOR))) -> dict:
    command = NewTenant(name=body.name, bin=body.bin, code=body.code, short_name=body.short_name,
                        seal=seal_order(body.seal), policy=body.policy)
    return svc.tenants.create(who.name, command).as_json()


@router.get("/tenants", summary="Every tenant (roles: administrator, auditor)")
def list_tenants(svc: Services = Depends(services),
                 who: Actor = Depends(require(frozenset({Role.ADMINISTRATOR, Role.AUDITOR})))) -> list[dict]:
    return [t.as_json() for t in svc.tenants.list()]


@router.get("/tenants/{tenant}", summary="A tenant: BIN, name, seal, policy, webhook, API keys (roles: "
                                         "administrator, auditor; mfo: its own)")
def show(tenant: Code, svc: Services = Depends(services),
         who: Actor = Depends(require(TENANT_READ))) -> dict:
    return svc.tenants.get(visible(who, tenant)).as_json()


@router.post("/tenants/{tenant}/suspend", responses=problem_responses(409),
             summary="Suspend a tenant: it signs and uploads nothing from now on (role: administrator)")
def suspend(tenant: Code, body: ReasonBody | None = None, svc: Services = Depends(services),
            who: Actor = Depends(require(TENANT_READ))) -> dict:
    return svc.tenants.suspend(who.name, administrator(who, tenant), body.reason if body else None).as_json()


@router.post("/tenants/{tenant}/resume", responses=problem_responses(409),
             summary="Resume a suspended tenant (role: administrator)")
def resume(tenant: Code, body: ReasonBody | None = None, svc: Services = Depends(services),
           who: Actor = Depends(require(TENANT_READ))) -> dict:
    return svc.tenants.resume(who.name, administrator(who, tenant), body.reason if body else None).as_json()


@router.post("/tenants/{tenant}/seal", responses=problem_responses(409),
             summary="Give the tenant a new seal: issued by our national CA, or imported (role: administrator)")
async def replace_seal(tenant: Code, body: SealBody, svc: Services = Depends(services),
                       who: Actor = Depends(require(TENANT_READ))) -> dict:
    code = administrator(who, tenant)
    view = await run_in_threadpool(svc.tenants.replace_seal, who.name, code, seal_order(body))
    return view.as_json()


@router.put("/tenants/{tenant}/policy", summary="Set the tenant's own signing policy, on or above the floor "
                                                "(role: administrator)")
def set_policy(tenant: Code, body: PolicyBody, svc: Services = Depends(services),
               who: Actor = Depends(require(TENANT_READ))) -> dict:
    return svc.tenants.set_policy(who.name, administrator(who, tenant), body.policy).as_json()


@router.post("/tenants/{tenant}/forms", status_code=201, responses=problem_responses(409),
             summary="Register a version of one of the tenant's standard forms (roles: mfo, its own; "
                     "administrator)")
def register_form(tenant: Code, body: FormBody, svc: Services = Depends(services),
                  who: Actor = Depends(require(frozenset({Role.ADMINISTRATOR, Role.MFO})))) -> dict:
    code = _own_tenant(svc, who, tenant)   # another tenant's answers 404 whatever the body
    pdf = None
    if body.pdf is not None:
        try:
            pdf = base64.b64decode(body.pdf, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("the form is refused", [Problem("pdf", "is not valid base64")]) from None
    form = NewForm(kind=body.kind, version=body.version, pdf=pdf, sha256=body.sha256,
                   consent_date=body.consent_date, no_consent_reason=body.no_consent_reason, note=body.note)
    return svc.contract_forms.register(who.name, code, form).as_json()


@router.get("/tenants/{tenant}/forms", summary="The tenant's registered forms (roles: administrator, auditor; "
                                               "mfo: its own)")
def list_forms(tenant: Code, kind: FORM_KINDS | None = Query(default=None),
               svc: Services = Depends(services), who: Actor = Depends(require(TENANT_READ))) -> list[dict]:
    return [f.as_json() for f in svc.contract_forms.list(_own_tenant(svc, who, tenant), kind)]


@router.get("/tenants/{tenant}/forms/{form_id}", summary="One registered form version (roles: administrator, "
                                                         "auditor; mfo: its own)")
def show_form(tenant: Code, form_id: str, svc: Services = Depends(services),
              who: Actor = Depends(require(TENANT_READ))) -> dict:
    return svc.contract_forms.get(_own_tenant(svc, who, tenant), form_id).as_json()


def _own_tenant(svc: Services, who: Actor, tenant: str) -> str:
    """A tenant that exists and the actor may see (an unknown one is not found either way)."""
    svc.tenants.get(visible(who, tenant))
    return tenant
