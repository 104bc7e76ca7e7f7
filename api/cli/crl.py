"""``qoltanba crl``: write a centre's current CRL, full or delta (issuing one first when none is current).

The command line runs on the CA's own host with its keys, so it acts with
the administrator's authority, like ``init``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import DEFAULT_HOME, Centre, Home, commands, emit, open_services, writable, write

app = commands()


@app.command("crl")
def crl(ca: Annotated[Centre, typer.Option("--ca", help="Certification centre.")],
        out: Annotated[Path, typer.Option(help="Where to write the CRL (DER).")],
        delta: Annotated[bool, typer.Option("--delta", help="The delta CRL instead of the full one.")] = False,
        new: Annotated[bool, typer.Option("--new", help="Issue fresh CRLs first.")] = False,
        home: Home = DEFAULT_HOME) -> None:
    """Write the centre's current CRL (issuing one first if none is current)."""
    from ca.publication import DELTA, FULL   # at run time (start-up, issue 21)

    with open_services(home) as services:
        writable(out)
        kind = DELTA if delta else FULL
        if new or services.publisher.stale(ca.value):
            services.publisher.publish(ca.value, actor="cli")
        published = services.publisher.latest(ca.value, kind)
        assert published is not None  # just published
        write(out, published.der)
        emit({**published.as_json(), "out": out})
