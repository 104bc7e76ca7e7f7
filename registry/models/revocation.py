"""Revocations and the CRLs that publish them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, UTCDateTime
from registry.sealing import Clear, SealSpec, register


@register
class RevocationRow(Base):
    """One revocation: the registry record and the revocation journal's line.

    The journal columns are those of the government CA's appendix 5 (seed
    004 line 553); the other centres fill what applies. ``seq`` is a global,
    gap-free-in-commit-order sequence: serving processes read the rows past
    the last ``seq`` they saw to learn of revocations made elsewhere.
    No foreign key to ``certificates``: the line stays when retention moves
    the certificate to the archive.
    """

    __tablename__ = "revocations"
    # The journal's holder name, state body and letter sealed under the register key (LOAN-15,
    # registry/register.py); the CRL publisher reads serials and dates with Core, never these.
    __sealed__ = SealSpec("revocations", ("holder_name", "state_body", "letter_number"), ("centre_id", "serial"),
                          register=True)
    holder_name = Clear()
    state_body = Clear()
    letter_number = Clear()
    __table_args__ = (
        UniqueConstraint("centre_id", "serial", name="uq_revocations_centre_serial"),
        UniqueConstraint("seq", name="uq_revocations_seq"),
        Index("ix_revocations_centre_seq", "centre_id", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    certificate_id: Mapped[int] = mapped_column(Integer)
    serial: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(32))
    ground: Mapped[str] = mapped_column(String(32))
    court_decision_number: Mapped[str | None] = mapped_column(String(64))
    court_decision_date: Mapped[dt.date | None] = mapped_column(Date)
    left_job_on: Mapped[dt.date | None] = mapped_column(Date)
    reported_late: Mapped[bool] = mapped_column(Boolean, default=False)
    carrier_returned: Mapped[bool | None] = mapped_column(Boolean)
    application_id: Mapped[int | None] = mapped_column(Integer)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    kek_version: Mapped[int | None] = mapped_column(Integer)
    letter_date: Mapped[dt.date | None] = mapped_column(Date)
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    administrator: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CRLRow(Base):
    """Every CRL ever issued, full and delta: the archive (ROOT-7: CRLs go to archive).

    ``UNIQUE(centre_id, number)`` is what makes CRL numbers never repeat,
    whatever process crashed where: a number is used only by a committed row.
    ``covered_seq`` is the last revocation ``seq`` the CRL includes, so a
    restart can tell whether a revocation still waits for its CRL.
    """

    __tablename__ = "crls"
    __table_args__ = (
        UniqueConstraint("centre_id", "number", name="uq_crls_centre_number"),
        Index("ix_crls_centre_kind_number", "centre_id", "kind", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    number: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))
    base_number: Mapped[int | None] = mapped_column(BigInteger)
    this_update: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    next_update: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    covered_seq: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    der: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
