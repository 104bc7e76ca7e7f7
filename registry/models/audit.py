"""The audit chain's tables: entries, the chain head and signed checkpoints (see registry/audit.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, UTCDateTime


class AuditRow(Base):
    """An append-only, hash-chained audit entry (see registry/audit.py)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """One row holding the chain's last hash; locking it serialises appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpointRow(Base):
    """A signed, time-stamped statement of the audit chain's state (issue 8).

    ``statement`` is the canonical JSON that was signed: the last entry's id
    and hash and the time. Anyone with the audit certificate and the TSA's
    can check that the log up to that entry has not changed since, even if
    the chain head row was rewritten with it.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_entry_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    statement: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    signer_serial: Mapped[str] = mapped_column(String(40))
    hash_name: Mapped[str] = mapped_column(String(16))
    time_stamp: Mapped[bytes] = mapped_column(LargeBinary)
