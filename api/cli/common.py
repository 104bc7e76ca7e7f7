"""What every command group shares: its options, the services for one command, JSON out, files, exit codes.

Exit codes: 0 success; 2 bad input (invalid, refused, conflict, forbidden,
unreadable file, bad settings); 1 not found, not initialised or anything
unexpected. A failure is one ``error:`` line on stderr (``fail``).

The services, the settings and pydantic are imported inside the functions
that use them, for start-up speed (issue 21, item 7): a command that only
reads a file (``cert verify``) never imports the registry.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer

from ca.errors import InvalidInput, NotInitialised, QoltanbaError
from ca.policy import CENTRES

if TYPE_CHECKING:   # types only; the commands import them when they run
    from cryptography import x509
    from pydantic import ValidationError

    from api.wiring import Services

# A wrong --actor for dual control (forbidden) is bad input too (issue 8).
BAD_INPUT_CODES = frozenset({"invalid-input", "refused", "conflict", "forbidden", "dual-control-required",
                             "tenant-suspended", "seal-unusable"})
EXIT_BAD_INPUT, EXIT_FAILED = 2, 1

Centre = enum.Enum("Centre", {code.upper(): code for code in CENTRES}, type=str)  # type: ignore[misc]

# Options shared by the commands.
DEFAULT_HOME = Path(".qoltanba")
Home = Annotated[Path, typer.Option("--home", envvar="QOLTANBA_HOME", help="The service's home directory.")]
CentreOpt = Annotated[Optional[Centre], typer.Option("--ca", help="Certification centre.")]
ActorOpt = Annotated[str, typer.Option("--actor", help="Who acts (recorded in the journal and audit).")]
Id = Annotated[int, typer.Argument(metavar="ID", help="Application number.")]
Limit = Annotated[int, typer.Option(min=1, max=10000)]
Bin = Annotated[Optional[str], typer.Option("--bin")]
File = Optional[Path]


def group(help: str) -> typer.Typer:
    """A command group's app (plain click messages: a usage error is a few lines of text, not a drawn box)."""
    return typer.Typer(no_args_is_help=True, rich_markup_mode=None, add_completion=False, help=help)


def commands() -> typer.Typer:
    """The app of a module whose commands the root lists on their own (``init``, ``sign``, ``verify`` …)."""
    return typer.Typer(rich_markup_mode=None, add_completion=False)


# -- failures ----------------------------------------------------------------------

def fail(code: int, message: str) -> NoReturn:
    typer.echo("error: " + " ".join(message.split()), err=True)
    raise typer.Exit(code)


def settings_reason(error: "ValidationError") -> str:
    return "invalid settings: " + "; ".join(
        (f"QOLTANBA_{'_'.join(map(str, e['loc'])).upper()}: " if e["loc"] else "") + e["msg"]
        for e in error.errors())


# -- the services of one command -----------------------------------------------------

@contextlib.contextmanager
def open_services(home: Path, *, migrated: bool = True, seal: bool = True) -> Iterator["Services"]:
    """Services for one command; a QoltanbaError becomes an ``error:`` line and an exit code.

    ``migrated``: the command needs the registry's tables (all but init and serve).
    ``seal``: first make an audit checkpoint that fell due while no serving process ran (issue 18), so
    what the command writes starts a new run of entries; ``audit verify`` only reads.
    """
    # Imported here, not at the top: the wiring imports the whole application (start-up, issue 21).
    from pydantic import ValidationError

    from api.settings import Settings
    from api.wiring import Services

    try:
        settings = Settings(home=home)
    except ValidationError as error:
        fail(EXIT_BAD_INPUT, settings_reason(error))
    try:
        services = Services.build(settings)
    except OSError as error:
        fail(EXIT_BAD_INPUT, f"cannot use home {home}: {error.strerror or error}")
    try:
        if migrated and "centres" not in services.database.table_names():
            raise NotInitialised()
        if migrated and seal:
            seal_due(services)
        yield services
    except QoltanbaError as error:
        fail(EXIT_BAD_INPUT if error.code in BAD_INPUT_CODES else EXIT_FAILED, str(error))
    finally:
        services.close()


def seal_due(services: "Services") -> None:
    try:
        services.audit_checkpoints.checkpoint_if_due(actor="cli")
    except (QoltanbaError, OSError) as error:
        typer.echo(f"warning: no audit checkpoint was made: {error}", err=True)


def ask(services: "Services", action: str, params: dict, actor: str) -> None:
    """Record a dual-controlled request (issue 8) and say how a second administrator approves it."""
    view = services.dual_control.request(action, params, actor,
                                         administrator=services.dual_control.is_administrator(actor))
    emit({**view.as_json(), "note": "pending: a second administrator runs `qoltanba approvals approve "
                                    f"{view.id}`"})


# -- output ------------------------------------------------------------------------------

def _json_default(value: object) -> object:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def emit(value: object) -> None:
    """One JSON line on stdout."""
    typer.echo(json.dumps(value, default=_json_default, ensure_ascii=False))


def pem(cert: "x509.Certificate") -> str:
    from cryptography.hazmat.primitives import serialization   # with the certificate, at run time

    return cert.public_bytes(serialization.Encoding.PEM).decode()


def code(centre: Optional[Centre]) -> str | None:
    return centre.value if centre is not None else None


def text_out(text: str, out: Path | None) -> None:
    """CSV and other text: to stdout, or atomically to ``out`` with a JSON line naming it."""
    if out is None:
        typer.echo(text, nl=False)
    else:
        writable(out)
        write(out, text.encode("utf-8"))
        emit({"out": out})


# -- files -------------------------------------------------------------------------------

def read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"cannot read the {what} file {path}: {error.strerror or error}") from error


def read_json(path: Path, what: str) -> object:
    try:
        return json.loads(read(path, what))
    except ValueError as error:
        raise InvalidInput(f"the {what} file {path} is not JSON: {error}") from error


def writable(path: Path, *, fresh: bool = False) -> None:
    """Refuse before anything is issued if an output file could not be written."""
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        raise InvalidInput(f"cannot write {path}: {path.parent} is not a writable directory")
    if fresh and path.exists():
        raise InvalidInput(f"{path} exists already; it may hold a private key, so it is not overwritten")


def write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write via a temporary file in the same directory, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


__all__ = ["BAD_INPUT_CODES", "DEFAULT_HOME", "EXIT_BAD_INPUT", "EXIT_FAILED", "ActorOpt", "Bin", "Centre",
           "CentreOpt", "File", "Home", "Id", "Limit", "ask", "code", "commands", "emit", "fail", "group", "pem",
           "open_services", "read", "read_json", "settings_reason", "seal_due", "text_out", "writable", "write"]
