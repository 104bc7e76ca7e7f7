"""State every serving process shares (issue 17, item 2): the job queue, the rate buckets, the SMS outbox.

Nothing of it lives in a process's memory: a worker may die at any moment
and the next request may reach another worker or another host.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, UTCDateTime
from registry.sealing import Clear, SealSpec, register, sealed_columns


class JobStatus(enum.StrEnum):
    """A job's status (``jobs.status``); ``dead`` is the dead-letter state: given up, kept for an operator."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class JobRow(Base):
    """One piece of background work, run once by whichever worker claims it first.

    A worker claims a due row by moving it to ``running`` with a lease
    (``leased_until``); a row still ``running`` past its lease belongs to a
    worker that died, and is claimed again. A scheduled job (``every_seconds``
    set, ``name`` unique) goes back to ``queued`` at its next time after each
    run, so a schedule is a row, not a timer in every process.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_at", "status", "run_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(120), unique=True)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    every_seconds: Mapped[float | None] = mapped_column(Float)
    run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    leased_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    leased_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RateBucketRow(Base):
    """One token bucket (the generic cell rate algorithm, ITU-T I.371): its theoretical arrival time.

    ``tat`` is seconds since 1970: the moment the bucket is full again; a
    request is let through while ``tat - now`` stays within the burst.
    """

    __tablename__ = "rate_buckets"

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)


@register
class SMSOutboxRow(Base):
    """A development SMS (embedded mode, no gateway): kept to be shown, never sent anywhere.

    The phone and the text (a one-time code or a link) are sealed per tenant like every borrower's data
    (LOAN-15, registry/sealing.py): neither the database nor a debug log of its statements shows them; the
    outbox is searched by the phone's keyed hash (``phone_digest``), as clients are.
    """

    __tablename__ = "sms_outbox"
    __table_args__ = (Index("ix_sms_outbox_tenant_phone_digest", "tenant", "phone_digest"),)
    __sealed__ = SealSpec("sms_outbox", ("phone", "text"), ("public_id",), {"phone": ("phone_digest", "phone")})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    phone = Clear()
    text = Clear()
    phone_digest: Mapped[str | None] = mapped_column(String(64))
    data_key, kek_version, sealed = sealed_columns()
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
