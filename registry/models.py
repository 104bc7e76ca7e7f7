"""The registry's tables (SQLAlchemy 2.0 declarative models).

Only this package knows SQLAlchemy. Columns hold what the seeds' forms and
journals ask for (seed 004 appendices); values the schema can enforce are
enforced here, not only in Python: serial numbers are unique per issuer, and
the government CA's one-key-per-holder rule (GOV-4) is a unique index.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timestamps stored as UTC and always returned timezone-aware.

    SQLite drops the zone; normalising at the boundary keeps comparisons in
    the domain code correct on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the registry")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class CentreRow(Base):
    """A certification centre of the hierarchy (root, national, government)."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))
    key_handle: Mapped[str] = mapped_column(String(200))
    key_algorithm: Mapped[str] = mapped_column(String(32))
    certificate_serial: Mapped[str] = mapped_column(String(40))
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class _CertificateColumns:
    """The columns a certificate keeps, live or archived."""

    serial: Mapped[str] = mapped_column(String(40))
    profile: Mapped[str] = mapped_column(String(40))
    subject_dn: Mapped[str] = mapped_column(Text)
    common_name: Mapped[str] = mapped_column(String(200))
    iin: Mapped[str | None] = mapped_column(String(12))
    bin: Mapped[str | None] = mapped_column(String(12))
    email: Mapped[str | None] = mapped_column(String(254))
    organisation: Mapped[str | None] = mapped_column(String(255))
    holder: Mapped[str] = mapped_column(String(64))
    single_key_holder: Mapped[str | None] = mapped_column(String(64))
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="valid")
    key_algorithm: Mapped[str] = mapped_column(String(32))
    key_carrier: Mapped[str] = mapped_column(String(32))
    key_handle: Mapped[str | None] = mapped_column(String(200))
    fingerprint_sha256: Mapped[str] = mapped_column(String(64))
    der: Mapped[bytes] = mapped_column(LargeBinary)
    issued_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Revocation is kept on the certificate's own row (NAT-5: date and time);
    # the full record, with its grounds and journal columns, is a RevocationRow.
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(String(32))


class CertificateRow(_CertificateColumns, Base):
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("issuer_id", "serial", name="uq_certificates_issuer_serial"),
        # GOV-4: NULL while not applicable, so only one active key per holder.
        UniqueConstraint("issuer_id", "single_key_holder", name="uq_certificates_single_key_holder"),
        Index("ix_certificates_iin", "iin"),
        Index("ix_certificates_bin", "bin"),
        Index("ix_certificates_issuer_status", "issuer_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))


class CertificateArchiveRow(_CertificateColumns, Base):
    """Certificates past their retention period (ROOT-7, NAT-8: 5 years; GOV-6: 10).

    The same columns as ``certificates`` plus when the row moved here. No
    foreign keys: an archive outlives the rows it once pointed at.
    """

    __tablename__ = "certificate_archive"
    __table_args__ = (UniqueConstraint("issuer_id", "serial", name="uq_certificate_archive_issuer_serial"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(Integer)
    application_id: Mapped[int | None] = mapped_column(Integer)
    archived_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


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
    holder_name: Mapped[str] = mapped_column(String(200))
    state_body: Mapped[str | None] = mapped_column(String(255))
    letter_number: Mapped[str | None] = mapped_column(String(64))
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


class SequenceRow(Base):
    """Named counters advanced inside a transaction (the row lock orders their users)."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


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


class DocumentRow(Base):
    """A loan contract or amendment an MFO uploaded to be signed (DOMAIN.md §3).

    ``public_id`` is what the API shows; the integer id never leaves the
    registry. Every read names the ``tenant`` (the MFO), so one MFO's
    documents are invisible to another. The loan terms are kept as columns
    because LOAN-13's limits are checked on them and the credit dossier
    (LOAN-14) is searched by them.
    """

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_tenant_contract_number", "tenant", "contract_number"),
        Index("ix_documents_tenant_contract_id", "tenant", "contract_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    # Amendments only: the contract they amend, and the contract's version
    # they were chained to when uploaded (its latest signed one). The
    # version's table points back here, so this key is added after both
    # tables exist (use_alter).
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    base_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_versions.id", use_alter=True, name="fk_documents_base_version_id"))
    contract_number: Mapped[str] = mapped_column(String(64))
    client_id_number: Mapped[str] = mapped_column(String(12))
    client_kind: Mapped[str] = mapped_column(String(16))
    loan_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    term_days: Mapped[int] = mapped_column(Integer)
    annual_effective_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    interest_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    secured: Mapped[bool] = mapped_column(Boolean)
    purpose: Mapped[str] = mapped_column(String(16))
    template_version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))


class DocumentVersionRow(Base):
    """One stored state of a document's PDF; versions are only ever added.

    Version 1 is the upload; each later one (a signature, the MFO's seal,
    LTV data, a document time-stamp) is an incremental update of the one
    before, so its bytes begin with the previous version's bytes and
    ``previous_sha256`` chains the hashes. ``content`` is loaded only when
    read, so listing versions does not pull megabytes of PDF.
    """

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number", name="uq_document_versions_document_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    reason: Mapped[str] = mapped_column(String(32))
    signature_field: Mapped[str | None] = mapped_column(String(128))
    signer_serial: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    previous_sha256: Mapped[str | None] = mapped_column(String(64))


class SigningAuthorisationRow(Base):
    """A single-use authorisation for the service to sign with a client's key.

    Granted once the client proved their will (the factor work, issue 5),
    bound to one document state, one signer certificate and one tenant;
    consumed in the transaction that stores the signed version.
    """

    __tablename__ = "signing_authorisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    document_sha256: Mapped[str] = mapped_column(String(64))
    signer_serial: Mapped[str] = mapped_column(String(40))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    consumed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    granted_by: Mapped[str] = mapped_column(String(120))
    evidence: Mapped[dict] = mapped_column(JSON)


class SigningSessionRow(Base):
    """An external signature under way: the prepared PDF waits for the client's token.

    The prepared bytes and the signed attributes are kept exactly as given
    out, so the value that comes back is checked against and embedded into
    precisely what the client was asked to sign.
    """

    __tablename__ = "signing_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    base_version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id"))
    signatory: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    field_name: Mapped[str] = mapped_column(String(128))
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    prepared_pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    placeholder_start: Mapped[int] = mapped_column(BigInteger)
    placeholder_end: Mapped[int] = mapped_column(BigInteger)
    document_digest: Mapped[bytes] = mapped_column(LargeBinary)
    signed_attributes: Mapped[bytes] = mapped_column(LargeBinary)
    hash_name: Mapped[str] = mapped_column(String(16))
    signing_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))


class TrustAnchorRow(Base):
    """A certificate imported into the verification trust store (issue 6), e.g. an NCA RK root.

    Our own hierarchy's root is trusted without a row; these are the others.
    ``sha256`` is the certificate's fingerprint, the key the API and CLI use.
    """

    __tablename__ = "trust_anchors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(1024))
    der: Mapped[bytes] = mapped_column(LargeBinary)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(120))
