"""Opening the registry database: engine, unit of work, schema migrations."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, exc, inspect, text

if TYPE_CHECKING:   # alembic is imported when a migration runs, not by every process that opens the registry
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
WAL_CHECKPOINT_PAGES = 10_000   # ~40 MiB of WAL at 4 KiB pages; benchmarks/RESULTS.md, issue.py


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
    # Checkpoint (copy the WAL back into the database, fsync both) every
    # WAL_CHECKPOINT_PAGES pages instead of SQLite's 1000: each checkpoint
    # costs the committing writer two fsyncs, 2-90 ms on a busy disk, once
    # per ~120 issuances at 1000 pages; and pages written many times between
    # two checkpoints (the audit head, the tables' last leaves) are copied once.
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
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


def _private_sqlite_file(database: str | None) -> None:
    """The registry holds personal data: its SQLite file is its owner's alone (0600), and so are -wal and -shm.

    Created here, before SQLite opens it, with mode 0600 (whatever the
    umask), because SQLite creates a file with 0644 and gives its -wal and
    -shm files the database file's mode. A file an older version left
    readable is tightened at the next start (issue 18, finding 8).
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return   # SQLite will say so when it connects
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        if file.exists() and file.stat().st_uid == os.getuid() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


# A pooled connection unused for longer than this is pinged before it is handed out (issue 17).
IDLE_PING_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pessimistic disconnect handling, only for connections that sat idle.

    ``pool_pre_ping`` pinged on every checkout: a round trip per unit of work
    (23 of the 122 statements a confirm sent, benchmarks/probes/flow_queries.py).
    A connection checked in less than ``IDLE_PING_SECONDS`` ago was working
    then; a server restart takes longer than that, so what a restart closed
    has been idle longer and is still pinged. A failed ping raises
    ``DisconnectionError``: the pool drops that connection and checks out
    another (SQLAlchemy's "custom pessimistic ping" pattern).
    """
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: object, record) -> None:  # noqa: ANN001 - a pool record
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: object, record, _proxy: object) -> None:  # noqa: ANN001
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return   # new (just connected) or busy a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:   # noqa: BLE001 - any failure: this connection is gone
            raise exc.DisconnectionError() from error


class Database:
    """One database, SQLite or PostgreSQL, with its sessions and migrations."""

    def __init__(self, url: str, *, echo: bool = False, sealer: object | None = None) -> None:
        self.url = url
        # The tenants' envelope (LOAN-15, registry.sealing.Sealer), set by the wiring; migrations 0018 use it.
        self.sealer = sealer
        self.engine: Engine = create_engine(url, echo=echo, future=True)
        if self.engine.dialect.name != "sqlite":
            _ping_when_idle(self.engine)
        if self.engine.dialect.name == "sqlite":
            _private_sqlite_file(self.engine.url.database)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin_immediate)
        # SQLite (the embedded home): one connection is kept out of the pool
        # for writing units of work; see connect().
        self._keeps = self.engine.dialect.name == "sqlite"
        self._kept: Connection | None = None
        self._kept_free = threading.Lock()
        self._exclusive_here: dict[str, threading.Lock] = {}

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def connect(self, *, write: bool = True) -> Iterator[Connection]:
        """A connection for one unit of work, returned when the block ends.

        On SQLite a writing unit of work gets the kept connection when no
        other holds it: checking one out of SQLAlchemy's pool, resetting it
        and checking it back in cost about what a certificate's three inserts
        cost (~19 µs of an empty unit of work's ~30; benchmarks/RESULTS.md, issue.py). It is one connection, not
        one per thread, so the pool's limit still holds for every thread; a
        nested or concurrent unit of work (and every read-only one, whose
        options differ) takes one from the pool as before. PostgreSQL always
        uses the pool, whose ping of an idle connection replaces one the server closed.
        """
        if write and self._keeps and self._kept_free.acquire(blocking=False):
            try:
                kept = self._kept
                if kept is None or kept.closed:
                    kept = self._kept = self.engine.connect()
                yield kept
            finally:
                if self._kept is not None and self._kept.in_transaction():
                    self._kept.rollback()   # the caller's block left early: nothing of it stays
                self._kept_free.release()
            return
        with self.engine.connect() as connection:
            yield connection

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Held by one holder at a time among every process on this database, whatever they are doing else.

        Not a write lock: other units of work go on while it is held, so a holder may take its time (sign a
        large CRL) outside any transaction. On PostgreSQL a session advisory lock on a connection of its own
        (the server releases it if the process dies); on SQLite an ``flock`` on a file beside the database,
        which every process opening that file shares (the kernel releases it if the process dies); an
        in-memory database is one process's alone, so a lock of that process's.
        """
        # Threads of this process queue here first: at most one of them holds a connection for the lock, so
        # waiters never use up the pool the holder needs for its own units of work.
        with self._exclusive_here.setdefault(name, threading.Lock()):
            with self._exclusive_between_processes(name):
                yield

    @contextlib.contextmanager
    def _exclusive_between_processes(self, name: str) -> Iterator[None]:
        if self.dialect == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            with self.engine.connect() as connection:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                try:
                    yield
                finally:
                    try:
                        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    except exc.DBAPIError:
                        connection.invalidate()   # the connection is gone, and the server released its lock
            return
        database = self.engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            yield   # this process's alone: its lock above is the whole lock
            return
        path = Path(database)
        readable = re.sub(r"[^A-Za-z0-9_-]", "-", name)   # registry.db.crl-publication-national.lock
        lock = path.with_name(f"{path.name}.{readable}.lock")
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)   # closing releases the lock

    def alembic_config(self) -> Config:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        with self.engine.begin() as connection:
            cfg = self.alembic_config()
            cfg.attributes["connection"] = connection
            cfg.attributes["sealer"] = self.sealer
            from alembic import command

            command.upgrade(cfg, revision)
        self._forget_keys()

    def downgrade(self, revision: str) -> None:
        with self.engine.begin() as connection:
            cfg = self.alembic_config()
            cfg.attributes["connection"] = connection
            cfg.attributes["sealer"] = self.sealer
            from alembic import command

            command.downgrade(cfg, revision)
        self._forget_keys()

    def _forget_keys(self) -> None:
        """A migration may drop and make tenant keys again: the sealer's cached ones are no longer theirs."""
        forget = getattr(self.sealer, "forget_all", None)
        if forget is not None:
            forget()

    def table_names(self) -> set[str]:
        return set(inspect(self.engine).get_table_names())

    def dispose(self) -> None:
        with self._kept_free:
            if self._kept is not None:
                self._kept.close()
                self._kept = None
        self.engine.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
