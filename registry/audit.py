"""The audit log: append-only, each entry chained to the previous by SHA-256.

An entry's hash covers its own fields and the previous entry's hash, so an
edited, deleted or reordered row breaks every hash after it. A unit of
work's entries are chained as it commits: that takes a row lock on the chain
head, which serialises writers on PostgreSQL for the commit only; SQLite has
a single writer anyway.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry import rawsql
from registry.models import AuditCheckpointRow, AuditHeadRow, AuditRow
from registry.unit_of_work import UnitOfWork

GENESIS = "0" * 64
_HEAD = AuditHeadRow.__table__
_ENTRIES = AuditRow.__table__


def _lock_head_sql(ph: str, dialect: str) -> str:
    # The row lock serialises appends on PostgreSQL; SQLite has one writer.
    lock = " FOR UPDATE" if dialect == "postgresql" else ""
    return f"SELECT last_id, last_hash FROM audit_head WHERE id = {ph}{lock}"


def _move_head_sql(ph: str, _dialect: str) -> str:
    return f"UPDATE audit_head SET last_id = {ph}, last_hash = {ph} WHERE id = {ph}"


def _move_head_from_sql(ph: str, _dialect: str) -> str:
    # Moves the head only from the state the appender expects; the row lock
    # (PostgreSQL) or the write lock (SQLite) makes the check and the move one step.
    return (f"UPDATE audit_head SET last_id = {ph}, last_hash = {ph} "
            f"WHERE id = {ph} AND last_id = {ph} AND last_hash = {ph} RETURNING last_id")


_EXPECTED_HEAD = "qoltanba.audit_head"   # key in the connection's info: the head its last append left

# The canonical form an entry's hash covers. One encoder for every entry:
# json.dumps given options builds a new JSONEncoder at each call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_digest(prev_hash: str, entry_id: int, at: dt.datetime, actor: str, action: str,
                 subject: str, details: dict[str, Any]) -> str:
    body = _CANONICAL.encode([entry_id, at.astimezone(dt.timezone.utc).isoformat(), actor, action, subject, details])
    return hashlib.sha256(prev_hash.encode() + body.encode()).hexdigest()


def _linked(pending: list[tuple[dt.datetime, str, str, str, dict[str, Any]]], last_id: int,
            last_hash: str) -> list[dict[str, Any]]:
    """The rows of ``pending`` chained after the entry (``last_id``, ``last_hash``)."""
    rows = []
    for at, actor, action, subject, details in pending:
        last_id += 1
        digest = entry_digest(last_hash, last_id, at, actor, action, subject, details)
        rows.append({"id": last_id, "at": at, "actor": actor, "action": action, "subject": subject,
                     "details": details, "prev_hash": last_hash, "entry_hash": digest})
        last_hash = digest
    return rows


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    problem: str


class AuditLog:
    def __init__(self, tx: UnitOfWork) -> None:
        self._tx = tx
        # Entries of this unit of work not yet chained: written by ``write_pending`` as the unit of work commits
        # (or before anything reads the log), so the chain head's row lock is held for the commit only, not for
        # the whole unit of work. Several workers on PostgreSQL queued on that lock behind each other's signatures
        # (issue 17, benchmarks/load.py --waits).
        self._pending: list[tuple[dt.datetime, str, str, str, dict[str, Any]]] = []

    @property
    def _session(self) -> Session:
        return self._tx.session

    def append(self, *, at: dt.datetime, actor: str, action: str, subject: str,
               details: dict[str, Any] | None = None) -> None:
        """Append one entry to the chain when this unit of work commits (in the order appended)."""
        self._pending.append((at, actor, action, subject, dict(details or {})))
        audited = getattr(self._tx, "audited", None)
        if audited is not None:   # told to the registry's commit listeners (the metrics) once committed
            audited.append(action)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def write_pending(self) -> int:
        """Chain the entries appended so far (the registry calls this just before it commits); the last one's id,
        0 when there was none (ids start at 1)."""
        pending, self._pending = self._pending, []
        return self._chain(pending) if pending else 0

    def append_now(self, *, at: dt.datetime, actor: str, action: str, subject: str,
                   details: dict[str, Any] | None = None) -> int:
        """Chain one entry now (after any pending ones); returns its id."""
        self.append(at=at, actor=actor, action=action, subject=subject, details=details)
        return self.write_pending()

    def _chain(self, pending: list[tuple[dt.datetime, str, str, str, dict[str, Any]]]) -> int:
        """Write entries after the head, in order, with one move of the head and one INSERT; returns the last id.

        The head this connection's last append left is the likely head now
        (the embedded home writes through one kept connection): one UPDATE
        moves the head from it, if the head still is it, and the entries
        follow. When the head moved meanwhile (another connection or
        process appended, a unit of work rolled back, or the row was
        edited), the UPDATE changes nothing and the head is read under its
        lock as before. The database decides, so the chain is the same.
        """
        connection = self._tx.connection
        expected = connection.info.get(_EXPECTED_HEAD)
        rows: list[dict[str, Any]] = []
        if expected is not None:
            rows = _linked(pending, *expected)
            last = rows[-1]
            if not rawsql.execute(connection, "audit.move_head_from", _HEAD,
                                  ("last_id", "last_hash", "id", "last_id", "last_hash"), _move_head_from_sql,
                                  (last["id"], last["entry_hash"], 1, *expected)):
                rows = []
        if not rows:
            head = rawsql.execute(connection, "audit.lock_head", _HEAD, ("id",), _lock_head_sql, (1,))
            if not head:
                rawsql.insert(connection, _HEAD, {"id": 1, "last_id": 0, "last_hash": GENESIS})
            rows = _linked(pending, *(head[0] if head else (0, GENESIS)))
            last = rows[-1]
            rawsql.execute(connection, "audit.move_head", _HEAD, ("last_id", "last_hash", "id"), _move_head_sql,
                           (last["id"], last["entry_hash"], 1))
        rawsql.insert_many(connection, _ENTRIES, rows)
        connection.info[_EXPECTED_HEAD] = (rows[-1]["id"], rows[-1]["entry_hash"])
        return rows[-1]["id"]

    def entries(self, *, after_id: int = 0, limit: int = 1000) -> list[AuditRow]:
        self.write_pending()
        stmt = select(AuditRow).where(AuditRow.id > after_id).order_by(AuditRow.id).limit(limit)
        return list(self._session.execute(stmt).scalars())

    def latest(self, action: str) -> AuditRow | None:
        """The newest entry of one action (start-up checks such as a changed signing policy)."""
        self.write_pending()
        stmt = select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id.desc()).limit(1)
        return self._session.execute(stmt).scalar_one_or_none()

    def of(self, action: str, subject: str) -> list[AuditRow]:
        """Every entry of one action about one subject, oldest first (the CA keys a centre was given)."""
        self.write_pending()
        stmt = (select(AuditRow).where(AuditRow.action == action, AuditRow.subject == subject)
                .order_by(AuditRow.id))
        return list(self._session.execute(stmt).scalars())

    def verify(self) -> ChainBreak | None:
        """Walk the chain; return the first entry that does not fit, or None."""
        self.write_pending()
        prev_hash, expected_id = GENESIS, 1
        for row in self._session.execute(select(AuditRow).order_by(AuditRow.id)).scalars():
            if row.id != expected_id:
                return ChainBreak(expected_id, f"entry {expected_id} is missing or the log was reordered")
            if row.prev_hash != prev_hash:
                return ChainBreak(row.id, "previous-hash link does not match")
            digest = entry_digest(prev_hash, row.id, row.at, row.actor, row.action, row.subject, row.details)
            if digest != row.entry_hash:
                return ChainBreak(row.id, "entry content was changed")
            prev_hash, expected_id = row.entry_hash, expected_id + 1
        head = self._session.get(AuditHeadRow, 1)
        if head is not None and (head.last_id != expected_id - 1 or head.last_hash != prev_hash):
            return ChainBreak(expected_id, "entries after the last one present were removed")
        return None

    # -- checkpoints ---------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """(last entry id, its hash) as the head row says."""
        self.write_pending()
        head = self._session.get(AuditHeadRow, 1)
        return (0, GENESIS) if head is None else (head.last_id, head.last_hash)

    def lock_head(self) -> tuple[int, str]:
        """The head, row-locked until the transaction ends: no entry or checkpoint is added meanwhile."""
        self.write_pending()
        head = rawsql.execute(self._tx.connection, "audit.lock_head", _HEAD, ("id",), _lock_head_sql, (1,))
        return (head[0][0], head[0][1]) if head else (0, GENESIS)

    def pending(self, after_id: int, *, skip_action: str, offset: int = 0,
                limit: int = 1) -> list[tuple[int, dt.datetime]]:
        """(id, at) of entries after ``after_id`` whose action is not ``skip_action``, from the ``offset``-th."""
        self.write_pending()
        stmt = (select(AuditRow.id, AuditRow.at).where(AuditRow.id > after_id, AuditRow.action != skip_action)
                .order_by(AuditRow.id).offset(offset).limit(limit))
        return [(row.id, row.at) for row in self._session.execute(stmt)]

    def timeline(self) -> list[tuple[int, dt.datetime, str]]:
        """(id, at, action) of every entry, oldest first, without the details."""
        self.write_pending()
        stmt = select(AuditRow.id, AuditRow.at, AuditRow.action).order_by(AuditRow.id)
        return [(row.id, row.at, row.action) for row in self._session.execute(stmt)]

    def all_of(self, action: str) -> list[AuditRow]:
        """Every entry of one action, oldest first."""
        self.write_pending()
        stmt = select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id)
        return list(self._session.execute(stmt).scalars())

    def entry(self, entry_id: int) -> AuditRow | None:
        self.write_pending()
        return self._session.get(AuditRow, entry_id)

    def add_checkpoint(self, row: AuditCheckpointRow) -> AuditCheckpointRow:
        self._session.add(row)
        self._session.flush()
        return row

    def count(self) -> int:
        """How many entries the table holds (without loading them)."""
        self.write_pending()
        return self._session.execute(select(func.count()).select_from(AuditRow)).scalar_one()

    def checkpoints(self) -> list[AuditCheckpointRow]:
        return list(self._session.execute(select(AuditCheckpointRow).order_by(AuditCheckpointRow.id)).scalars())

    def last_checkpoint(self) -> AuditCheckpointRow | None:
        stmt = select(AuditCheckpointRow).order_by(AuditCheckpointRow.id.desc()).limit(1)
        return self._session.execute(stmt).scalar_one_or_none()
