"""``qoltanba`` commands for revocation, CRLs, centre stop and retention.

Registered on the groups of ``api.cli`` (imported at its end). The command
line runs on the CA's own host with its keys, so it acts with the
administrator's authority, like ``init``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer

from api.cli import (
    DEFAULT_HOME,
    ActorOpt,
    Centre,
    CentreOpt,
    Home,
    _code,
    _emit,
    _group,
    _services,
    _text_out,
    _writable,
    _write,
    app,
    ca_app,
    cert_app,
    journal_app,
)
from ca.dual_control import revocation_params
from api.cli.approvals import ask
from ca.errors import InvalidInput
from ca.grounds import GROUNDS, REASONS
from ca.publication import DELTA, FULL
from ca.approvals import DualControlRequired
from ca.revocation import CA_REVOCATION, CENTRE_STOP, CourtDecision, RevocationRequest

retention_app = _group("retention", "Retention: move certificates past their keeping period to the archive.")
DateOpt = Optional[dt.datetime]


def _date(value: Optional[dt.datetime]) -> dt.date | None:
    return value.date() if value is not None else None


@cert_app.command("revoke")
def cert_revoke(
    serial: Annotated[str, typer.Option(help="The certificate's serial number (hex).")],
    reason: Annotated[Optional[str], typer.Option(help=f"RFC 5280 reason: {', '.join(REASONS)}.")] = None,
    ground: Annotated[Optional[str], typer.Option(help=f"One of: {', '.join(GROUNDS)}; "
                                                       "default holder-application (court-decision when "
                                                       "--court-decision is given).")] = None,
    court_decision: Annotated[Optional[str], typer.Option(help="The court decision's number.")] = None,
    court_date: Annotated[DateOpt, typer.Option(formats=["%Y-%m-%d"], help="The decision's date.")] = None,
    left_job_on: Annotated[DateOpt, typer.Option(formats=["%Y-%m-%d"], help="GOV-5: when the holder left.")]
    = None,
    carrier_returned: Annotated[Optional[bool], typer.Option("--carrier-returned/--carrier-not-returned",
                                                             help="GOV-5: the key carrier came back.")] = None,
    letter_number: Optional[str] = None,
    letter_date: Annotated[DateOpt, typer.Option(formats=["%Y-%m-%d"])] = None,
    ca: CentreOpt = None, actor: ActorOpt = "cli", home: Home = DEFAULT_HOME,
) -> None:
    """Revoke a certificate now; its CRLs are re-issued and OCSP answers "revoked" at once."""
    with _services(home) as services:
        if court_decision is None and court_date is not None:
            raise InvalidInput("--court-date needs --court-decision")
        decision = None
        if court_decision is not None:
            decision = CourtDecision(court_decision, _date(court_date) or services.clock.now().date())
        chosen = ground or ("court-decision" if decision else "holder-application")
        request = RevocationRequest(
            serial=serial, actor=actor, reason=reason, ground=chosen, centre=_code(ca), court_decision=decision,
            left_job_on=_date(left_job_on), carrier_returned=carrier_returned, letter_number=letter_number,
            letter_date=_date(letter_date), administrator=True)
        try:
            _emit(services.revocations.revoke(request).as_json())
        except DualControlRequired:
            # A CA certificate (issue 8): recorded, waiting for a second administrator.
            ask(services, CA_REVOCATION, revocation_params(request), actor)


@app.command("crl")
def crl(ca: Annotated[Centre, typer.Option("--ca", help="Certification centre.")],
        out: Annotated[Path, typer.Option(help="Where to write the CRL (DER).")],
        delta: Annotated[bool, typer.Option("--delta", help="The delta CRL instead of the full one.")] = False,
        new: Annotated[bool, typer.Option("--new", help="Issue fresh CRLs first.")] = False,
        home: Home = DEFAULT_HOME) -> None:
    """Write the centre's current CRL (issuing one first if none is current)."""
    with _services(home) as services:
        _writable(out)
        kind = DELTA if delta else FULL
        if new or services.publisher.stale(ca.value):
            services.publisher.publish(ca.value, actor="cli")
        published = services.publisher.latest(ca.value, kind)
        assert published is not None  # just published
        _write(out, published.der)
        _emit({**published.as_json(), "out": out})


@ca_app.command("stop")
def ca_stop(ca: Annotated[Centre, typer.Option("--ca", help="The centre that stops work.")],
            confirm: Annotated[bool, typer.Option("--yes", help="Confirm: every certificate it issued is "
                                                                "revoked.")] = False,
            actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Ask that the centre stop work, revoking every certificate it issued and its own; runs when a
    second administrator approves (``approvals approve``)."""
    with _services(home) as services:
        if not confirm:
            raise InvalidInput("stopping a centre revokes every certificate it issued; add --yes to confirm")
        ask(services, CENTRE_STOP, {"centre": ca.value}, actor)


@journal_app.command("revocations")
def journal_revocations(ca: Annotated[Centre, typer.Option("--ca")] = Centre("government"),  # type: ignore[assignment]
                        out: Annotated[Optional[Path], typer.Option(help="CSV file; default stdout.")] = None,
                        home: Home = DEFAULT_HOME) -> None:
    """The revocation journal as CSV (seed 004 appendix 5 columns, plus the grounds)."""
    with _services(home) as services:
        _text_out(services.revocations.journal_csv(ca.value), out)


@retention_app.command("run")
def retention_run(actor: ActorOpt = "retention", home: Home = DEFAULT_HOME) -> None:
    """Archive certificates 5 years (government: 10) after revocation or expiry; safe to run twice."""
    with _services(home) as services:
        for result in services.retention.run(actor):
            _emit(result.as_json())
