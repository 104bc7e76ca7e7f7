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

    # The client's authorisation that opened the session (issue 5); consumed then.
    authorisation: Mapped[str | None] = mapped_column(String(32))


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


# --- the client's will (issue 5) ------------------------------------------------


class ClientRow(Base):
    """A borrower an MFO registered for remote signing, within that MFO's tenant.

    ``id_number`` is the number the MFO's documents name the client by: the
    BIN of a legal entity (or of a joint entrepreneurship), else the IIN.
    ``iin`` is always the person who acts: the individual, the
    entrepreneur, or the legal entity's representative.
    """

    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("tenant", "id_number", name="uq_clients_tenant_id_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    id_number: Mapped[str] = mapped_column(String(12))
    iin: Mapped[str] = mapped_column(String(12))
    bin: Mapped[str | None] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))


class ClientFactorRow(Base):
    """One authentication factor a client enrolled: phone (SMS codes), TOTP, biometrics or an EDS certificate.

    A TOTP seed is kept only sealed (AES-256-GCM under a key derived from
    the master key, bound to the factor's public id); ``last_step`` is the
    last TOTP time step accepted, so a code is never accepted twice.
    ``failures`` counts wrong codes given to confirm a pending TOTP
    enrolment; at the code policy's limit the enrolment is discarded.
    """

    __tablename__ = "client_factors"
    __table_args__ = (Index("ix_client_factors_client_kind", "client_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(16))
    secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    provider: Mapped[str | None] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(128))
    certificate_serial: Mapped[str | None] = mapped_column(String(40))
    certificate_issuer: Mapped[str | None] = mapped_column(Text)
    certificate_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SigningRequestRow(Base):
    """A document put before a client to sign, under the policy chosen for it.

    The client reaches it with a random token given to the MFO backend once;
    only its SHA-256 is kept. ``document_sha256`` is the state the factors
    are bound to. ``failures`` counts wrong codes and refused assertions
    across all factors; past the policy's limit the request locks.
    """

    __tablename__ = "signing_requests"
    __table_args__ = (Index("ix_signing_requests_tenant_document", "tenant", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    policy: Mapped[str] = mapped_column(String(64))
    requirement: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    document_sha256: Mapped[str] = mapped_column(String(64))
    token_digest: Mapped[str] = mapped_column(String(64))
    level: Mapped[str | None] = mapped_column(String(8))
    seal: Mapped[bool] = mapped_column(Boolean)
    review_until: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    review_waived: Mapped[bool] = mapped_column(Boolean)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    authorisation: Mapped[str | None] = mapped_column(String(32))
    session: Mapped[str | None] = mapped_column(String(32))
    signer_serial: Mapped[str | None] = mapped_column(String(40))
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sealed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    earliest_payout_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class FactorProofRow(Base):
    """A factor the client proved for one signing request, with what proves it (no secrets)."""

    __tablename__ = "factor_proofs"
    __table_args__ = (UniqueConstraint("request_id", "factor", name="uq_factor_proofs_request_factor"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("signing_requests.id"))
    factor: Mapped[str] = mapped_column(String(16))
    factor_id: Mapped[int | None] = mapped_column(ForeignKey("client_factors.id"))
    proven_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    details: Mapped[dict] = mapped_column(JSON)


class OneTimeCodeRow(Base):
    """A one-time code sent by SMS: only its keyed hash is kept, bound to request and document digest.

    ``request_id`` is empty for the code that confirms a phone at enrolment.
    """

    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_factor_request", "factor_id", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    factor_id: Mapped[int] = mapped_column(ForeignKey("client_factors.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("signing_requests.id"))
    purpose: Mapped[str] = mapped_column(String(16))
    code_digest: Mapped[str] = mapped_column(String(64))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class BiometricChallengeRow(Base):
    """A liveness challenge: the control movements the client must perform (LOAN-4)."""

    __tablename__ = "biometric_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("signing_requests.id"))
    movements: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class BiometricAssertionRow(Base):
    """An identity provider's assertion we accepted; its id, unique per provider, is never accepted again."""

    __tablename__ = "biometric_assertions"
    __table_args__ = (UniqueConstraint("provider", "assertion_id", name="uq_biometric_assertions_provider_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    assertion_id: Mapped[str] = mapped_column(String(128))
    request_id: Mapped[int] = mapped_column(ForeignKey("signing_requests.id"))
    challenge_id: Mapped[int] = mapped_column(ForeignKey("biometric_challenges.id"))
    asserted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class EvidenceRecordRow(Base):
    """What proves a client's signature: factors, times, policy, digests; and the sealed report."""

    __tablename__ = "evidence_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[int] = mapped_column(ForeignKey("signing_requests.id"), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    policy: Mapped[str] = mapped_column(String(64))
    digest_before: Mapped[str] = mapped_column(String(64))
    digest_after: Mapped[str] = mapped_column(String(64))
    digest_sealed: Mapped[str | None] = mapped_column(String(64))
    signer_serial: Mapped[str] = mapped_column(String(40))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    record: Mapped[dict] = mapped_column(JSON)
    report: Mapped[bytes | None] = mapped_column(LargeBinary)
    report_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class WebhookEndpointRow(Base):
    """Where an MFO backend wants status changes pushed, and the sealed key that signs them."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(120))


class WebhookDeliveryRow(Base):
    """One event for one MFO backend: written with the change it reports, delivered afterwards.

    ``public_id`` is the delivery id the receiver deduplicates on; every
    retry of the delivery carries the same id and body.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

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


# --- people of the certification centre (issue 8) ----------------------------------


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
