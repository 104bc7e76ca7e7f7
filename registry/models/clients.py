"""The client's will (issue 5): clients, factors, signing requests, proofs, codes, biometrics, evidence."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, UTCDateTime
from registry.sealing import Clear, SealSpec, register, sealed_columns


class FactorStatus(enum.StrEnum):
    """A client factor's status (``client_factors.status``).

    A ``StrEnum``: members are the very strings stored and shown by the API.
    """

    PENDING = "pending"
    ACTIVE = "active"
    REVOKED = "revoked"


class SigningRequestStatus(enum.StrEnum):
    """A signing request's status (``signing_requests.status``).

    A ``StrEnum``: members are the very strings stored and shown by the API.
    """

    OPEN = "open"
    SIGNED = "signed"
    SEALED = "sealed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    LOCKED = "locked"


@register
class ClientRow(Base):
    """A borrower an MFO registered for remote signing, within that MFO's tenant.

    ``id_number`` is the number the MFO's documents name the client by: the
    BIN of a legal entity (or of a joint entrepreneurship), else the IIN.
    ``iin`` is always the person who acts: the individual, the
    entrepreneur, or the legal entity's representative.

    LOAN-15: the numbers, the name and the phone are stored only sealed
    (``registry.sealing``); the numbers and the phone are found through
    their keyed hashes (``*_digest``, one per tenant's lookup key).
    """

    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("tenant", "id_number_digest", name="uq_clients_tenant_id_number"),  # 0018
                      Index("ix_clients_tenant_iin_digest", "tenant", "iin_digest"),
                      Index("ix_clients_tenant_phone_digest", "tenant", "phone_digest"))
    __sealed__ = SealSpec("clients", ("id_number", "iin", "bin", "name", "phone"), ("public_id",),
                          {"id_number": ("id_number_digest", "iin"), "iin": ("iin_digest", "iin"),
                           "phone": ("phone_digest", "phone")})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    id_number = Clear()
    iin = Clear()
    bin = Clear()
    name = Clear()
    phone = Clear()
    # Migration 0018 renamed the clear id_number (VARCHAR(12)) in place: SQLite keeps the declared length.
    id_number_digest: Mapped[str] = mapped_column(String(64).with_variant(String(12), "sqlite"))
    iin_digest: Mapped[str | None] = mapped_column(String(64))
    phone_digest: Mapped[str | None] = mapped_column(String(64))
    data_key, kek_version, sealed = sealed_columns()
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))


@register
class ClientFactorRow(Base):
    """One authentication factor a client enrolled: phone (SMS codes), TOTP, biometrics or an EDS certificate.

    A TOTP seed is kept only sealed (AES-256-GCM under a key derived from
    the master key, bound to the factor's public id); ``last_step`` is the
    last TOTP time step accepted, so a code is never accepted twice.
    ``failures`` counts wrong codes given to confirm a pending TOTP
    enrolment; at the code policy's limit the enrolment is discarded.
    ``enrolment_token_digest``: the keyed hash of the token sent to the
    client's own phone to enrol an authenticator (issue 15), valid until
    ``enrolment_expires_at``; the MFO never sees the token or the seed.
    """

    __tablename__ = "client_factors"
    __table_args__ = (Index("ix_client_factors_client_kind", "client_id", "kind"),)
    # LOAN-15: the phone sealed under the client's tenant (copied here when the factor is first sealed).
    __sealed__ = SealSpec("client_factors", ("phone",), ("public_id",),
                          tenant_of=lambda session, row: session.get(ClientRow, row.client_id).tenant)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    tenant: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    phone = Clear()
    data_key, kek_version, sealed = sealed_columns()
    secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    enrolment_token_digest: Mapped[str | None] = mapped_column(String(64))
    enrolment_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
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
    __table_args__ = (Index("ix_signing_requests_tenant_document", "tenant", "document_id"),
                      # the background queries (issue 17): expiry, and requests waiting for their seal or report
                      Index("ix_signing_requests_status_expires_at", "status", "expires_at"),
                      Index("ix_signing_requests_status_signed_at", "status", "signed_at"))

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
    # What the borrower reads (the signing page's first language, the SMS, the stamp's labels): kk, ru or en.
    language: Mapped[str] = mapped_column(String(2), default="kk", server_default="kk")
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


@register
class EvidenceRecordRow(Base):
    """What proves a client's signature: factors, times, policy, digests; and the sealed report.

    LOAN-15: the record (it names the client) and the report are stored sealed under the tenant's keys.
    """

    __tablename__ = "evidence_records"
    __sealed__ = SealSpec("evidence_records", ("record", "report"), ("public_id",))

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
    record = Clear()
    report = Clear()
    data_key, kek_version, sealed = sealed_columns()
    report_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
