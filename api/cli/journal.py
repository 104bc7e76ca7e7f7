"""``qoltanba journal``: the issuance and revocation journals as CSV (seed 004 appendices 3 and 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from api.cli.common import DEFAULT_HOME, Centre, CentreOpt, File, Home, code, group, open_services, text_out

app = group("The issuance journal.")


@app.command("export")
def journal_export(ca: CentreOpt = None,
                   out: Annotated[File, typer.Option(help="CSV file; default stdout.")] = None,
                   home: Home = DEFAULT_HOME) -> None:
    """The issuance journal as CSV (seed 004 appendix 3 columns)."""
    with open_services(home) as services:
        text_out(services.catalogue.journal_csv(code(ca)), out)


@app.command("revocations")
def journal_revocations(ca: Annotated[Centre, typer.Option("--ca")] = Centre("government"),  # type: ignore[assignment]
                        out: Annotated[Optional[Path], typer.Option(help="CSV file; default stdout.")] = None,
                        home: Home = DEFAULT_HOME) -> None:
    """The revocation journal as CSV (seed 004 appendix 5 columns, plus the grounds)."""
    with open_services(home) as services:
        text_out(services.revocations.journal_csv(ca.value), out)
