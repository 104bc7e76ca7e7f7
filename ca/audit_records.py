"""What the audit checkpoints say and what checking them finds (issues 8 and 18).

A checkpoint's statement is canonical JSON the audit key signs and our TSA
time-stamps: "entry N has hash H at time T", and since issue 18 also the
checkpoint's sequence number and the SHA-256 of the previous checkpoint's
statement, so checkpoints form a chain of their own and one exported line
names its place without trusting the database. The same record, as one JSON
line, is what the export file and the witness receive.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from ca.errors import QoltanbaError

STATEMENT_TYPE = "qoltanba-audit-checkpoint"
CHECKPOINT_ACTION = "audit.checkpoint"
EXPORT_FORMAT = "qoltanba-audit-checkpoint/1"


@dataclass(frozen=True)
class CheckpointPolicy:
    """The bound on the audit log's unsealed tail (issue 18).

    A checkpoint is *due* once the entries written since the last one
    (``audit.checkpoint`` entries aside) number ``entries``, or the oldest of
    them is ``interval`` old, whichever comes first. ``grace`` is how long a
    due checkpoint may take to appear: verification reports an entry written
    more than ``grace`` after its run of unsealed entries became due, and
    any run longer than ``cap`` entries (twice ``entries``: room for what is
    written between two due checks), whatever its entries' times say.
    """

    entries: int = 1000
    interval: dt.timedelta = dt.timedelta(minutes=60)
    grace: dt.timedelta = dt.timedelta(seconds=60)

    def __post_init__(self) -> None:
        if self.entries < 1:
            raise ValueError("a checkpoint must be due after at least one entry")
        if self.interval <= dt.timedelta(0):
            raise ValueError("the checkpoint interval must be positive")
        if self.grace < dt.timedelta(0):
            raise ValueError("the checkpoint grace must not be negative")

    @property
    def cap(self) -> int:
        return 2 * self.entries

    def due_at(self, first: dt.datetime | None, nth: dt.datetime | None) -> dt.datetime | None:
        """When a run of unsealed entries became due, from the times of its first and its ``entries``-th
        entry (None when the run is not that long); None for an empty run."""
        if first is None:
            return None
        by_time = first + self.interval
        return min(by_time, nth) if nth is not None else by_time


@dataclass(frozen=True)
class Finding:
    entry_id: int | None
    problem: str

    def as_json(self) -> dict:
        return {"entry": self.entry_id, "problem": self.problem}

    def line(self) -> str:
        return f"entry {self.entry_id}: {self.problem}" if self.entry_id is not None else self.problem


@dataclass(frozen=True)
class AuditReport:
    entries: int
    checkpoints: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    exported: int = 0

    @property
    def intact(self) -> bool:
        return not self.findings

    def as_json(self) -> dict:
        return {"intact": self.intact, "entries": self.entries, "checkpoints": self.checkpoints,
                "exported": self.exported, "findings": [f.as_json() for f in self.findings]}


def statement_bytes(last_entry: int, last_hash: str, at: dt.datetime, *, sequence: int | None = None,
                    previous: str | None = None) -> bytes:
    """The signed statement; ``sequence`` and ``previous`` are absent from checkpoints made before issue 18."""
    body: dict = {"type": STATEMENT_TYPE, "last_entry": last_entry, "last_hash": last_hash,
                  "at": at.astimezone(dt.timezone.utc).isoformat()}
    if sequence is not None:
        body.update(sequence=sequence, previous=previous)
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def statement_digest(statement: bytes) -> str:
    return hashlib.sha256(statement).hexdigest()


def parse_statement(statement: bytes) -> dict:
    """The statement's fields; ValueError when it is not one."""
    try:
        body = json.loads(statement)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError("the statement is not JSON") from error
    if not isinstance(body, dict) or body.get("type") != STATEMENT_TYPE:
        raise ValueError("the statement is not an audit checkpoint")
    return body


@dataclass(frozen=True)
class CheckpointRecord:
    """One checkpoint as it leaves the database: the export file's line, the witness's body."""

    sequence: int
    last_entry: int
    last_hash: str
    at: dt.datetime
    statement: bytes
    signature: bytes
    hash_name: str
    time_stamp: bytes

    @classmethod
    def of(cls, row) -> "CheckpointRecord":  # noqa: ANN001 - registry.AuditCheckpointRow
        return cls(sequence=row.id, last_entry=row.last_entry_id, last_hash=row.last_hash,
                   at=row.created_at.astimezone(dt.timezone.utc), statement=bytes(row.statement),
                   signature=bytes(row.signature), hash_name=row.hash_name, time_stamp=bytes(row.time_stamp))

    def line(self) -> str:
        b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
        return json.dumps({
            "format": EXPORT_FORMAT, "sequence": self.sequence, "last_entry": self.last_entry,
            "last_hash": self.last_hash, "at": self.at.isoformat(), "statement": b64(self.statement),
            "signature": b64(self.signature), "hash_name": self.hash_name, "time_stamp": b64(self.time_stamp),
        }, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_line(cls, line: str) -> "CheckpointRecord":
        """ValueError naming what is wrong with a line that is not a checkpoint record."""
        try:
            body = json.loads(line)
            if not isinstance(body, dict) or body.get("format") != EXPORT_FORMAT:
                raise ValueError(f"not a {EXPORT_FORMAT} record")
            at = dt.datetime.fromisoformat(body["at"])
            if at.tzinfo is None:
                raise ValueError("its time has no time zone")
            return cls(sequence=int(body["sequence"]), last_entry=int(body["last_entry"]),
                       last_hash=str(body["last_hash"]), at=at, hash_name=str(body["hash_name"]),
                       statement=base64.b64decode(body["statement"], validate=True),
                       signature=base64.b64decode(body["signature"], validate=True),
                       time_stamp=base64.b64decode(body["time_stamp"], validate=True))
        except (KeyError, TypeError) as error:
            raise ValueError(f"a field is missing or of the wrong type ({error})") from error


class AuditTrailError(QoltanbaError):
    """The audit trail cannot be sealed as it should: no anchor, a substituted certificate, an export failure."""

    def __init__(self, detail: str) -> None:
        super().__init__("audit-trail", detail, [])
