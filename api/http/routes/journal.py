"""The issuance journal (GOV-3, seed 004 appendix 3) and API keys."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from api.http.deps import access, require, services
from api.http.openapi import problem_responses
from api.http.schemas import ApiKeyBody, CentreCode
from api.wiring import Services
from ca.access import ADMINISTRATOR, READ, AccessService, Actor

router = APIRouter()


@router.get("/journal/issuance", tags=["journal"], summary="Issuance journal as JSON (roles: read)")
def journal(centre: CentreCode | None = None, svc: Services = Depends(services),
            who: Actor = Depends(require(READ))) -> list[dict]:
    return [line.as_json() for line in svc.catalogue.journal(centre)]


@router.get("/journal/issuance.csv", tags=["journal"], summary="Issuance journal as CSV (roles: read)",
            response_class=Response, responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def journal_csv(centre: CentreCode | None = None, svc: Services = Depends(services),
                who: Actor = Depends(require(READ))) -> Response:
    return Response(svc.catalogue.journal_csv(centre), media_type="text/csv; charset=utf-8")


@router.post("/api-keys", status_code=201, tags=["access"], summary="Create an API key (role: administrator)",
             responses=problem_responses(409))
def create_key(body: ApiKeyBody, service: AccessService = Depends(access),
               who: Actor = Depends(require(ADMINISTRATOR))) -> dict:
    new = service.create_key(body.name, body.role, by=who.name, tenant=body.tenant)
    return {"name": new.actor.name, "role": new.actor.role.value, "tenant": new.actor.tenant, "key": new.key}
