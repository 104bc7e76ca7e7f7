"""Remote signing by the Cloud Signature Consortium API (issue 19): one row per credentials/authorize.

A row is the borrower's (or the seal's) authorisation of exactly the hashes
the MFO named, for one credential, one tenant and a short lifetime. The
signature activation data (SAD) handed back is kept only as its keyed hash
(``sad_digest``), as is the OAuth2 authorisation code of the signing-page
flow (``code_digest``) and the page's token (``page_token_digest``).
``evidence`` is what the signatures prove: the CSC request as received
(never an OTP), the policy, the factors in order, and each signature.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, UTCDateTime


class CSCActivationStatus(enum.StrEnum):
    PENDING = "pending"          # waiting for the borrower on the signing page (OAuth2 authorisation code)
    AUTHORISED = "authorised"    # the factors are proven; the SAD (or the code) is out
    USED = "used"                # signatures/signHash spent it


class CSCActivationRow(Base):
    __tablename__ = "csc_activations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    credential: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    signer_serial: Mapped[str] = mapped_column(String(40))
    document_kind: Mapped[str | None] = mapped_column(String(32))
    policy: Mapped[str | None] = mapped_column(String(64))
    hash_algo: Mapped[str | None] = mapped_column(String(64))
    hashes: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    sad_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    page_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    redirect_uri: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    authorised_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
    evidence: Mapped[dict] = mapped_column(JSON)
