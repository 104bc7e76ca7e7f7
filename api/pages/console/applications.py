"""The applications queue (issue 20): due dates in working days, overdue marks, approve or refuse.

Every decision goes through the services the API uses (ca/applications.py,
ca/revocation_applications.py, ca/dual_control.py) with the person signed
in as the audited actor; the roles are the API's (reading: any staff;
deciding: registrar or administrator). The due date is the service's, set
at submission in Kazakhstan's working days (ca/calendar.py, the holidays
package's KZ calendar: ROOT-3's 15 days, the 2 days of NAT-6 and GOV-5);
the queue shows how many working days are left by the same calendar.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.pages.console.session import Staff, checked_form, go, guarded, page, services
from api.pages.console.words import (
    ATTACHMENTS,
    CENTRES,
    FIELDS,
    FORM_FIELDS,
    FORM_VALUES,
    GROUNDS,
    KINDS,
    REASONS,
    REFUSALS,
    STATUSES,
    refusal,
    word,
)
from api.pages.i18n import Language, language_of
from api.pages.rendering import PageRoute, limited
from ca.access import READ, REGISTRAR, Role
from ca.applications import ApplicationView
from ca.approvals import DualControlRequired
from ca.errors import InvalidInput, Problem, QoltanbaError
from ca.grounds import REVOCATION_REFUSAL_REASONS
from ca.policy import CENTRES as CENTRE_CODES
from ca.policy import REFUSAL_REASONS
from ca.revocation import CA_REVOCATION
from ca.revocation_forms import REVOCATION_KINDS

router = APIRouter(include_in_schema=False, route_class=PageRoute)
ApplicationId = Path(ge=1, le=2**31 - 1)
FILTER_STATUSES = ("submitted", "issued", "refused", "revoked")
# What a page says after a decision (post/redirect/get: ?done=…).
DONE = {"approved", "refused", "asked"}


def day(lang: Language, value: dt.date | None) -> str:
    return format_date(value, "long", locale=lang.code) if value is not None else ""


def applicant(form: dict) -> str:
    """Who applies, in one line: the person, the organisation or the centre the form names."""
    person = " ".join(str(form[k]) for k in ("surname", "given_name", "patronymic") if form.get(k))
    if form.get("ca_name"):
        return f"{form['ca_name']} ({form.get('organisation', '')})"
    if form.get("state_body"):
        count = len(form.get("persons", []))
        return f"{form['state_body']}" + (f", {person}" if person else f" ({count})")
    if form.get("short_name"):
        return f"{person}, {form['short_name']}"
    return person


def _value(lang: Language, key: str, value: object) -> str:
    """A form's value as staff read it: words for codes, dates in the language, yes or no."""
    tables = {**FORM_VALUES, "reason": REASONS, "ground": GROUNDS}
    if isinstance(value, bool):
        return lang.gettext("Yes") if value else lang.gettext("No")
    if isinstance(value, list):
        return ", ".join(_value(lang, key, v) for v in value)
    if key in tables and isinstance(value, str):
        return word(lang, tables[key], value)
    if isinstance(value, str) and key.endswith(("_date", "_on")):
        try:
            return day(lang, dt.date.fromisoformat(value))
        except ValueError:
            return value
    return "" if value is None else str(value)


def form_facts(lang: Language, form: dict) -> list[dict]:
    """The form's fields in the paper form's order, each with its label in the page's language (``key`` kept for
    the page's data attribute); a state body's people as a list of such facts; fields we have no label for last."""
    order = [k for k in FORM_FIELDS if k in form] + sorted(k for k in form if k not in FORM_FIELDS)
    facts = []
    for key in order:
        value = form[key]
        fact = {"key": key, "label": word(lang, FORM_FIELDS, key)}
        if key == "persons" and isinstance(value, list):
            fact["people"] = [form_facts(lang, p) for p in value if isinstance(p, dict)]
        else:
            fact["value"] = _value(lang, key, value)
        facts.append(fact)
    return facts


def row(lang: Language, view: ApplicationView, today: dt.date, calendar) -> dict:  # noqa: ANN001 - WorkingCalendar
    left = calendar.working_days_between(today, view.due_date) if view.status == "submitted" else None
    return {"id": view.id, "kind": word(lang, KINDS, view.kind), "centre": word(lang, CENTRES, view.centre),
            "status": view.status, "status_name": word(lang, STATUSES, view.status), "applicant": applicant(view.form),
            "submitted": lang.moment(view.submitted_at), "due": day(lang, view.due_date), "left": left,
            "overdue": view.overdue, "serials": view.certificate_serials, "target": view.target_serial}


def _filters(request: Request, lang: Language) -> tuple[dict, list[str]]:
    query = request.query_params
    status, centre = query.get("status", "submitted"), query.get("centre", "")
    problems = []
    if status not in ("", *FILTER_STATUSES):
        problems.append(lang.gettext("Choose a status from the list."))
    if centre not in ("", *CENTRE_CODES):
        problems.append(word(lang, FIELDS, "centre"))
    return {"status": status if status in FILTER_STATUSES else "", "centre": centre if centre in CENTRE_CODES else "",
            "overdue": query.get("overdue") == "1"}, problems


@router.get("/console/applications", dependencies=[Depends(limited("public"))])
async def queue(request: Request) -> Response:
    return await guarded(request, READ, _queue)


async def _queue(request: Request, staff: Staff) -> Response:
    lang = language_of(request)
    svc = services(request)
    filters, problems = _filters(request, lang)
    views = await run_in_threadpool(svc.applications.list, centre=filters["centre"] or None,
                                    status=filters["status"] or None, overdue=filters["overdue"], limit=200)
    today = svc.applications.today()
    rows = [row(lang, v, today, svc.calendar) for v in views]
    return page(request, "console/applications.html", staff, 422 if problems else 200, section="applications",
                rows=rows, filters=filters, problems=problems, today=day(lang, today),
                statuses=[(s, word(lang, STATUSES, s)) for s in FILTER_STATUSES],
                centres=[(c, word(lang, CENTRES, c)) for c in CENTRE_CODES])


@router.get("/console/applications/{application_id}", dependencies=[Depends(limited("public"))])
async def application(request: Request, application_id: int = ApplicationId) -> Response:
    return await guarded(request, READ, _application, application_id)


async def _application(request: Request, staff: Staff, application_id: int, *, status: int = 200,
                       errors: list[str] | None = None, chosen: dict | None = None) -> Response:
    lang = language_of(request)
    svc = services(request)
    view = await run_in_threadpool(svc.applications.get, application_id)
    reasons = REVOCATION_REFUSAL_REASONS if view.kind in REVOCATION_KINDS else REFUSAL_REASONS.get(view.centre, ())
    done = request.query_params.get("done")
    return page(request, "console/application.html", staff, status, section="applications",
                here=f"/console/applications/{application_id}",
                app=row(lang, view, svc.applications.today(), svc.calendar), view=view, errors=errors or [],
                form=form_facts(lang, view.form), refusal_reason=word(lang, REFUSALS, view.refusal_reason),
                attachments=[(word(lang, ATTACHMENTS, a.get("kind")), a.get("name", "")) for a in view.attachments],
                chosen=chosen or {}, done=done if done in DONE else None,
                reasons=[(r.code, word(lang, REFUSALS, r.code), r.rule) for r in reasons],
                may_decide=staff.may(REGISTRAR) and view.status == "submitted",
                revocation=view.kind in REVOCATION_KINDS)


@router.post("/console/applications/{application_id}/approve", dependencies=[Depends(limited("public"))])
async def approve(request: Request, application_id: int = ApplicationId) -> Response:
    return await guarded(request, REGISTRAR, _approve, application_id)


async def _approve(request: Request, staff: Staff, application_id: int) -> Response:
    await checked_form(request, staff)
    svc = services(request)
    view = await run_in_threadpool(svc.applications.get, application_id)
    administrator = staff.actor.role is Role.ADMINISTRATOR
    try:
        if view.kind in REVOCATION_KINDS:
            try:
                await run_in_threadpool(svc.revocation_applications.approve, application_id, staff.name,
                                        administrator=administrator)
            except DualControlRequired:
                # A CA's revocation application (ROOT-6): it waits for a second administrator.
                asked = await run_in_threadpool(svc.dual_control.request, CA_REVOCATION,
                                                {"application_id": application_id}, staff.name,
                                                administrator=administrator)
                return go(f"/console/approvals?asked={asked.id}")
            return go(f"/console/applications/{application_id}?done=approved")
        approval = await run_in_threadpool(svc.applications.approve, application_id, staff.name)
    except QoltanbaError as refused:
        return await _application(request, staff, application_id, status=409 if refused.code == "conflict" else 422,
                                  errors=refusal(language_of(request), refused))
    if approval.generated_passwords:
        # The key carriers' passwords (GOV-3) are shown this once, as the API answers them, and kept nowhere.
        return page(request, "console/issued.html", staff, section="applications",
                    here=f"/console/applications/{application_id}", application_id=application_id,
                    certificates=[(c.serial, c.carrier_serial) for c in approval.certificates],
                    passwords=sorted(approval.generated_passwords.items()))
    return go(f"/console/applications/{application_id}?done=approved")


@router.post("/console/applications/{application_id}/refuse", dependencies=[Depends(limited("public"))])
async def refuse(request: Request, application_id: int = ApplicationId) -> Response:
    return await guarded(request, REGISTRAR, _refuse, application_id)


async def _refuse(request: Request, staff: Staff, application_id: int) -> Response:
    form = await checked_form(request, staff)
    reason, detail = str(form.get("reason") or ""), str(form.get("detail") or "")
    svc = services(request)
    problems = []
    if not reason:
        problems.append(Problem("reason", "is required"))
    if not detail.strip() or len(detail) > 2000:
        problems.append(Problem("detail", "is required"))
    try:
        if problems:
            raise InvalidInput("the refusal is incomplete", problems)
        await run_in_threadpool(svc.applications.refuse, application_id, reason, detail, staff.name)
    except QoltanbaError as refused:
        return await _application(request, staff, application_id, status=409 if refused.code == "conflict" else 422,
                                  errors=refusal(language_of(request), refused),
                                  chosen={"reason": reason, "detail": detail[:2000]})
    return go(f"/console/applications/{application_id}?done=refused")


__all__ = ["applicant", "day", "form_facts", "router"]
