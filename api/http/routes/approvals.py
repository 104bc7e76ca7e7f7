"""Dual control over HTTP (issue 8): ask, list, approve, reject.

An administrator asks (``POST /approvals``, or the action's own route, which
answers 202 with the pending request); a second, different administrator
approves, and only then the action runs, once. Auditors and registrars may
read the requests; only administrators ask and decide.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import Field

from api.http.deps import require, services
from api.http.schemas import StrictBody
from api.wiring import Services
from ca.access import ADMINISTRATOR, READ, Actor, Role
from ca.approvals import STATUSES, ApprovalView

router = APIRouter(tags=["dual control"])


class ApprovalRequestBody(StrictBody):
    action: str = Field(min_length=1, max_length=64, description="ca-certificate.revoke, centre.stop, "
                                                                 "ca-key.create, ca-key.retire or "
                                                                 "signing-policy.change")
    params: dict[str, Any] = Field(default_factory=dict)


class RejectBody(StrictBody):
    note: str | None = Field(default=None, max_length=2000)


def pending(view: ApprovalView) -> JSONResponse:
    """202: recorded, waiting for a second administrator."""
    return JSONResponse(view.as_json(), status_code=202)


@router.post("/approvals", status_code=202, summary="Ask for a dual-controlled action (role: administrator)")
def ask(body: ApprovalRequestBody, svc: Services = Depends(services),
        who: Actor = Depends(require(ADMINISTRATOR))) -> dict:
    return svc.dual_control.request(body.action, body.params, who.name,
                                    administrator=who.role is Role.ADMINISTRATOR).as_json()


@router.get("/approvals", summary="Dual-control requests, newest first (roles: read)")
def listing(status: Literal[STATUSES] | None = None, limit: int = 100,  # type: ignore[valid-type]
            svc: Services = Depends(services), who: Actor = Depends(require(READ))) -> list[dict]:
    return [v.as_json() for v in svc.dual_control.list(status, limit=max(1, min(limit, 1000)))]


@router.get("/approvals/{approval_id}", summary="One dual-control request (roles: read)")
def show(approval_id: str, svc: Services = Depends(services), who: Actor = Depends(require(READ))) -> dict:
    return svc.dual_control.get(approval_id).as_json()


@router.post("/approvals/{approval_id}/approve",
             summary="Approve as the second administrator: the action runs now, once (role: administrator)")
def approve(approval_id: str, svc: Services = Depends(services),
            who: Actor = Depends(require(ADMINISTRATOR))) -> dict:
    return svc.dual_control.approve(approval_id, who.name, administrator=who.role is Role.ADMINISTRATOR).as_json()


@router.post("/approvals/{approval_id}/reject",
             summary="Reject (or, the requester, withdraw): nothing is done (role: administrator)")
def reject(approval_id: str, body: RejectBody | None = None, svc: Services = Depends(services),
           who: Actor = Depends(require(ADMINISTRATOR))) -> dict:
    return svc.dual_control.reject(approval_id, who.name, (body or RejectBody()).note,
                                   administrator=who.role is Role.ADMINISTRATOR).as_json()


@router.get("/signing-policy", summary="The signing policy in force and its fingerprint (roles: read)")
def signing_policy(svc: Services = Depends(services), who: Actor = Depends(require(READ))) -> dict:
    policies = svc.signing_policies
    return {"fingerprint": policies.fingerprint, "policy": policies.as_json()}
