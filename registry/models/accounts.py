"""The borrower's own account in the MFO's personal cabinet (issue 16, LOAN-7, LOAN-8, LOAN-9).

The borrower's personal data held here is sealed per tenant (LOAN-15,
registry/sealing.py): the bank details of an account (``bank_account``, the
IBAN, ``bank_bic``, ``bank_name``) and a change not yet proven
(``new_phone``, ``new_bank_account``, ``new_bank_bic``, ``new_bank_name``)
are ``Clear`` fields the database keeps only inside each row's ``sealed``
column. The phone in force is the client's (``clients``, ``client_factors``,
sealed there).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, UTCDateTime
from registry.sealing import Clear, SealSpec, register, sealed_columns


class AccountStatus(enum.StrEnum):
    """``borrower_accounts.status``: invited by the MFO, then active once registration is proven (LOAN-7)."""

    INVITED = "invited"
    ACTIVE = "active"


class CeremonyStatus(enum.StrEnum):
    """``borrower_ceremonies.status``: open while factors are given, done, or locked after too many failures."""

    OPEN = "open"
    DONE = "done"
    LOCKED = "locked"


@register
class BorrowerAccountRow(Base):
    """A client's account in the personal cabinet, within the client's tenant (one per client).

    ``invitation_digest``: the keyed hash of the token the MFO's invitation
    sent to the client's phone, valid until ``invitation_expires_at``.
    ``password_hash``: argon2id (argon2-cffi), chosen at registration.
    ``totp_secret``: an optional authenticator's seed, sealed (AES-256-GCM
    under a key derived from the master key, bound to the account's id);
    ``totp_confirmed_at`` once its first code was given; ``totp_last_step``
    so a code is used once. ``failures`` counts consecutive failed logins;
    at the limit the account is locked until ``locked_until`` (LOAN-8).
    """

    __tablename__ = "borrower_accounts"
    __sealed__ = SealSpec("borrower_accounts", ("bank_account", "bank_bic", "bank_name"), ("public_id",))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    invitation_digest: Mapped[str | None] = mapped_column(String(64))
    invitation_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(2))
    bank_account = Clear()                       # the IBAN (sealed, LOAN-15)
    bank_bic = Clear()
    bank_name = Clear()
    data_key, kek_version, sealed = sealed_columns()
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
    registered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


@register
class BorrowerCeremonyRow(Base):
    """The factors an account action needs, given one by one: registration (LOAN-7) or a details change (LOAN-9).

    ``required`` and ``proven`` are lists of factor names (sms, biometric,
    eds); ``movements`` the liveness challenge (LOAN-4); ``nonce`` goes into
    the text the borrower's EDS signs; ``phone_factor_id`` the pending phone
    the SMS code went to. ``failures`` counts refused proofs; at the code
    policy's limit the ceremony locks. A change's new phone and bank details
    are sealed with the account's tenant (``tenant``, set from the account).
    """

    __tablename__ = "borrower_ceremonies"
    __sealed__ = SealSpec("borrower_ceremonies", ("new_phone", "new_bank_account", "new_bank_bic", "new_bank_name"),
                          ("public_id",), tenant_of=lambda session, row: session.get(BorrowerAccountRow,
                                                                                     row.account_id).tenant)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("borrower_accounts.id"), index=True)
    tenant: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    required: Mapped[list] = mapped_column(JSON)
    proven: Mapped[list] = mapped_column(JSON)
    movements: Mapped[list] = mapped_column(JSON)
    nonce: Mapped[str] = mapped_column(String(64))
    phone_factor_id: Mapped[int | None] = mapped_column(ForeignKey("client_factors.id"))
    new_phone = Clear()
    new_bank_account = Clear()
    new_bank_bic = Clear()
    new_bank_name = Clear()
    data_key, kek_version, sealed = sealed_columns()
    assertion_id: Mapped[str | None] = mapped_column(String(128))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class BorrowerSessionRow(Base):
    """A borrower's login: the token's id and the SHA-256 of its 256-bit secret, never the token."""

    __tablename__ = "borrower_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    token_digest: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("borrower_accounts.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
