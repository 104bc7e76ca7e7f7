"""The registry database copied out and back with the databases' own tools (issue 17, item 4).

- SQLite: the online backup API (``sqlite3.Connection.backup``, SQLite's
  ``sqlite3_backup_*``): a consistent copy of a live database, WAL included,
  without stopping the service.
- PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` (the server's
  major version's, or a newer one). The rows are counted in a REPEATABLE
  READ transaction whose snapshot ``pg_dump --snapshot`` then dumps, so the
  counts in the manifest are exactly the dump's, however busy the service.

``dump`` returns what it copied (``DumpInfo``: the kind, the Alembic
revision and each table's row count); ``restore`` refuses a database that
already has tables (a restore goes onto an empty host, never over a live
registry); ``row_counts`` counts a database's tables, to compare after a
restore.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url

from registry.db import _private_sqlite_file

PG_TOOLS_ENV = "QOLTANBA_PG_BINDIR"


class BackupError(Exception):
    """The copy could not be made or put back; the message says why, in one line."""


@dataclass(frozen=True)
class DumpInfo:
    kind: str                      # "sqlite" or "postgresql"
    revision: str | None           # Alembic's version_num at the time of the copy
    rows: dict[str, int] = field(default_factory=dict)


def kind_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"no backup for a {backend} database")
    return backend


def pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: in QOLTANBA_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else PATH."""
    configured = os.environ.get(PG_TOOLS_ENV)
    candidates = [Path(configured)] if configured else []
    versioned = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                       key=lambda p: [int(n) for n in re.findall(r"\d+", p)], reverse=True)
    candidates += [Path(p) for p in versioned]
    for directory in candidates:
        if os.access(directory / name, os.X_OK):
            return str(directory / name)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install PostgreSQL's client tools or set {PG_TOOLS_ENV}")
    return found


def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL tools; the password goes in the environment, never the command."""
    parsed = make_url(url)
    args = []
    for flag, value in (("--host", parsed.host), ("--port", parsed.port), ("--username", parsed.username)):
        if value:
            args += [flag, str(value)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return [*args, "--dbname", parsed.database or ""], env


def _revision(connection: Connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _counts(connection: Connection) -> dict[str, int]:
    preparer = connection.dialect.identifier_preparer
    return {table: int(connection.execute(text(f"SELECT count(*) FROM {preparer.quote(table)}")).scalar() or 0)
            for table in sorted(inspect(connection).get_table_names())}


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return _counts(connection)
    finally:
        engine.dispose()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def dump(url: str, target: Path) -> DumpInfo:
    """Copy the database at ``url`` into the file ``target``."""
    if kind_of(url) == "sqlite":
        source_path = _sqlite_path(url)
        if not source_path.is_file():
            raise BackupError(f"no SQLite database at {source_path}")
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
        with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        copy_url = f"sqlite:///{target}"
        engine = create_engine(copy_url)
        try:
            with engine.connect() as connection:
                return DumpInfo("sqlite", _revision(connection), _counts(connection))
        finally:
            engine.dispose()
    engine = create_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            with connection.begin():
                snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
                info = DumpInfo("postgresql", _revision(connection), _counts(connection))
                args, env = _libpq(url)
                _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                      f"--snapshot={snapshot}", "--file", str(target), *args], env, "pg_dump")
        return info
    finally:
        engine.dispose()


def restore(url: str, source: Path, kind: str) -> None:
    """Put a copy made by ``dump`` into the empty database at ``url``."""
    if kind != kind_of(url):
        raise BackupError(f"the archive holds a {kind} database; QOLTANBA_DATABASE_URL names a {kind_of(url)} one")
    tables = table_names(url)
    if tables:
        raise BackupError(f"the target database is not empty ({len(tables)} tables): restore onto an empty one")
    if kind == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _private_sqlite_file(str(target))
        with sqlite3.connect(source) as copy, sqlite3.connect(target) as database:
            copy.backup(database)
        return
    args, env = _libpq(url)
    _run([pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          *args, str(source)], env, "pg_restore")


def table_names(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(inspect(connection).get_table_names())
    except Exception as error:  # noqa: BLE001 - an unreachable target is a reason, said in one line
        raise BackupError(f"cannot open the target database: {type(error).__name__}") from error
    finally:
        engine.dispose()


def _run(argv: list[str], env: dict[str, str], tool: str) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{tool} failed (exit {done.returncode}): {last}")


__all__ = ["BackupError", "DumpInfo", "PG_TOOLS_ENV", "dump", "kind_of", "pg_tool", "restore", "row_counts",
           "table_names"]
