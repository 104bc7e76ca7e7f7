"""Tenants (the MFOs the signing service works for) and the standard forms each registers (issue 15)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Date, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, UTCDateTime


class TenantStatus(enum.StrEnum):
    """A tenant's status (``tenants.status``): a suspended tenant signs nothing until resumed."""

    ACTIVE = "active"
    SUSPENDED = "suspended"


class SealSource(enum.StrEnum):
    """Where a tenant's seal certificate comes from (``tenants.seal_source``)."""

    NATIONAL = "national"     # issued by our national CA, key generated in our backend
    IMPORTED = "imported"     # issued by an accredited centre (NCA RK), key already in our HSM


class TenantRow(Base):
    """An MFO: its BIN, legal name, seal, signing policy; ``code`` is what documents, keys and webhooks name.

    The seal's certificate and key handle are kept here for both sources;
    a seal of our national CA is also an ordinary row of ``certificates``
    (holder ``tenant:<code>``), revoked like any certificate.
    """

    __tablename__ = "tenants"
    __table_args__ = (UniqueConstraint("code", name="uq_tenants_code"),
                      UniqueConstraint("bin", name="uq_tenants_bin"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    bin: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    seal_source: Mapped[str] = mapped_column(String(16))
    seal_serial: Mapped[str] = mapped_column(String(64))
    seal_der: Mapped[bytes] = mapped_column(LargeBinary)
    seal_key_handle: Mapped[str] = mapped_column(String(200))
    policy: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ContractFormRow(Base):
    """One version of a tenant's standard form (contract, amendment, schedule, consent ...).

    ``consent_date``: the regulator's consent that approved this version
    (seed 002); ``no_consent_reason``: why a changed version needs none
    (a change of law or of requisites). ``sha256`` identifies the form's
    PDF; ``pdf`` keeps it when it was given whole.
    """

    __tablename__ = "contract_forms"
    __table_args__ = (UniqueConstraint("tenant", "kind", "version", name="uq_contract_forms_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    no_consent_reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(500))
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    registered_by: Mapped[str] = mapped_column(String(120))


class TenantKeyState(enum.StrEnum):
    """A tenant key-encryption key version's state (``tenant_keys.state``, LOAN-15)."""

    ACTIVE = "active"         # wraps every new data key
    RETIRING = "retiring"     # still unwraps; its data keys are being re-wrapped by the active version
    RETIRED = "retired"       # wraps nothing any more; its key material is destroyed


class TenantKeyRow(Base):
    """One version of a tenant's key-encryption key (LOAN-15, envelope encryption).

    ``material``: for the software backend the key sealed under the master
    key's sub-key; for PKCS#11 the label of the AES key on the token (the key
    never leaves it). ``lookup_key``: the tenant's HMAC key for searching
    sealed values, wrapped by this version (the same key in every version, so
    keyed hashes survive a rotation). ``tenant`` is a string, like the
    ``tenant`` of documents: data of a tenant not (yet) onboarded is sealed too.
    """

    __tablename__ = "tenant_keys"
    __table_args__ = (UniqueConstraint("tenant", "version", name="uq_tenant_keys_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    backend: Mapped[str] = mapped_column(String(16))
    material: Mapped[bytes | None] = mapped_column(LargeBinary)
    lookup_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
