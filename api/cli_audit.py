"""``qoltanba audit``: check the audit log's chain and signed checkpoints, or sign one now (issue 8).

Registered on ``api.cli`` (imported at its end).
"""

from __future__ import annotations

import json

import typer

from api.cli import DEFAULT_HOME, ActorOpt, Home, _emit, _group, _services

audit_app = _group("audit", "The audit log: verify its hash chain and signed checkpoints, sign a checkpoint.")


@audit_app.command("verify")
def audit_verify(json_out: bool = typer.Option(False, "--json", help="The full report as JSON."),
                 home: Home = DEFAULT_HOME) -> None:
    """Exit 0 when the log is intact, 1 naming the first entry changed, removed or reordered."""
    with _services(home) as services:
        report = services.audit_checkpoints.verify()
    if json_out:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False))
    elif report.intact:
        typer.echo(f"audit log intact: {report.entries} entries, {report.checkpoints} signed checkpoints")
    else:
        for finding in report.findings:
            typer.echo(f"entry {finding.entry_id}: {finding.problem}")
    raise typer.Exit(0 if report.intact else 1)


@audit_app.command("checkpoint")
def audit_checkpoint(actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Sign and time-stamp the chain's current end (nothing when no entry was added since the last one)."""
    with _services(home) as services:
        row = services.audit_checkpoints.checkpoint(actor=actor)
    _emit({"checkpoint": row.id, "last_entry": row.last_entry_id, "last_hash": row.last_hash} if row
          else {"checkpoint": None, "reason": "no entry since the last checkpoint"})
