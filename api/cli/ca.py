"""``qoltanba ca``: the certification centres: chain, CA keys, stop (the last three wait for dual control)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from api.cli.common import DEFAULT_HOME, ActorOpt, Centre, Home, ask, group, open_services, pem
from ca.errors import InvalidInput

app = group("The certification centres.")


@app.command("chain")
def ca_chain(ca: Annotated[Centre, typer.Option("--ca", help="Certification centre.")],
             home: Home = DEFAULT_HOME) -> None:
    """The centre's chain as PEM, issuing CA first and root last."""
    with open_services(home) as services:
        typer.echo("".join(pem(cert) for cert in services.hierarchy.chain(ca.value)), nl=False)


@app.command("key-create")
def ca_key_create(ca: Annotated[Centre, typer.Option("--ca", help="The centre the key is for.")],
                  algorithm: Annotated[Optional[str], typer.Option(help="Default: the centre's.")] = None,
                  actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Ask for a new CA key pair in the key backend (runs when a second administrator approves)."""
    from ca.ceremony import CA_KEY_CREATION   # at run time (start-up, issue 21)

    with open_services(home) as services:
        params = {"centre": ca.value, **({"algorithm": algorithm} if algorithm else {})}
        ask(services, CA_KEY_CREATION, params, actor)


@app.command("key-retire")
def ca_key_retire(centre: Annotated[str, typer.Option("--centre", "--ca", help="The centre the key was made for.")],
                  handle: Annotated[str, typer.Option(help="The key's handle, as ca-key.create returned it.")],
                  actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Ask to destroy a CA key in the key backend (runs when a second administrator approves).

    Never the key the centre signs with: that is `ca stop`.
    """
    from ca.ceremony import CA_KEY_RETIREMENT   # at run time (start-up, issue 21)

    with open_services(home) as services:
        ask(services, CA_KEY_RETIREMENT, {"centre": centre, "handle": handle}, actor)


@app.command("stop")
def ca_stop(ca: Annotated[Centre, typer.Option("--ca", help="The centre that stops work.")],
            confirm: Annotated[bool, typer.Option("--yes", help="Confirm: every certificate it issued is "
                                                                "revoked.")] = False,
            actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Ask that the centre stop work, revoking every certificate it issued and its own; runs when a
    second administrator approves (``approvals approve``)."""
    from ca.revocation import CENTRE_STOP   # at run time (start-up, issue 21)

    with open_services(home) as services:
        if not confirm:
            raise InvalidInput("stopping a centre revokes every certificate it issued; add --yes to confirm")
        ask(services, CENTRE_STOP, {"centre": ca.value}, actor)
