"""``qoltanba form``: each tenant's standard forms, version by version (issue 15, seed 002)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer

from api.cli.common import DEFAULT_HOME, ActorOpt, Home, emit, group, open_services, read

app = group("Standard forms of a tenant (contract, amendment, schedule, consent ...): register, list, show.")

Tenant = Annotated[str, typer.Option(help="The tenant's code.")]


@app.command("register")
def form_register(tenant: Tenant,
                  kind: Annotated[str, typer.Option(help="contract, amendment, application, consent, schedule or "
                                                         "details_change.")],
                  version: Annotated[str, typer.Option(help="The form's version, as documents name it.")],
                  pdf: Annotated[Optional[Path], typer.Option(help="The form's PDF.")] = None,
                  sha256: Annotated[Optional[str], typer.Option(help="Or its SHA-256 (hex).")] = None,
                  consent_date: Annotated[Optional[str], typer.Option(
                      help="The regulator's consent to this version, YYYY-MM-DD (a contract form).")] = None,
                  no_consent_reason: Annotated[Optional[str], typer.Option(
                      help="A later contract form needing no new consent: change-of-law or "
                           "change-of-requisites.")] = None,
                  note: Annotated[Optional[str], typer.Option(help="What changed.")] = None,
                  actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Register a version of one of the tenant's forms; prints its id, which documents name as metadata.form."""
    from ca.errors import InvalidInput, Problem
    from signing.tenants import NewForm

    with open_services(home) as services:
        try:
            consent = dt.date.fromisoformat(consent_date) if consent_date is not None else None
        except ValueError:
            raise InvalidInput("the form is refused", [Problem("consent_date", "must be a date, YYYY-MM-DD")]) \
                from None
        form = NewForm(kind=kind, version=version, pdf=read(pdf, "form PDF") if pdf else None, sha256=sha256,
                       consent_date=consent, no_consent_reason=no_consent_reason, note=note)
        emit(services.contract_forms.register(actor, tenant, form).as_json())


@app.command("list")
def form_list(tenant: Tenant, kind: Annotated[Optional[str], typer.Option(help="Only this kind.")] = None,
              home: Home = DEFAULT_HOME) -> None:
    """The tenant's registered form versions, one JSON line each."""
    with open_services(home) as services:
        services.tenants.get(tenant)
        for view in services.contract_forms.list(tenant, kind):
            emit(view.as_json())


@app.command("show")
def form_show(form_id: Annotated[str, typer.Argument(metavar="ID")], tenant: Tenant,
              home: Home = DEFAULT_HOME) -> None:
    """One registered form version."""
    with open_services(home) as services:
        emit(services.contract_forms.get(tenant, form_id).as_json())
