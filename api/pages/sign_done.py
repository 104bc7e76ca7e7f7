"""After signing: the signed copy and the evidence, for the borrower, in their language (issue 20).

``GET /sign/{request}/signed.pdf`` is the document as signed (and sealed,
when the request asked for the MFO's seal); ``GET /sign/{request}/evidence``
is the evidence report (signing/requests/evidence.py) said in the page's
language: what was signed, the review window (LOAN-5), each factor proven
and when, the signature and the seal, the digests. The report itself stays
what the MFO's seal signed — canonical JSON, in English keys — and is
offered beside it with its detached CMS (``evidence.json``,
``evidence.p7s``), which anyone checks with ``openssl cms -verify``.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.pages.cards import FACTOR, mask_iin
from api.pages.rendering import PageRoute, file_response, limited, render
from api.pages.sign import language, refused, token_of
from api.pages.sign_view import KINDS
from ca.errors import QoltanbaError
from signing.verification.words import N_

router = APIRouter(include_in_schema=False, route_class=PageRoute)
WAYS = {"held-key": N_("with the signing key the service keeps for you"),
        "client-eds": N_("with your own EDS key")}
PROVEN = {"sms": "SMS", "totp": "TOTP", "biometric": "Biometric", "eds": "EDS", "password": "Password"}


@router.get("/sign/{request_id}/signed.pdf", dependencies=[Depends(limited("public"))])
def signed_pdf(request_id: str, request: Request) -> Response:
    try:
        stored = request.app.state.services.borrower_desk.signed_copy(request_id, token_of(request))
    except QoltanbaError as error:
        return refused(request, request_id, error)
    return file_response(stored.content, "application/pdf", f"{stored.document_id}-signed.pdf")


def evidence_rows(record: dict, lang) -> list[tuple[str, str]]:  # noqa: ANN001 - Language
    """The report's facts as (label, value) in ``lang``; moments in Almaty time, the IIN masked."""
    _ = lang.gettext
    document, client, review = record["document"], record["client"], record["review"]
    rows = [(_("Document"), " ".join(filter(None, (_(KINDS.get(document["kind"], document["kind"])),
                                                   document.get("contract_number"))))),
            (_("Signed by"), client.get("name") or ""),
            (_("IIN"), mask_iin(client.get("iin")) or ""),
            (_("Rule applied"), record["policy"].get("name", "")),
            (_("Review time"), _("from {start} to {end}").format(start=lang.moment(review["requested_at"]),
                                                               end=lang.moment(review["until"]))
             + (" — " + _("waived") if review.get("waived") else ""))]
    for factor in record["factors"]:
        name = _(FACTOR[PROVEN[factor["factor"]]]) if factor["factor"] in PROVEN else factor["factor"]
        rows.append((_("Factor proven"), f"{name}: {lang.moment(factor['at'])}"))
    signature = record["signature"]
    rows.append((_("Signature"), _("{level}, {way}").format(
        level=signature["level"], way=_(WAYS[signature["way"]]) if signature["way"] in WAYS else signature["way"])))
    rows.append((_("Signed at"), lang.moment(record["signed_at"])))
    rows.append((_("Document digest before signing (SHA-256)"), record["document_sha256_before"]))
    rows.append((_("Document digest after signing (SHA-256)"), record["document_sha256_after"]))
    if record.get("seal"):
        rows.append((_("Sealed by the lender at"), lang.moment(record["seal"]["sealed_at"])))
    if record.get("earliest_payout_at"):
        rows.append((_("Money paid out no earlier than"), lang.moment(record["earliest_payout_at"])))
    if record.get("reported_at"):
        rows.append((_("Report sealed at"), lang.moment(record["reported_at"])))
    return rows


@router.get("/sign/{request_id}/evidence", dependencies=[Depends(limited("public"))])
async def evidence_page(request_id: str, request: Request) -> Response:
    desk = request.app.state.services.borrower_desk
    token = token_of(request)
    try:
        holder = desk.holder(request_id, token)
        view = await run_in_threadpool(desk.evidence, request_id, token)
    except QoltanbaError as error:
        return refused(request, request_id, error)
    lang = language(request, holder.language)
    record = json.loads(view.report) if view.report else view.record
    return render(request, "sign/evidence.html", 200, lang, rows=evidence_rows(record, lang), request_id=request_id,
                  evidence_id=view.id)


@router.get("/sign/{request_id}/evidence.json", dependencies=[Depends(limited("public"))])
async def evidence_json(request_id: str, request: Request) -> Response:
    try:
        view = await run_in_threadpool(request.app.state.services.borrower_desk.evidence, request_id,
                                       token_of(request))
    except QoltanbaError as error:
        return refused(request, request_id, error)
    return file_response(view.report or b"", "application/json", f"evidence-{request_id[:8]}.json")


@router.get("/sign/{request_id}/evidence.p7s", dependencies=[Depends(limited("public"))])
async def evidence_signature(request_id: str, request: Request) -> Response:
    try:
        view = await run_in_threadpool(request.app.state.services.borrower_desk.evidence, request_id,
                                       token_of(request))
    except QoltanbaError as error:
        return refused(request, request_id, error)
    return file_response(view.signature or b"", "application/pkcs7-signature", f"evidence-{request_id[:8]}.p7s")


__all__ = ["evidence_rows", "router"]
