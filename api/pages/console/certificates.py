"""Certificate search (IIN, BIN, serial or name) and revocation with a ground (issue 20).

The search is the registry's (ca/catalogue.py); revoking is
ca/revocation.py's ``RevocationService.revoke``, with the person signed in
as the audited actor, so every rule of the API holds: the ground must suit
the centre and the certificate (ROOT-6, GOV-5, NAT-5), a court decision
needs its number and date, a holder who left the job the day (GOV-5), and a
CA certificate is revoked only when a second administrator approves
(ca/dual_control.py): the page then records the request and sends the
person to the approvals queue.
"""

from __future__ import annotations

import datetime as dt
import re

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.pages.console.session import Staff, checked_form, go, guarded, page, services
from api.pages.console.words import CENTRES, FIELDS, GROUNDS, REASONS, STATUSES, refusal, word
from api.pages.i18n import Language, language_of
from api.pages.rendering import PageRoute, limited
from ca.access import READ, REGISTRAR, Role
from ca.approvals import DualControlRequired
from ca.catalogue import CertificateView
from ca.dual_control import revocation_params
from ca.errors import InvalidInput, Problem, QoltanbaError
from ca.grounds import CA_PROFILES, GROUNDS as GROUND_RULES
from ca.grounds import REASONS as REASON_CODES
from ca.policy import CENTRES as CENTRE_CODES
from ca.revocation import CA_REVOCATION, CourtDecision, RevocationRequest

router = APIRouter(include_in_schema=False, route_class=PageRoute)
Serial = Path(pattern=r"^(0[xX])?[0-9A-Fa-f:]{1,64}$")
SEARCH_BY = ("iin", "bin", "serial", "name")
_DIGITS12 = re.compile(r"\d{12}")
_HEX = re.compile(r"(0[xX])?[0-9A-Fa-f:]{1,64}")


def certificate_row(lang: Language, view: CertificateView) -> dict:
    return {"serial": view.serial, "name": view.common_name, "iin": view.iin or "", "bin": view.bin or "",
            "organisation": view.organisation or "", "centre": view.centre, "centre_name": word(lang, CENTRES, view.centre),
            "profile": view.profile, "status": view.status, "status_name": word(lang, STATUSES, view.status),
            "not_before": lang.moment(view.not_before), "not_after": lang.moment(view.not_after)}


@router.get("/console/certificates", dependencies=[Depends(limited("public"))])
async def search(request: Request) -> Response:
    return await guarded(request, READ, _search)


async def _search(request: Request, staff: Staff) -> Response:
    lang = language_of(request)
    svc = services(request)
    query, by = request.query_params.get("q", "").strip()[:200], request.query_params.get("by", "name")
    problems, rows, searched = [], [], bool(query)
    if by not in SEARCH_BY:
        problems.append(lang.gettext("Choose what to search by from the list."))
    elif searched:
        if by in ("iin", "bin") and not _DIGITS12.fullmatch(query):
            problems.append(word(lang, FIELDS, by))
        elif by == "serial" and not _HEX.fullmatch(query):
            problems.append(word(lang, FIELDS, "serial"))
        elif by == "name" and len(query) < 2:
            problems.append(lang.gettext("Type at least two letters of the name."))
    if searched and not problems:
        if by == "serial":
            try:
                view, _der = await run_in_threadpool(svc.catalogue.find, query)
                rows = [certificate_row(lang, view)]
            except QoltanbaError:
                rows = []
        else:
            views = await run_in_threadpool(lambda: svc.catalogue.search(**{by: query}, limit=200))
            rows = [certificate_row(lang, v) for v in views]
    return page(request, "console/certificates.html", staff, 422 if problems else 200, section="certificates",
                query=query, by=by if by in SEARCH_BY else "name", rows=rows, searched=searched and not problems,
                problems=problems, search_by=[("name", lang.gettext("Name")), ("iin", lang.gettext("IIN")),
                                              ("bin", lang.gettext("BIN")), ("serial", lang.gettext("Serial number"))])


@router.get("/console/certificates/{serial}", dependencies=[Depends(limited("public"))])
async def certificate(request: Request, serial: str = Serial) -> Response:
    return await guarded(request, READ, _certificate, serial)


async def _certificate(request: Request, staff: Staff, serial: str, *, status: int = 200,
                       errors: list[str] | None = None, chosen: dict | None = None) -> Response:
    lang = language_of(request)
    svc = services(request)
    centre = request.query_params.get("centre")
    centre = centre if centre in CENTRE_CODES else None
    view, _der = await run_in_threadpool(svc.catalogue.find, serial, centre)
    is_ca = view.profile in CA_PROFILES
    grounds = [(g.code, word(lang, GROUNDS, g.code), g.rule) for g in GROUND_RULES.values()
               if view.centre in g.centres and g.ca_level in (None, is_ca) and g.code != "centre-stopped"]
    done = request.query_params.get("done")
    return page(request, "console/certificate.html", staff, status, section="certificates",
                here=f"/console/certificates/{view.serial}", cert=certificate_row(lang, view), view=view,
                is_ca=is_ca, errors=errors or [], chosen=chosen or {}, done=done if done == "revoked" else None,
                grounds=grounds, reasons=[(r, word(lang, REASONS, r)) for r in REASON_CODES],
                may_revoke=staff.may(REGISTRAR) and view.status == "valid",
                needs_admin=is_ca or view.profile == "ocsp-responder" or view.profile == "tsa",
                ocsp_url=svc.hierarchy.issuing_ca(view.centre).endpoints.ocsp)


def _date(value: str, field: str, problems: list[Problem]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(Problem(field, "must be a date"))
        return None


@router.post("/console/certificates/{serial}/revoke", dependencies=[Depends(limited("public"))])
async def revoke(request: Request, serial: str = Serial) -> Response:
    return await guarded(request, REGISTRAR, _revoke, serial)


async def _revoke(request: Request, staff: Staff, serial: str) -> Response:
    form = await checked_form(request, staff)
    text = {k: str(form.get(k) or "").strip()[:255] for k in (
        "ground", "reason", "court_number", "court_date", "left_job_on", "carrier_returned", "letter_number",
        "letter_date", "state_body", "centre")}
    problems: list[Problem] = []
    court_date = _date(text["court_date"], "court_decision.date", problems)
    left_job_on = _date(text["left_job_on"], "left_job_on", problems)
    letter_date = _date(text["letter_date"], "letter_date", problems)
    decision = None
    if text["court_number"] or text["court_date"]:
        if not text["court_date"]:
            problems.append(Problem("court_decision.date", "is required"))
        elif court_date is not None:
            decision = CourtDecision(text["court_number"], court_date)
    carrier = {"yes": True, "no": False}.get(text["carrier_returned"])
    administrator = staff.actor.role is Role.ADMINISTRATOR
    svc = services(request)
    wanted = RevocationRequest(serial=serial, actor=staff.name, reason=text["reason"] or None,
                               ground=text["ground"] or "holder-application", centre=text["centre"] or None,
                               court_decision=decision, left_job_on=left_job_on, carrier_returned=carrier,
                               state_body=text["state_body"] or None, letter_number=text["letter_number"] or None,
                               letter_date=letter_date, administrator=administrator)
    try:
        if problems:
            # The service's own checks too, so that every problem is listed at once.
            try:
                await run_in_threadpool(svc.revocations.check, wanted)
            except InvalidInput as more:
                problems += more.problems
            raise InvalidInput("the certificate cannot be revoked", problems)
        try:
            revoked = await run_in_threadpool(svc.revocations.revoke, wanted)
        except DualControlRequired:
            # A CA certificate (ROOT-6): recorded, waiting for a second administrator's approval.
            asked = await run_in_threadpool(svc.dual_control.request, CA_REVOCATION, revocation_params(wanted),
                                            staff.name, administrator=True)
            return go(f"/console/approvals?asked={asked.id}")
    except QoltanbaError as refused:
        return await _certificate(request, staff, serial, status=409 if refused.code == "conflict" else
                                  403 if refused.code == "forbidden" else 422,
                                  errors=refusal(language_of(request), refused), chosen=text)
    return go(f"/console/certificates/{revoked.serial}?done=revoked")


__all__ = ["certificate_row", "router"]
