"""The approvals queue (issue 20): what waits for a second administrator, and the decisions.

Dual control is ca/approvals.py's: an administrator asks (revoking a CA
certificate from its page, approving a CA's revocation application, ...),
a different administrator approves here and only then the action runs,
once; the one who asked may withdraw it (reject). Auditors and registrars
see the queue; only administrators decide (the API's roles). Each step is
an audit entry of the service, with the person signed in as its actor.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.pages.console.session import Staff, checked_form, go, guarded, page, services
from api.pages.console.words import ACTIONS, STATUSES, refusal, word
from api.pages.i18n import Language, language_of
from api.pages.rendering import PageRoute, limited
from ca.access import ADMINISTRATOR, READ, Role
from ca.approvals import PENDING, ApprovalView
from ca.errors import InvalidInput, Problem, QoltanbaError

router = APIRouter(include_in_schema=False, route_class=PageRoute)
ApprovalId = Path(pattern=r"^[0-9a-f]{16}$")


def approval_row(lang: Language, view: ApprovalView) -> dict:
    return {"id": view.id, "action": view.action, "action_name": word(lang, ACTIONS, view.action),
            "subject": view.subject, "params": view.params, "status": view.status,
            "status_name": word(lang, STATUSES, view.status), "requested_by": view.requested_by,
            "requested_at": lang.moment(view.requested_at), "expires_at": lang.moment(view.expires_at),
            "decided_by": view.decided_by or "", "decided_at": lang.moment(view.decided_at), "note": view.note or "",
            "result": view.result}


@router.get("/console/approvals", dependencies=[Depends(limited("public"))])
async def approvals(request: Request) -> Response:
    return await guarded(request, READ, _approvals)


async def _approvals(request: Request, staff: Staff, *, status: int = 200, errors: list[str] | None = None) -> Response:
    lang = language_of(request)
    svc = services(request)
    views = await run_in_threadpool(svc.dual_control.list, None, limit=100)
    rows = [approval_row(lang, v) for v in views]
    asked = request.query_params.get("asked")
    done = request.query_params.get("done")
    return page(request, "console/approvals.html", staff, status, section="approvals", here="/console/approvals",
                pending=[r for r in rows if r["status"] == PENDING], decided=[r for r in rows if r["status"] != PENDING],
                asked=asked if any(r["id"] == asked for r in rows) else None,
                done=done if done in ("approved", "rejected") else None, errors=errors or [],
                may_decide=staff.may(ADMINISTRATOR))


@router.post("/console/approvals/{approval_id}/approve", dependencies=[Depends(limited("public"))])
async def approve(request: Request, approval_id: str = ApprovalId) -> Response:
    return await guarded(request, ADMINISTRATOR, _decide, approval_id, True)


@router.post("/console/approvals/{approval_id}/reject", dependencies=[Depends(limited("public"))])
async def reject(request: Request, approval_id: str = ApprovalId) -> Response:
    return await guarded(request, ADMINISTRATOR, _decide, approval_id, False)


async def _decide(request: Request, staff: Staff, approval_id: str, approving: bool) -> Response:
    form = await checked_form(request, staff)
    svc = services(request)
    administrator = staff.actor.role is Role.ADMINISTRATOR
    try:
        if approving:
            view = await run_in_threadpool(svc.dual_control.approve, approval_id, staff.name,
                                           administrator=administrator)
        else:
            note = str(form.get("note") or "").strip()
            if len(note) > 2000:
                raise InvalidInput("the note is too long", [Problem("note", "at most 2000 characters")])
            view = await run_in_threadpool(svc.dual_control.reject, approval_id, staff.name, note or None,
                                           administrator=administrator)
    except QoltanbaError as refused:
        lang = language_of(request)
        lines = refusal(lang, refused)
        if refused.code == "forbidden" and approving:
            lines.append(lang.gettext("The administrator who asked cannot approve their own request: another "
                                      "administrator must."))
        return await _approvals(request, staff, status=403 if refused.code == "forbidden" else 409, errors=lines)
    return go(f"/console/approvals?done={'approved' if approving else 'rejected'}&asked={view.id}")


__all__ = ["approval_row", "router"]
