"""The audit chain's head moves in one UPDATE from the head the connection expects (issue 21, issue.py).

``AuditLog.append`` tries the head its connection's last append left; the
database moves it only if it still is that head. Whatever else moved the
head meanwhile (another connection, a rolled-back unit of work, an edit),
the append falls back to reading the head under its lock, so the chain is
the one it always was. Both databases.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from registry import Database, Registry

AT = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


def _append(registry: Registry, subject: str) -> int:
    with registry.transaction() as tx:
        return tx.audit.append_now(at=AT, actor="test", action="test.head", subject=subject)


def _chain(registry: Registry) -> tuple[list[tuple[int, str]], object, tuple[int, str]]:
    with registry.transaction(readonly=True) as tx:
        return [(row.id, row.subject) for row in tx.audit.entries()], tx.audit.verify(), tx.audit.head()


def test_the_second_append_on_a_connection_reads_the_head_once(database):
    """Audit chain: after the first append, an append is one UPDATE of the head (no SELECT … FOR UPDATE) and an INSERT."""
    registry = Registry(database)
    _append(registry, "first")
    with registry.transaction() as tx:
        if database.dialect == "sqlite":
            statements: list[str] = []
            driver = tx.connection.connection.driver_connection
            driver.set_trace_callback(statements.append)
            try:
                tx.audit.append_now(at=AT, actor="test", action="test.head", subject="second")
            finally:
                driver.set_trace_callback(None)
            assert [s.split(" WHERE")[0] for s in statements if "audit_head" in s] == [
                "UPDATE audit_head SET last_id = 2, last_hash = '%s'" % tx.audit.head()[1]]
        else:
            # The backend's counts not yet flushed to the shared statistics (this and recent
            # transactions): the head row is looked up once by the append (the UPDATE), not twice.
            before = _head_counts(tx)
            tx.audit.append_now(at=AT, actor="test", action="test.head", subject="second")
            after = _head_counts(tx)
            assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
    entries, broken, head = _chain(registry)
    assert entries == [(1, "first"), (2, "second")] and broken is None and head[0] == 2


def _head_counts(tx) -> tuple[int, int]:  # noqa: ANN001 - a RegistryTransaction
    scans, updates = tx.connection.execute(text(
        "SELECT seq_scan + coalesce(idx_scan, 0), n_tup_upd FROM pg_stat_xact_user_tables "
        "WHERE relname = 'audit_head'")).one()
    return scans, updates


def test_appends_from_other_connections_and_rolled_back_ones_keep_one_chain(database):
    """Audit chain: a stale expected head (moved elsewhere, or never committed) falls back to the locked read."""
    ours, theirs = Registry(database), Registry(Database(database.url))
    try:
        _append(ours, "ours 1")
        _append(theirs, "theirs 1")               # moves the head behind our connection's back
        _append(ours, "ours 2")
        with pytest.raises(RuntimeError):
            with ours.transaction() as tx:
                tx.audit.append_now(at=AT, actor="test", action="test.head", subject="rolled back")
                raise RuntimeError("the unit of work fails after the append")
        _append(ours, "ours 3")                   # the head it expects was never committed
        entries, broken, head = _chain(ours)
        assert entries == [(1, "ours 1"), (2, "theirs 1"), (3, "ours 2"), (4, "ours 3")]
        assert broken is None and head[0] == 4
    finally:
        theirs.database.dispose()


def test_an_edited_head_is_followed_as_before(database):
    """Audit chain: the head row rewritten (tampering, or a repair) is where the next entry links, as before."""
    registry = Registry(database)
    for n in range(3):
        _append(registry, f"entry {n}")
    with registry.transaction() as tx:
        first = tx.audit.entry(1)
        tx.connection.execute(text("UPDATE audit_head SET last_id = 1, last_hash = :h WHERE id = 1"),
                              {"h": first.entry_hash})
        tx.connection.execute(text("DELETE FROM audit_log WHERE id > 1"))
    _append(registry, "after the edit")
    entries, broken, head = _chain(registry)
    assert entries == [(1, "entry 0"), (2, "after the edit")]
    assert broken is None and head[0] == 2
