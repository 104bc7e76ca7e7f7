"""The audit log catches edits, deletions and reordering made directly in the database (issue 8).

Each test tampers with rows by SQL, as someone with database access would,
and `AuditCheckpoints.verify` (what `qoltanba audit verify` runs) must name
the first entry concerned. Signed, time-stamped checkpoints catch even a
chain whose hashes were all recomputed after the edit.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import text

from registry.audit import entry_digest
from tests.support import factories as f


def _populate(services, count: int = 6) -> None:
    for _ in range(count):
        f.issue_person(services)


def _sql(services, statement: str, **params) -> None:
    with services.database.engine.begin() as connection:
        connection.execute(text(statement), params)


def _rows(services) -> list:
    with services.database.engine.begin() as connection:
        return list(connection.execute(text("SELECT id, at, actor, action, subject, details, prev_hash, entry_hash "
                                            "FROM audit_log ORDER BY id")))


def _details(value):
    return value if isinstance(value, dict) else json.loads(value)


def _rehash_from(services, start: int) -> None:
    """What a careful attacker does after an edit: recompute every hash after it, and the head."""
    rows = _rows(services)
    prev = rows[start - 2].entry_hash if start > 1 else "0" * 64
    for row in rows[start - 1:]:
        at = row.at if isinstance(row.at, dt.datetime) else dt.datetime.fromisoformat(str(row.at))
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.timezone.utc)
        digest = entry_digest(prev, row.id, at, row.actor, row.action, row.subject, _details(row.details))
        _sql(services, "UPDATE audit_log SET prev_hash = :p, entry_hash = :h WHERE id = :i", p=prev, h=digest, i=row.id)
        prev = digest
    _sql(services, "UPDATE audit_head SET last_id = :i, last_hash = :h WHERE id = 1", i=rows[-1].id, h=prev)


def test_an_untouched_log_with_checkpoints_is_intact(services) -> None:
    _populate(services, 3)
    assert services.audit_checkpoints.checkpoint() is not None
    assert services.audit_checkpoints.checkpoint() is None  # nothing new but its own entry
    _populate(services, 2)
    services.audit_checkpoints.checkpoint()
    report = services.audit_checkpoints.verify()
    assert report.intact, report.as_json()
    assert report.checkpoints == 2 and report.entries >= 5


def test_an_edited_entry_is_named(services) -> None:
    _populate(services)
    _sql(services, "UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
    report = services.audit_checkpoints.verify()
    assert not report.intact and report.findings[0].entry_id == 3
    assert "changed" in report.findings[0].problem


def test_a_deleted_entry_is_named(services) -> None:
    _populate(services)
    _sql(services, "DELETE FROM audit_log WHERE id = 4")
    report = services.audit_checkpoints.verify()
    assert report.findings[0].entry_id == 4 and "missing" in report.findings[0].problem


def test_reordered_entries_are_caught_at_the_first_moved_one(services) -> None:
    _populate(services)
    rows = _rows(services)
    a, b = rows[1], rows[4]           # swap the contents of entries 2 and 5
    for target, source in ((a, b), (b, a)):
        _sql(services, "UPDATE audit_log SET at = :at, actor = :actor, action = :action, subject = :subject, "
                       "prev_hash = :p, entry_hash = :h WHERE id = :i", at=source.at, actor=source.actor,
             action=source.action, subject=source.subject, p=source.prev_hash, h=source.entry_hash, i=target.id)
    report = services.audit_checkpoints.verify()
    assert report.findings[0].entry_id == 2


def test_removing_the_last_entries_and_the_head_with_them_is_caught_by_the_checkpoint(services) -> None:
    _populate(services)
    checkpoint = services.audit_checkpoints.checkpoint()
    last = checkpoint.last_entry_id
    _sql(services, "DELETE FROM audit_log WHERE id >= :i", i=last - 1)
    rows = _rows(services)
    _sql(services, "UPDATE audit_head SET last_id = :i, last_hash = :h WHERE id = 1", i=rows[-1].id,
         h=rows[-1].entry_hash)
    report = services.audit_checkpoints.verify()
    assert not report.intact
    assert report.findings[-1].entry_id == last and "removed" in report.findings[-1].problem


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint(services) -> None:
    _populate(services)
    services.audit_checkpoints.checkpoint()
    _sql(services, "UPDATE audit_log SET subject = 'nothing to see' WHERE id = 2")
    _rehash_from(services, 2)
    report = services.audit_checkpoints.verify()
    assert not report.intact
    (finding,) = report.findings
    assert finding.entry_id == 1 and "rewritten" in finding.problem


def test_a_forged_checkpoint_is_caught(services) -> None:
    _populate(services)
    services.audit_checkpoints.checkpoint()
    _sql(services, "UPDATE audit_checkpoints SET last_hash = :h", h="f" * 64)
    report = services.audit_checkpoints.verify()
    assert not report.intact and "altered" in report.findings[0].problem
