"""``qoltanba users``: the centre's people who log in to the web console (issue 8).

The password comes from a
file, never the command line (which other users of the host can read in the
process list); the TOTP provisioning URI is printed once, for the person to
scan into an authenticator app, and cannot be shown again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import DEFAULT_HOME, ActorOpt, Home, emit, group, open_services, read
from ca.errors import InvalidInput

app = group("People of the centre who log in to the web console (password + TOTP).")


@app.command("add")
def users_add(name: Annotated[str, typer.Argument(help="The login name.")],
              role: Annotated[str, typer.Option(help="administrator, registrar or auditor.")],
              password_file: Annotated[Path, typer.Option(help="A file holding the password (one line).")],
              actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Create a console user; prints the TOTP provisioning URI this once only."""
    with open_services(home) as services:
        raw = read(password_file, "password")
        try:
            password = raw.rstrip(b"\r\n").decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"the password file {password_file} is not UTF-8 text") from None
        new = services.people.add(name, role, password, by=actor)
        emit({"name": new.name, "role": new.role, "totp_uri": new.provisioning_uri,
               "note": "scan the URI into an authenticator app now; it is not shown again"})


@app.command("list")
def users_list(home: Home = DEFAULT_HOME) -> None:
    """Console users, one JSON line each (never a secret)."""
    with open_services(home) as services:
        for person in services.people.list():
            emit(person)


@app.command("unlock")
def users_unlock(name: str, actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Lift a lockout before it lapses."""
    with open_services(home) as services:
        emit(services.people.unlock(name, by=actor))


@app.command("deactivate")
def users_deactivate(name: str, actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """The user may no longer log in; open sessions end now."""
    with open_services(home) as services:
        emit(services.people.deactivate(name, by=actor))
