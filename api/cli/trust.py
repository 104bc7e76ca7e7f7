"""``qoltanba trust``: the verification trust store (issue 6): our root plus imported anchors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import DEFAULT_HOME, ActorOpt, Home, emit, group, open_services, read

app = group("The verification trust store: our root plus imported anchors.")


@app.command("list")
def trust_list(home: Home = DEFAULT_HOME) -> None:
    """Every trust anchor, one JSON line each: our root, then the imported ones."""
    with open_services(home) as services:
        for anchor in services.trust_store.list():
            emit(anchor.as_json())


@app.command("add")
def trust_add(pem: Annotated[Path, typer.Option(help="CA certificate(s), PEM (a bundle is fine) or DER.")],
              label: Annotated[str, typer.Option(help="What it is, e.g. 'NCA RK RSA root'.")],
              actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Import CA certificates as trust anchors for verification."""
    with open_services(home) as services:
        for anchor in services.trust_store.add(read(pem, "certificate"), label, actor):
            emit(anchor.as_json())


@app.command("remove")
def trust_remove(sha256: Annotated[str, typer.Argument(help="The anchor's SHA-256 fingerprint (hex).")],
                 actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Remove an imported trust anchor."""
    with open_services(home) as services:
        emit(services.trust_store.remove(sha256, actor).as_json())
