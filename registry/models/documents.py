"""Loan documents, their versions, the authorisations and sessions that sign them, and trust anchors."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, UTCDateTime
from registry.sealing import Clear, SealSpec, register, sealed_columns


class DocumentStatus(enum.StrEnum):
    """A loan document's status (``documents.status``): uploaded, signed by the client, sealed by the MFO.

    A ``StrEnum``: members are the very strings stored and shown by the API.
    """

    UPLOADED = "uploaded"
    CLIENT_SIGNED = "client-signed"
    SEALED = "sealed"


@register
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
        Index("ix_documents_tenant_client_digest", "tenant", "client_id_number_digest"),
    )
    # LOAN-15: the client's IIN/BIN and the title sealed; the number found by its keyed hash.
    __sealed__ = SealSpec("documents", ("client_id_number", "title"), ("public_id",),
                          {"client_id_number": ("client_id_number_digest", "iin")})

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
    client_id_number = Clear()
    client_id_number_digest: Mapped[str | None] = mapped_column(String(64))
    client_kind: Mapped[str] = mapped_column(String(16))
    loan_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    term_days: Mapped[int] = mapped_column(Integer)
    annual_effective_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    interest_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    secured: Mapped[bool] = mapped_column(Boolean)
    purpose: Mapped[str] = mapped_column(String(16))
    template_version: Mapped[str] = mapped_column(String(32))
    # The registered form version the document was made on (contract_forms.public_id), issue 15.
    form: Mapped[str | None] = mapped_column(String(32))
    title = Clear()
    data_key, kek_version, sealed = sealed_columns()
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))


@register
class DocumentVersionRow(Base):
    """One stored state of a document's PDF; versions are only ever added.

    Version 1 is the upload; each later one (a signature, the MFO's seal,
    LTV data, a document time-stamp) is an incremental update of the one
    before, so its bytes begin with the previous version's bytes and
    ``previous_sha256`` chains the hashes. ``content`` is loaded only when
    read, so listing versions does not pull megabytes of PDF.

    LOAN-15: the PDF is stored sealed under the document's tenant with its
    own data key (``sealed``), opened when ``content`` is first read.
    """

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number", name="uq_document_versions_document_number"),)
    __sealed__ = SealSpec("document_versions", ("content",), ("document_id", "number"), lazy=True,
                          tenant_of=lambda session, row: session.get(DocumentRow, row.document_id).tenant)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    tenant: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content = Clear()
    data_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    kek_version: Mapped[int | None] = mapped_column(Integer)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
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
