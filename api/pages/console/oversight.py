"""CRL and OCSP status per centre, the journals with CSV export, the audit log and its verification (issue 20).

Any of the centre's staff may read these (the API's read role). The
status is ca/oversight.py's ``StatusBoard``: each centre's newest CRLs and
its OCSP responder asked about its own certificate; the journals are the
issuance journal (GOV-3, appendix 3) and the revocation journal (GOV-5,
appendix 5) the API exports, the same CSV; an export is an audit entry
(``journal.exported``: the holders' names left the console). The audit log
shows the newest entries and ``AuditCheckpoints.verify``'s result: the hash
chain, the signed checkpoints, the bound on unsealed entries and the export,
as ``qoltanba audit verify`` reports them.
"""

from __future__ import annotations

import datetime as dt
import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.pages.console.session import Staff, guarded, page, services
from api.pages.console.words import CENTRES, GROUNDS, OCSP_ANSWERS, REASONS, word
from api.pages.i18n import Language, language_of
from api.pages.rendering import SECURITY_HEADERS, PageRoute, limited
from ca.access import READ
from ca.oversight import PAGE
from ca.policy import CENTRES as CENTRE_CODES

router = APIRouter(include_in_schema=False, route_class=PageRoute)
JOURNALS = ("issuance", "revocation")


def duration(lang: Language, span: dt.timedelta | None) -> str:
    """An age as staff read it: '2 h 5 min', '40 s' (the units in the page's language)."""
    if span is None:
        return ""
    seconds = max(0, int(span.total_seconds()))
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    _ = lang.gettext
    if hours:
        return _("{hours} h {minutes} min").format(hours=lang.number(hours), minutes=minutes)
    if minutes:
        return _("{minutes} min").format(minutes=minutes)
    return _("{seconds} s").format(seconds=seconds)


@router.get("/console/status", dependencies=[Depends(limited("public"))])
async def status(request: Request) -> Response:
    return await guarded(request, READ, _status)


async def _status(request: Request, staff: Staff) -> Response:
    lang = language_of(request)
    board = await run_in_threadpool(services(request).status_board.centres_status)
    centres = [{
        "code": c.code, "name": word(lang, CENTRES, c.code), "revocations": lang.number(c.revocations),
        "missing": c.missing,
        "crls": [{"kind": crl.kind, "number": lang.number(crl.number), "entries": lang.number(crl.entries),
                  "this_update": lang.moment(crl.this_update), "next_update": lang.moment(crl.next_update),
                  "age": duration(lang, crl.age), "overdue": crl.overdue, "due": crl.due} for crl in c.crls],
        "ocsp": {"url": c.ocsp.url, "answer": c.ocsp.answer, "answer_name": word(lang, OCSP_ANSWERS, c.ocsp.answer),
                 "serial": c.ocsp.responder_serial,
                 "not_after": lang.moment(c.ocsp.responder_not_after), "produced_at": lang.moment(c.ocsp.produced_at),
                 "this_update": lang.moment(c.ocsp.this_update), "next_update": lang.moment(c.ocsp.next_update),
                 "age": duration(lang, c.ocsp.age)},
    } for c in board]
    return page(request, "console/status.html", staff, section="status", centres=centres)


def _centre(request: Request, default: str) -> tuple[str, bool]:
    centre = request.query_params.get("centre", default)
    return (centre, True) if centre in CENTRE_CODES else (default, centre == default)


@router.get("/console/journals", dependencies=[Depends(limited("public"))])
async def journals(request: Request) -> Response:
    return await guarded(request, READ, _journals)


async def _journals(request: Request, staff: Staff) -> Response:
    lang = language_of(request)
    svc = services(request)
    centre, known = _centre(request, "government")
    issued = await run_in_threadpool(svc.catalogue.journal, centre)
    revoked = await run_in_threadpool(svc.revocations.journal, centre)
    revocations = [{"number": n, "holder": r.holder_name, "serial": r.serial, "revoked_at": lang.moment(r.revoked_at),
                    "reason": word(lang, REASONS, r.reason), "ground": word(lang, GROUNDS, r.ground),
                    "court": r.court_decision_number or "", "late": r.reported_late,
                    "carrier": r.carrier_returned, "state_body": r.state_body or "", "letter": r.letter_number or "",
                    "administrator": r.administrator} for n, r in enumerate(revoked, start=1)]
    issuance = [{**e.as_json(), "issued_at": lang.moment(e.issued_at)} for e in issued]
    return page(request, "console/journals.html", staff, 200 if known else 422, section="journals", centre=centre,
                centres=[(c, word(lang, CENTRES, c)) for c in CENTRE_CODES], issuance=issuance,
                revocations=revocations, problems=[] if known else [lang.gettext("Choose a centre from the list.")])


@router.get("/console/journals/{journal}.csv", dependencies=[Depends(limited("public"))])
async def journal_csv(request: Request, journal: str) -> Response:
    return await guarded(request, READ, _journal_csv, journal)


async def _journal_csv(request: Request, staff: Staff, journal: str) -> Response:
    svc = services(request)
    centre, known = _centre(request, "government")
    if journal not in JOURNALS or not known:
        return page(request, "console/refused.html", staff, 404, back="/console/journals",
                    lines=[language_of(request).gettext("There is no such journal. Choose one on the journals page.")])
    export = svc.catalogue.journal_csv if journal == "issuance" else svc.revocations.journal_csv
    text = await run_in_threadpool(export, centre)
    await run_in_threadpool(svc.audit_log.exported, staff.name, journal, centre, max(0, text.count("\n") - 1))
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{journal}-journal-{centre}.csv"'}
    return Response(text.encode(), media_type="text/csv; charset=utf-8", headers=headers)


def _shortened(text: str, limit: int = 240) -> str:
    """An entry's details as the table shows them: long ones (the settings' snapshot) cut, the rest in the CLI."""
    return text if len(text) <= limit else text[:limit] + " …"


@router.get("/console/audit", dependencies=[Depends(limited("public"))])
async def audit(request: Request) -> Response:
    return await guarded(request, READ, _audit)


async def _audit(request: Request, staff: Staff) -> Response:
    lang = language_of(request)
    svc = services(request)
    before_text = request.query_params.get("before", "")
    before = int(before_text) if before_text.isdigit() and 0 < len(before_text) < 12 else None
    report = await run_in_threadpool(svc.audit_checkpoints.verify)
    entries, last = await run_in_threadpool(svc.audit_log.newest, before, PAGE)
    rows = [{"id": e.id, "at": lang.moment(e.at), "actor": e.actor, "action": e.action, "subject": e.subject,
             "details": _shortened(json.dumps(e.details, ensure_ascii=False, sort_keys=True, default=str))}
            for e in entries]
    older = rows[-1]["id"] if rows and rows[-1]["id"] > 1 else None
    return page(request, "console/audit.html", staff, section="audit", report=report,
                findings=[f.line() for f in report.findings[:20]], rows=rows, older=older, last=last,
                entries=lang.number(report.entries), checkpoints=lang.number(report.checkpoints),
                exported=lang.number(report.exported))


__all__ = ["duration", "router"]
