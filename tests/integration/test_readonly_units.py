"""Read-only units of work (issue 17, fewer round trips): on PostgreSQL they send no BEGIN and no COMMIT, and
a read-only unit that tries to write is refused before anything is written, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from registry.models.shared import RateBucketRow
from registry.repositories.transaction import ReadOnlyUnitWrote

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc)


def test_a_read_only_unit_reads_what_was_committed_and_on_postgresql_begins_no_transaction(services) -> None:
    with services.registry.transaction() as tx:
        tx.audit.append(at=NOW, actor="test", action="test.readonly_read", subject="one")
    with services.registry.transaction(readonly=True) as tx:
        assert [entry.subject for entry in tx.audit.all_of("test.readonly_read")] == ["one"]
        assert tx.audit.all_of("test.nothing") == []
        driver = tx.connection.connection.driver_connection
        if services.database.dialect == "postgresql":
            import psycopg

            # autocommit: after two reads the server holds no transaction open, so no BEGIN went and no COMMIT will
            assert driver.autocommit and driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        else:
            assert driver.in_transaction   # SQLite: one deferred transaction, one snapshot for the block
    with services.registry.transaction() as tx:   # a writing unit on the same pooled connection: a transaction
        tx.audit.all_of("test.readonly_read")
        driver = tx.connection.connection.driver_connection
        if services.database.dialect == "postgresql":
            assert not driver.autocommit and driver.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS


def test_a_read_only_unit_that_writes_is_refused_and_writes_nothing(services) -> None:
    with pytest.raises(ReadOnlyUnitWrote):
        with services.registry.transaction(readonly=True) as tx:
            tx.session.add(RateBucketRow(bucket="readonly", key="k", tat=1.0))
            tx.audit.all_of("test.anything")   # a query: the session would flush first
    with pytest.raises(ReadOnlyUnitWrote):
        with services.registry.transaction(readonly=True) as tx:
            tx.audit.append(at=NOW, actor="test", action="test.readonly_write", subject="nothing")
    with services.registry.transaction(readonly=True) as tx:
        assert tx.session.execute(select(RateBucketRow).where(RateBucketRow.bucket == "readonly")).first() is None
        assert tx.audit.all_of("test.readonly_write") == []


def test_a_counter_advances_by_one_statement_committed_at_once(services, monkeypatch) -> None:
    """The TSA's serials (Registry.advance): unique and committed as they are handed out; on PostgreSQL, once
    the counter exists, with no BEGIN and no COMMIT around its one UPDATE ... RETURNING."""
    commands: list[bytes] = []
    if services.database.dialect == "postgresql":
        import psycopg._connection_base as base

        sent = base.BaseConnection._exec_command

        def counted(self, command, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            commands.append(bytes(command) if isinstance(command, (bytes, bytearray)) else str(command).encode())
            return sent(self, command, *args, **kwargs)

        monkeypatch.setattr(base.BaseConnection, "_exec_command", counted)
    assert services.registry.advance("test.counter") == 1   # made: a unit of work of its own
    commands.clear()
    assert [services.registry.advance("test.counter") for _ in range(3)] == [2, 3, 4]
    assert not [c for c in commands if c.startswith((b"BEGIN", b"COMMIT"))]
    with services.registry.transaction() as tx:   # committed: a unit of work on another connection goes on
        assert tx.sequences.next("test.counter") == 5
