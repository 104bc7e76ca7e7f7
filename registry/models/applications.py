"""Applications for certificates and the issuance journal (seed 004 appendix 3)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, UTCDateTime


class ApplicationStatus(enum.StrEnum):
    """An application's status (``applications.status``): certificate and revocation applications.

    A ``StrEnum``: members are the very strings stored and shown by the API.
    """

    SUBMITTED = "submitted"
    ISSUED = "issued"
    REFUSED = "refused"
    REVOKED = "revoked"


class ApplicationRow(Base):
    """An application for a certificate, with the form's fields as submitted."""

    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_centre_status", "centre_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    form: Mapped[dict] = mapped_column(JSON)
    attachments: Mapped[list] = mapped_column(JSON)
    csr_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    profile: Mapped[str | None] = mapped_column(String(40))
    submitted_by: Mapped[str] = mapped_column(String(120))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    due_date: Mapped[dt.date] = mapped_column(Date)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(120))
    refusal_reason: Mapped[str | None] = mapped_column(String(64))
    refusal_detail: Mapped[str | None] = mapped_column(Text)
    # Revocation applications: the certificate asked about, and the CMS
    # signature when the applicant signed the application with that EDS (NAT-7).
    target_serial: Mapped[str | None] = mapped_column(String(40))
    signed_document: Mapped[bytes | None] = mapped_column(LargeBinary)


class IssuanceJournalRow(Base):
    """Issuance journal, the columns of seed 004 appendix 3 (line 465)."""

    __tablename__ = "issuance_journal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    # No foreign key (migration 0002): the journal line outlives the
    # certificate row when retention moves it to the archive.
    certificate_id: Mapped[int] = mapped_column(Integer)
    state_body: Mapped[str | None] = mapped_column(String(255))
    letter_number: Mapped[str | None] = mapped_column(String(64))
    letter_date: Mapped[dt.date | None] = mapped_column(Date)
    holder_name: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    carrier_serial: Mapped[str | None] = mapped_column(String(120))
    certificate_serial: Mapped[str] = mapped_column(String(40))
    form_numbers: Mapped[str | None] = mapped_column(String(120))
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    administrator: Mapped[str] = mapped_column(String(120))
