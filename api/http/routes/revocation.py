"""Revoking certificates, stopping a centre, the revocation journal, retention."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Response

from api.http.deps import require, services
from api.http.openapi import problem_responses
from api.http.rate_limit import limited
from api.http.routes.approvals import pending
from api.http.schemas import RevokeBody
from api.wiring import Services
from ca.access import ADMINISTRATOR, READ, REGISTRAR, Actor, Role
from ca.approvals import DualControlRequired
from ca.dual_control import revocation_params
from ca.grounds import GROUNDS, REASONS, REVOCATION_REFUSAL_REASONS
from ca.revocation import CA_REVOCATION, CENTRE_STOP
from ca.revocation import CourtDecision, RevocationRequest

router = APIRouter(tags=["revocation"])


@router.post("/certificates/{serial}/revoke",
             summary="Revoke a certificate (role: registrar; CA and service certificates: administrator)",
             responses=problem_responses(409))
def revoke(serial: str, body: RevokeBody, svc: Services = Depends(services),
           who: Actor = Depends(require(REGISTRAR))) -> dict:
    decision = CourtDecision(body.court_decision.number, body.court_decision.date) if body.court_decision else None
    request = RevocationRequest(
        serial=serial, actor=who.name, reason=body.reason, ground=body.ground, centre=body.centre,
        court_decision=decision, left_job_on=body.left_job_on, carrier_returned=body.carrier_returned,
        state_body=body.state_body, letter_number=body.letter_number, letter_date=body.letter_date,
        administrator=who.role is Role.ADMINISTRATOR)
    try:
        return svc.revocations.revoke(request).as_json()
    except DualControlRequired:
        # A CA certificate (issue 8): 202, waiting for a second administrator's approval.
        return pending(svc.dual_control.request(CA_REVOCATION, revocation_params(request), who.name,
                                                administrator=True))


@router.post("/ca/{code}/stop", status_code=202,
             summary="Ask that the centre stop work, revoking everything it issued; runs when a second "
                     "administrator approves (role: administrator)",
             responses=problem_responses(409))
def stop(code: Literal["root", "national", "government"], svc: Services = Depends(services),
         who: Actor = Depends(require(ADMINISTRATOR))) -> dict:
    return svc.dual_control.request(CENTRE_STOP, {"centre": code}, who.name, administrator=True).as_json()


@router.get("/revocation-grounds", summary="Revocation grounds, reasons and refusal reasons (public, rate-limited)",
            dependencies=[Depends(limited("public"))])
def grounds() -> dict:
    return {"reasons": list(REASONS),
            "grounds": [{"code": g.code, "text": g.text, "rule": g.rule, "centres": sorted(g.centres),
                         "reasons": list(g.reasons), "ca_level": g.ca_level} for g in GROUNDS.values()],
            "application_refusal_reasons": [{"code": r.code, "text": r.text, "rule": r.rule}
                                            for r in REVOCATION_REFUSAL_REASONS]}


@router.get("/revocations/journal", response_model=None,
            responses={200: {"content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                                         "text/csv": {"schema": {"type": "string"}}}}},
            summary="The revocation journal (appendix 5 columns) as JSON or CSV (roles: read)")
def journal(centre: Literal["root", "national", "government"] = "government",
            format: Literal["json", "csv"] = "json", svc: Services = Depends(services),
            who: Actor = Depends(require(READ))) -> Response | list[dict]:
    if format == "csv":
        return Response(svc.revocations.journal_csv(centre), media_type="text/csv; charset=utf-8")
    return [{"number": n, "serial": r.serial, "holder_name": r.holder_name, "revoked_at": r.revoked_at,
             "reason": r.reason, "ground": r.ground, "court_decision_number": r.court_decision_number,
             "left_job_on": r.left_job_on, "reported_late": r.reported_late, "carrier_returned": r.carrier_returned,
             "state_body": r.state_body, "letter_number": r.letter_number, "administrator": r.administrator,
             "application_id": r.application_id}
            for n, r in enumerate(svc.revocations.journal(centre), start=1)]


@router.post("/crl/{code}/publish", summary="Issue the centre's CRLs now (role: administrator)",
             responses=problem_responses(409))
def publish(code: Literal["root", "national", "government"], svc: Services = Depends(services),
            who: Actor = Depends(require(ADMINISTRATOR))) -> list[dict]:
    return [crl.as_json() for crl in svc.publisher.publish(code, actor=who.name)]


@router.post("/retention/run", summary="Move certificates past retention to the archive (role: administrator)")
def retention(svc: Services = Depends(services), who: Actor = Depends(require(ADMINISTRATOR))) -> list[dict]:
    return [r.as_json() for r in svc.retention.run(who.name)]
