"""``qoltanba signing-policy``: the signing policy in force; a change waits for a second administrator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import DEFAULT_HOME, ActorOpt, Home, ask, emit, group, open_services, read_json

app = group("The signing policy in force (changes need a second administrator).")


@app.command("set")
def policy_set(file: Annotated[Path, typer.Option("--file", help="The new signing policy (JSON).")],
               actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Ask to put a new signing policy in force (runs when a second administrator approves)."""
    from signing.policies.change import SIGNING_POLICY_CHANGE   # at run time (start-up, issue 21)

    with open_services(home) as services:
        ask(services, SIGNING_POLICY_CHANGE, {"policy": read_json(file, "signing policy")}, actor)


@app.command("show")
def policy_show(home: Home = DEFAULT_HOME) -> None:
    """The signing policy in force and its fingerprint."""
    with open_services(home) as services:
        emit({"fingerprint": services.signing_policies.fingerprint, "policy": services.signing_policies.as_json()})
