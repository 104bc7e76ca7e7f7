"""``qoltanba retention``: move certificates past their keeping period to the archive."""

from __future__ import annotations

from api.cli.common import DEFAULT_HOME, ActorOpt, Home, emit, group, open_services

app = group("Retention: move certificates past their keeping period to the archive.")


@app.command("run")
def retention_run(actor: ActorOpt = "retention", home: Home = DEFAULT_HOME) -> None:
    """Archive certificates 5 years (government: 10) after revocation or expiry; safe to run twice."""
    with open_services(home) as services:
        for result in services.retention.run(actor):
            emit(result.as_json())
