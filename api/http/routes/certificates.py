"""Issuing and reading certificates."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Depends, Path, Query, Response

from api.http.deps import require, services
from api.http.openapi import MAX_ID, problem_responses
from api.http.schemas import CentreCode, DestroyKeyBody, IssueBody
from api.wiring import Services
from ca.access import READ, REGISTRAR, Actor
from ca.held_keys import HeldKeyIssue
from ca.issuance import IssueRequest, KeySource
from ca.policy import NATIONAL
from ca.errors import InvalidInput, Problem
from ca.profiles import PROFILES, Role
from ca.subject import SubjectData

router = APIRouter(tags=["certificates"])


def subject_of(body: IssueBody) -> SubjectData:
    s = body.subject
    return SubjectData(surname=s.surname, given_name=s.given_name, patronymic=s.patronymic, iin=s.iin,
                       email=s.email, bin=s.bin, organisation=s.organisation, locality=s.locality, state=s.state,
                       common_name=s.common_name, country=s.country, roles=tuple(Role(r) for r in s.roles))


def centre_for(profile: str, centre: str | None) -> str:
    prof = PROFILES.get(profile)
    if centre:
        return centre
    if prof is None:
        raise InvalidInput("unknown profile", [Problem("profile", f"{profile!r}; known: {', '.join(PROFILES)}")])
    if len(prof.centres) != 1:
        raise InvalidInput("name the centre", [Problem("centre", f"{profile} is issued by {sorted(prof.centres)}")])
    return next(iter(prof.centres))


@router.post("/certificates", status_code=201, summary="Issue a certificate directly (role: registrar)",
             responses=problem_responses(409))
def issue(body: IssueBody, svc: Services = Depends(services), who: Actor = Depends(require(REGISTRAR))) -> dict:
    if sum(source is not None for source in (body.csr_pem, body.carrier, body.held)) != 1:
        raise InvalidInput("give exactly one key source", [Problem("csr_pem", "or carrier, or held: exactly one")])
    if body.held is not None:
        if body.centre not in (None, NATIONAL):
            raise InvalidInput("the key cannot be issued", [Problem("centre", "a borrower's held key is issued "
                                                                              "by the national CA")])
        held = svc.held_key_custody.issue(HeldKeyIssue(subject=subject_of(body), actor=who.name,
                                                       profile=body.profile, algorithm=body.held.algorithm))
        return held.as_json() | {"centre": NATIONAL}
    key = (KeySource(csr=body.csr_pem.encode()) if body.csr_pem is not None
           else KeySource(pkcs12_password=body.carrier.password.encode(), algorithm=body.carrier.algorithm))
    issued = svc.issuance.issue(IssueRequest(centre=centre_for(body.profile, body.centre), profile=body.profile,
                                              subject=subject_of(body), key=key, actor=who.name))
    result = {"serial": issued.serial, "centre": issued.centre, "profile": issued.profile,
              "subject": issued.certificate.subject.rfc4514_string(),
              "not_after": issued.certificate.not_valid_after_utc.isoformat(),
              "certificate_pem": issued.pem.decode()}
    if issued.pkcs12 is not None:
        result["pkcs12_base64"] = base64.b64encode(issued.pkcs12).decode()
        result["carrier_serial"] = issued.carrier_serial
    return result


@router.get("/certificates", summary="Search the registry; held=true: the borrowers' keys the service holds "
                                    "(roles: administrator, registrar, auditor)")
def search(centre: CentreCode | None = None, iin: str | None = Query(default=None, pattern=r"^\d{12}$"),
           bin: str | None = Query(default=None, pattern=r"^\d{12}$"), profile: str | None = None,
           status: str | None = None, limit: int = Query(default=100, ge=1, le=1000),
           offset: int = Query(default=0, ge=0, le=MAX_ID), held: bool = False, svc: Services = Depends(services),
           who: Actor = Depends(require(READ))) -> list[dict]:
    if held:
        # Only the national CA holds borrowers' keys: another centre has none.
        return [] if centre not in (None, NATIONAL) else [
            v.as_json() for v in svc.held_key_custody.list(iin=iin, bin=bin, profile=profile, status=status,
                                                           limit=limit, offset=offset)]
    views = svc.catalogue.search(centre=centre, iin=iin, bin=bin, profile=profile, status=status, limit=limit,
                                 offset=offset)
    return [v.as_json() for v in views]


@router.get("/certificates/{serial}", summary="One certificate (roles: administrator, registrar, auditor)")
def show(serial: str, centre: CentreCode | None = None, svc: Services = Depends(services),
         who: Actor = Depends(require(READ))) -> dict:
    view, _der = svc.catalogue.find(serial, centre)
    return view.as_json()


@router.get("/certificates/{serial}/der", summary="The certificate in DER (roles: administrator, registrar, auditor)",
            response_class=Response, responses={200: {"content": {"application/pkix-cert": {}}}})
def der(serial: str, centre: CentreCode | None = None, svc: Services = Depends(services),
        who: Actor = Depends(require(READ))) -> Response:
    _view, data = svc.catalogue.find(serial, centre)
    return Response(data, media_type="application/pkix-cert")


@router.post("/certificates/{serial}/destroy-key",
             summary="Destroy a borrower's key the service holds: the certificate revoked, the key gone from the "
                     "backend (role: registrar)", responses=problem_responses(409))
def destroy_key(serial: str = Path(max_length=64), body: DestroyKeyBody | None = None,
                svc: Services = Depends(services), who: Actor = Depends(require(REGISTRAR))) -> dict:
    return svc.held_key_custody.destroy(serial, who.name, reason=body.reason if body else None).as_json()
