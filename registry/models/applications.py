"""Applications for certificates and the issuance journal (seed 004 appendix 3)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, UTCDateTime
from registry.sealing import Clear, SealSpec, register


class ApplicationStatus(enum.StrEnum):
    """An application's status (``applications.status``): certificate and revocation applications.

    A ``StrEnum``: members are the very strings stored and shown by the API.
    """

    SUBMITTED = "submitted"
    ISSUED = "issued"
    REFUSED = "refused"
    REVOKED = "revoked"


@register
class ApplicationRow(Base):
    """An application for a certificate, with the form's fields as submitted.

    The form (names, IINs, e-mails, phones), the attachments, the CSR and a signed application are sealed
    under the register key (LOAN-15, registry/register.py). The row's id is not known before its first
    flush, so its sealed data names the centre, kind and submitter, not the id.
    """

    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_centre_status", "centre_id", "status"),)
    __sealed__ = SealSpec("applications", ("form", "attachments", "csr_der", "signed_document", "refusal_detail"),
                          ("centre_id", "kind", "submitted_by"), register=True)
    form = Clear()
    attachments = Clear()
    csr_der = Clear()
    signed_document = Clear()
    refusal_detail = Clear()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    kek_version: Mapped[int | None] = mapped_column(Integer)
    profile: Mapped[str | None] = mapped_column(String(40))
    submitted_by: Mapped[str] = mapped_column(String(120))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    due_date: Mapped[dt.date] = mapped_column(Date)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(120))
    refusal_reason: Mapped[str | None] = mapped_column(String(64))
    # Revocation applications: the certificate asked about, and the CMS
    # signature when the applicant signed the application with that EDS (NAT-7).
    target_serial: Mapped[str | None] = mapped_column(String(40))


@register
class IssuanceJournalRow(Base):
    """Issuance journal, the columns of seed 004 appendix 3 (line 465); the holder's name, state body, letter
    and carrier sealed under the register key (LOAN-15, registry/register.py)."""

    __tablename__ = "issuance_journal"
    __sealed__ = SealSpec("issuance_journal", ("state_body", "letter_number", "holder_name", "carrier_serial"),
                          ("centre_id", "certificate_serial"), register=True)
    state_body = Clear()
    letter_number = Clear()
    holder_name = Clear()
    carrier_serial = Clear()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    # No foreign key (migration 0002): the journal line outlives the
    # certificate row when retention moves it to the archive.
    certificate_id: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    kek_version: Mapped[int | None] = mapped_column(Integer)
    letter_date: Mapped[dt.date | None] = mapped_column(Date)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    certificate_serial: Mapped[str] = mapped_column(String(40))
    form_numbers: Mapped[str | None] = mapped_column(String(120))
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    administrator: Mapped[str] = mapped_column(String(120))
