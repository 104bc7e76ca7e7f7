"""People and access (issue 8): API-key actors, console users and sessions, approvals, CA key retirements."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, UTCDateTime


class ActorRow(Base):
    """A person or system acting on the service, reached by an API key.

    Only a SHA-256 digest of the key's secret is kept; API keys are long
    random strings, so a slow password hash adds nothing but latency.
    """

    __tablename__ = "actors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    key_digest: Mapped[str] = mapped_column(String(64))
    tenant: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PersonRow(Base):
    """A human user of the web console: administrator, registrar or auditor.

    ``password_hash`` is an argon2id string (salt and parameters inside);
    ``totp_secret`` is the TOTP seed sealed with AES-256-GCM under a key
    derived from the master key, bound to the person's name. ``totp_last_step``
    is the last accepted time step: a code is used once (RFC 6238 §5.2).
    ``failures`` counts consecutive failed logins; at the limit the account
    is locked until ``locked_until``.
    """

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[bytes] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))


class ConsoleSessionRow(Base):
    """A console login: the token's id and the SHA-256 of its 256-bit secret, never the token."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    token_digest: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(32))


class ApprovalRow(Base):
    """A dual-control request (issue 8): one administrator asks, a second, different one decides.

    ``status``: pending, then approved (claimed by the approver, the action
    running), executed or failed; or rejected, or expired. ``params`` is what
    the action will do, fixed when asked, so the approver sees exactly that.
    """

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CaKeyRetirementRow(Base):
    """A CA key destroyed in its backend after a second administrator approved (issue 8, ``ca-key.retire``).

    The key's creation is in the audit log (``ca_key.created``, or
    ``centre.created`` for the hierarchy's first keys); this table says it is
    gone. The unique handle makes a retirement happen once, even when two
    approvals of two requests for the same key arrive together.
    """

    __tablename__ = "ca_key_retirements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(200), unique=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    algorithm: Mapped[str] = mapped_column(String(32))
    public_key_sha256: Mapped[str] = mapped_column(String(64))
    retired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    retired_by: Mapped[str] = mapped_column(String(120))
    approval: Mapped[str] = mapped_column(String(32))
    approved_by: Mapped[str] = mapped_column(String(120))
