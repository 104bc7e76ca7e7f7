"""``qoltanba apikey``: API keys (ca/access.py); the key is shown once, when it is made."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from api.cli.common import DEFAULT_HOME, ActorOpt, Home, emit, group, open_services

app = group("API keys.")


@app.command("create")
def apikey_create(name: Annotated[str, typer.Option(help="The actor's name.")],
                  role: Annotated[str, typer.Option(help="administrator, registrar, auditor, mfo or monitor.")],
                  tenant: Optional[str] = None, actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Create an API key; the key is shown this once only."""
    from ca.access import AccessService   # at run time (start-up, issue 21)

    with open_services(home) as services:
        new = AccessService(services.registry, services.clock).create_key(name, role, by=actor, tenant=tenant)
        emit({"name": new.actor.name, "role": new.actor.role.value, "key": new.key})
