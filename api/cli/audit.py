"""``qoltanba audit``: check the audit trail, or sign a checkpoint now (issues 8 and 18)."""

from __future__ import annotations

import json

import typer

from api.cli.common import DEFAULT_HOME, ActorOpt, Home, emit, group, open_services

app = group("The audit log: verify its hash chain, checkpoints and export, sign a checkpoint.")


@app.command("verify")
def audit_verify(json_out: bool = typer.Option(False, "--json", help="The full report as JSON."),
                 home: Home = DEFAULT_HOME) -> None:
    """Exit 0 when the trail is intact; 1 with one line naming the first thing changed, removed or missing.

    Checks the hash chain, each checkpoint against the certificates pinned at init (the anchor file),
    the bound on unsealed entries, and the database against the exported checkpoints.
    """
    with open_services(home, seal=False) as services:
        report = services.audit_checkpoints.verify()
    if json_out:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False))
    elif report.intact:
        typer.echo(f"audit log intact: {report.entries} entries, {report.checkpoints} signed checkpoints, "
                   f"{report.exported} exported")
    else:
        more = len(report.findings) - 1
        typer.echo(report.findings[0].line() + (f" (and {more} more finding{'s' if more > 1 else ''}; "
                                                "--json lists all)" if more else ""))
    raise typer.Exit(0 if report.intact else 1)


@app.command("checkpoint")
def audit_checkpoint(actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Sign, time-stamp and export the chain's current end (nothing when no entry was added since the last one)."""
    with open_services(home, seal=False) as services:
        row = services.audit_checkpoints.checkpoint(actor=actor)
    emit({"checkpoint": row.id, "last_entry": row.last_entry_id, "last_hash": row.last_hash} if row
          else {"checkpoint": None, "reason": "no entry since the last checkpoint"})
