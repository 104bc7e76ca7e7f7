"""Opening the registry database: engine, unit of work, schema migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API types
    # WAL lets readers (OCSP, lists) run beside the single writer; NORMAL
    # synchronisation in WAL mode is still durable against process crashes.
    # Autocommit at the driver, so that the "begin" listener below decides
    # how each transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:  # noqa: ANN001 - SQLAlchemy Connection
    # A deferred transaction that reads and then writes (the audit chain's
    # head, a serial check) fails with SQLITE_BUSY when another process
    # wrote in between; taking the write lock at BEGIN makes such a writer
    # wait its turn instead (busy_timeout).
    # Sent on the driver connection directly: this runs once per unit of
    # work, and SQLAlchemy's statement machinery would cost more than the BEGIN.
    # Read-only units of work (OCSP cache misses, CRL downloads) begin
    # deferred, so readers never queue behind each other for the write lock.
    readonly = connection.get_execution_options().get("qoltanba_readonly", False)
    connection.connection.driver_connection.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")


class Database:
    """One database, SQLite or PostgreSQL, with its sessions and migrations."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, echo=echo, future=True, pool_pre_ping=not url.startswith("sqlite"))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin_immediate)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        with self.engine.begin() as connection:
            cfg = self.alembic_config()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)

    def downgrade(self, revision: str) -> None:
        with self.engine.begin() as connection:
            cfg = self.alembic_config()
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, revision)

    def table_names(self) -> set[str]:
        return set(inspect(self.engine).get_table_names())

    def dispose(self) -> None:
        self.engine.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
