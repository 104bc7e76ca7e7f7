"""Applications to the centres and the registrars' decisions."""

from __future__ import annotations

import base64
import dataclasses
from typing import Literal

from fastapi import APIRouter, Depends, Query

from api.http.deps import require, services
from api.http.openapi import MAX_ID, RowId, problem_responses
from api.http.routes.approvals import pending
from api.http.schemas import ApplicationBody, CentreCode, ApproveBody, RefuseBody
from api.wiring import Services
from ca.access import READ, REGISTRAR, Actor, Role
from ca.applications import ApplicationView, CarrierPasswords
from ca.approvals import DualControlRequired
from ca.errors import InvalidInput, Problem
from ca.revocation import CA_REVOCATION
from ca.revocation_forms import REVOCATION_KINDS

router = APIRouter(tags=["applications"])


def view_json(view: ApplicationView) -> dict:
    data = dataclasses.asdict(view)
    for key in ("submitted_at", "decided_at", "due_date"):
        if data[key] is not None:
            data[key] = data[key].isoformat()
    return data


@router.post("/applications", status_code=201, summary="Submit an application (role: registrar)",
             responses=problem_responses(409))
def submit(body: ApplicationBody, svc: Services = Depends(services),
           who: Actor = Depends(require(REGISTRAR))) -> dict:
    if body.kind in REVOCATION_KINDS:
        if body.csr_pem is not None:
            raise InvalidInput("a revocation application takes no CSR", [Problem("csr_pem", "must be absent")])
        signed = body.signed_document.encode() if body.signed_document is not None else None
        view, revocation = svc.revocation_applications.submit(body.kind, body.form, body.attachments, who.name,
                                                              signed_document=signed)
        return {**view_json(view), "revocation": revocation.as_json() if revocation else None}
    if body.form is None or body.signed_document is not None:
        raise InvalidInput("the application is refused",
                           [Problem("form", "is required")] if body.form is None else
                           [Problem("signed_document", "only revocation applications are taken signed")])
    csr = body.csr_pem.encode() if body.csr_pem is not None else None
    return view_json(svc.applications.submit(body.kind, body.form, body.attachments, csr, who.name))


@router.get("/applications", summary="List applications; overdue=true for those past due (roles: read)")
def list_applications(centre: CentreCode | None = None,
                      status: Literal["submitted", "issued", "refused", "revoked"] | None = None, overdue: bool = False,
                      limit: int = Query(default=100, ge=1, le=1000), offset: int = Query(default=0, ge=0, le=MAX_ID),
                      svc: Services = Depends(services), who: Actor = Depends(require(READ))) -> list[dict]:
    return [view_json(v) for v in svc.applications.list(centre=centre, status=status, overdue=overdue,
                                                        limit=limit, offset=offset)]


@router.get("/applications/{application_id}", summary="One application and its status (roles: read)")
def show(application_id: RowId, svc: Services = Depends(services), who: Actor = Depends(require(READ))) -> dict:
    return view_json(svc.applications.get(application_id))


@router.post("/applications/{application_id}/approve", summary="Approve and issue (role: registrar)",
             responses=problem_responses(409))
def approve(application_id: RowId, body: ApproveBody | None = None, svc: Services = Depends(services),
            who: Actor = Depends(require(REGISTRAR))) -> dict:
    body = body or ApproveBody()
    if svc.applications.get(application_id).kind in REVOCATION_KINDS:
        try:
            view, revocation = svc.revocation_applications.approve(application_id, who.name,
                                                                   administrator=who.role is Role.ADMINISTRATOR)
        except DualControlRequired:
            # A CA's revocation application (issue 8): 202, waiting for a second administrator.
            return pending(svc.dual_control.request(CA_REVOCATION, {"application_id": application_id}, who.name,
                                                    administrator=True))
        return {"application": view_json(view), "revocation": revocation.as_json()}
    approval = svc.applications.approve(application_id, who.name, passwords=CarrierPasswords(body.passwords),
                                        algorithm=body.algorithm)
    certificates = []
    for issued in approval.certificates:
        item = {"serial": issued.serial, "profile": issued.profile, "certificate_pem": issued.pem.decode(),
                "subject": issued.certificate.subject.rfc4514_string()}
        if issued.pkcs12 is not None:
            item["pkcs12_base64"] = base64.b64encode(issued.pkcs12).decode()
            item["carrier_serial"] = issued.carrier_serial
        certificates.append(item)
    return {"application": view_json(approval.application), "certificates": certificates,
            "generated_passwords": approval.generated_passwords.as_json()}


@router.post("/applications/{application_id}/refuse", summary="Refuse with an enumerated reason (role: registrar)",
             responses=problem_responses(409))
def refuse(application_id: RowId, body: RefuseBody, svc: Services = Depends(services),
           who: Actor = Depends(require(REGISTRAR))) -> dict:
    return view_json(svc.applications.refuse(application_id, body.reason, body.detail, who.name))
