"""The embedded home's write path: one kept SQLite connection, checkpoints every 10 000 pages (issue 21, issue.py).

``Database.connect`` hands a writing unit of work the one connection it
keeps out of the pool when no other holds it; everything else (read-only,
nested, concurrent units of work, and every one on PostgreSQL) uses the pool
as before. These tests hold it to what the pool gave: a failed unit of work
leaves nothing and the next one works, concurrent writers all land, and
``dispose`` closes it. The WAL is copied back into the database every
``WAL_CHECKPOINT_PAGES`` pages, not SQLite's 1000.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import sqlite3
import threading
import weakref

import pytest
from sqlalchemy import text

from registry import Database, Registry

AT = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def registry(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'registry.db'}")
    database.upgrade()
    yield Registry(database)
    database.dispose()


def _driver(tx) -> object:  # noqa: ANN001 - a RegistryTransaction
    return tx.connection.connection.driver_connection


def _entries(registry: Registry) -> list[str]:
    with registry.transaction(readonly=True) as tx:
        return [row.subject for row in tx.audit.entries()]


def test_writing_units_of_work_reuse_one_kept_connection_and_read_only_ones_do_not(registry):
    with registry.transaction() as tx:
        first = _driver(tx)
        tx.audit.append(at=AT, actor="test", action="test.kept", subject="one")
    # Not checked back in: the pool counts it out between units of work.
    assert registry.database.engine.pool.checkedout() == 1
    with registry.transaction() as tx:
        assert _driver(tx) is first
        tx.audit.append(at=AT, actor="test", action="test.kept", subject="two")
    with registry.transaction(readonly=True) as tx:
        assert _driver(tx) is not first
        # Deferred BEGIN (read-only option): no write lock taken, the chain reads back whole.
        assert tx.connection.get_execution_options().get("qoltanba_readonly") is True
        assert tx.audit.verify() is None
    with registry.transaction() as tx:
        assert _driver(tx) is first
        assert not tx.connection.get_execution_options().get("qoltanba_readonly", False)
    assert _entries(registry) == ["one", "two"]


def test_a_failed_unit_of_work_on_the_kept_connection_leaves_nothing_and_the_next_one_works(registry):
    with pytest.raises(RuntimeError):
        with registry.transaction() as tx:
            tx.audit.append(at=AT, actor="test", action="test.kept", subject="rolled back")
            raise RuntimeError("the caller fails after writing")
    with registry.transaction() as tx:
        tx.audit.append(at=AT, actor="test", action="test.kept", subject="kept")
    assert _entries(registry) == ["kept"]
    with registry.transaction(readonly=True) as tx:
        assert tx.audit.verify() is None
        assert tx.audit.head()[0] == 1


def test_a_unit_of_work_inside_another_takes_a_pooled_connection(registry):
    with registry.transaction() as outer:
        outer.audit.append(at=AT, actor="test", action="test.kept", subject="outer")
        with registry.transaction(readonly=True) as inner:
            assert _driver(inner) is not _driver(outer)
            # The outer unit of work has not committed: its entry is not seen from another connection.
            assert inner.connection.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 0
    assert _entries(registry) == ["outer"]


def test_concurrent_writers_all_land_beside_the_kept_connection(registry):
    """Twenty threads write at once: one holds the kept connection at a time, the others use the pool."""
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def write(n: int) -> None:
        try:
            start.wait()
            for k in range(5):
                with registry.transaction() as tx:
                    tx.audit.append(at=AT, actor="test", action="test.kept", subject=f"{n}-{k}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(_entries(registry)) == sorted(f"{n}-{k}" for n in range(20) for k in range(5))
    with registry.transaction(readonly=True) as tx:
        assert tx.audit.verify() is None


def test_dispose_closes_the_kept_connection_and_the_next_unit_of_work_opens_another(registry):
    with registry.transaction() as tx:
        first = _driver(tx)
    registry.database.dispose()
    with pytest.raises(sqlite3.ProgrammingError):
        first.execute("SELECT 1")   # closed, not left open for the garbage collector
    with registry.transaction() as tx:
        assert _driver(tx) is not first
        tx.audit.append(at=AT, actor="test", action="test.kept", subject="after dispose")
    assert _entries(registry) == ["after dispose"]


def test_postgresql_units_of_work_come_from_the_pool(postgres_url):
    """On PostgreSQL nothing is kept: each unit of work is checked out (pinged when it sat idle) and checked in."""
    database = Database(postgres_url)
    database.upgrade()
    registry = Registry(database)
    try:
        with registry.transaction() as tx:
            tx.audit.append(at=AT, actor="test", action="test.kept", subject="pg")
            assert database.engine.pool.checkedout() == 1
        assert database.engine.pool.checkedout() == 0
        assert _entries(registry) == ["pg"]
    finally:
        database.dispose()


def test_postgresql_a_pooled_connection_the_server_closed_is_replaced_and_a_busy_one_is_not_pinged(postgres_url):
    """Issue 17: the ping only for a connection idle over IDLE_PING_SECONDS; one the server closed meanwhile (a
    restart, pg_terminate_backend) is replaced before the unit of work sees it, as pool_pre_ping did."""
    import time

    from sqlalchemy import event

    from registry.db import IDLE_PING_SECONDS

    database = Database(postgres_url)
    database.upgrade()
    registry = Registry(database)
    try:
        with registry.transaction() as tx:
            backend = tx.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        idle = []   # how long each connection had been idle when checked out (0: new); the ping's condition
        event.listen(database.engine.pool, "checkout",
                     lambda _c, record, _p: idle.append(time.monotonic() - record.info.get("idle_since", time.monotonic())))
        for n in range(5):   # busy: back-to-back units of work send no ping
            with registry.transaction() as tx:
                tx.audit.append(at=AT, actor="test", action="test.kept", subject=f"busy {n}")
        assert len(idle) == 5 and max(idle) < IDLE_PING_SECONDS
        with Database(postgres_url).engine.connect() as other:
            killed = other.execute(text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM "
                                        "pg_stat_activity WHERE datname = current_database() AND "
                                        "pid <> pg_backend_pid()")).scalar_one()
        assert killed >= 1   # every pooled connection of the registry is dead now
        time.sleep(IDLE_PING_SECONDS + 0.2)
        with registry.transaction() as tx:   # the dead connection was pinged, dropped and replaced
            tx.audit.append(at=AT, actor="test", action="test.kept", subject="after the server closed it")
            assert tx.session.execute(text("SELECT pg_backend_pid()")).scalar_one() != backend
        assert _entries(registry)[-1] == "after the server closed it"
    finally:
        database.dispose()


def test_sqlite_checkpoints_only_past_wal_checkpoint_pages(registry):
    """Pages stay in the WAL (no fsync, no copy) until WAL_CHECKPOINT_PAGES, not SQLite's 1000.

    A unit of work of ~1500 pages leaves the database file as it was; the
    next one that takes the WAL past the limit copies everything back.
    """
    from registry.db import WAL_CHECKPOINT_PAGES

    path = registry.database.engine.url.database
    with registry.transaction() as tx:
        assert tx.connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_CHECKPOINT_PAGES
        tx.connection.exec_driver_sql("CREATE TABLE filler (b BLOB)")
    before = os.path.getsize(path)
    with registry.transaction() as tx:
        tx.connection.exec_driver_sql("INSERT INTO filler VALUES (zeroblob(6000000))")   # ~1500 pages
    assert os.path.getsize(path) == before
    pages = WAL_CHECKPOINT_PAGES * 4096 // 6_000_000 + 1
    for _ in range(pages):
        with registry.transaction() as tx:
            tx.connection.exec_driver_sql("INSERT INTO filler VALUES (zeroblob(6000000))")
    assert os.path.getsize(path) > before + 6_000_000 * pages


def test_a_finished_unit_of_work_is_freed_without_the_cyclic_collector(registry):
    """The repositories a unit of work made point back at it; closing it drops them, so no cycle is left."""
    gc.collect()
    gc.disable()
    try:
        with registry.transaction() as tx:
            tx.audit.append(at=AT, actor="test", action="test.kept", subject="freed")
            assert tx.centres.status(1) is None
            gone = weakref.ref(tx)
        del tx
        assert gone() is None
    finally:
        gc.enable()
