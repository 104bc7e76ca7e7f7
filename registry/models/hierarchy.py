"""The hierarchy: centres, their certificates (live and archived) and the registry's counters."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, UTCDateTime
from registry.sealing import Clear, SealSpec, register


class CertificateStatus(enum.StrEnum):
    """A certificate's status as stored in ``certificates.status`` (RFC 5280 terms, lower case).

    A ``StrEnum``: members are the very strings stored and shown by the API.
    """

    VALID = "valid"
    REVOKED = "revoked"


class CentreStatus(enum.StrEnum):
    """A centre's status (``centres.status``): running, or stopped for good (its CA certificate revoked).

    A ``StrEnum``: members are the very strings stored.
    """

    ACTIVE = "active"
    STOPPED = "stopped"


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
    status: Mapped[str] = mapped_column(String(16), default=CentreStatus.ACTIVE)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# LOAN-15 (migration 0021): a certificate's personal fields, sealed under the register key (registry/register.py).
# The archive's rows name the same table, so a row moved there by retention opens as it is.
CERTIFICATE_SEAL = SealSpec("certificates", ("subject_dn", "common_name", "iin", "bin", "email", "organisation",
                                             "der"), ("issuer_id", "serial"),
                            {"iin": ("iin_digest", "iin"), "bin": ("bin_digest", "bin")}, register=True)


class _CertificateColumns:
    """The columns a certificate keeps, live or archived."""

    __sealed__ = CERTIFICATE_SEAL
    subject_dn = Clear()
    common_name = Clear()
    iin = Clear()
    bin = Clear()
    email = Clear()
    organisation = Clear()
    der = Clear()

    serial: Mapped[str] = mapped_column(String(40))
    profile: Mapped[str] = mapped_column(String(40))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    kek_version: Mapped[int | None] = mapped_column(Integer)
    iin_digest: Mapped[str | None] = mapped_column(String(64))
    bin_digest: Mapped[str | None] = mapped_column(String(64))
    # A service's certificate (TSA, OCSP, audit: ``service:<name>``) also in clear, for ``qoltanba verify``'s
    # read-only start (registry/readonly.py), which holds no key; NULL for everyone else's.
    service_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A person's holder is the keyed hash of "IIN…[/BIN…]" (registry.register.holder_value); a service's or a
    # tenant's own (service:tsa, tenant:alpha) is kept as it is.
    holder: Mapped[str] = mapped_column(String(64))
    single_key_holder: Mapped[str | None] = mapped_column(String(64))
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=CertificateStatus.VALID)
    key_algorithm: Mapped[str] = mapped_column(String(32))
    key_carrier: Mapped[str] = mapped_column(String(32))
    key_handle: Mapped[str | None] = mapped_column(String(200))
    fingerprint_sha256: Mapped[str] = mapped_column(String(64))
    issued_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Revocation is kept on the certificate's own row (NAT-5: date and time);
    # the full record, with its grounds and journal columns, is a RevocationRow.
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(String(32))
    # A key the service held for its holder, destroyed in the backend (issue 15); the handle is cleared then.
    key_destroyed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


_SINGLE_KEY_SET = text("single_key_holder IS NOT NULL")
_BIN_SET = text("bin_digest IS NOT NULL")


@register
class CertificateRow(_CertificateColumns, Base):
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("issuer_id", "serial", name="uq_certificates_issuer_serial"),
        # GOV-4: NULL while not applicable, so only one active key per holder. Partial
        # (migration 0012), as is the BIN index: rows without the value cost no index page.
        Index("uq_certificates_single_key_holder", "issuer_id", "single_key_holder", unique=True,
              sqlite_where=_SINGLE_KEY_SET, postgresql_where=_SINGLE_KEY_SET),
        Index("ix_certificates_iin", "iin_digest"),
        Index("ix_certificates_bin", "bin_digest", sqlite_where=_BIN_SET, postgresql_where=_BIN_SET),
        Index("ix_certificates_issuer_status", "issuer_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))


@register
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


class SequenceRow(Base):
    """Named counters advanced inside a transaction (the row lock orders their users)."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
