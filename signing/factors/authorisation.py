"""Signing authorisations: what unlocks a client's key that the service holds.

In the spirit of signature activation data (EN 419 241-1, SCAL2): the key
of a client held by the service signs only with a single-use authorisation
bound to one document state (its SHA-256), one signer certificate and one
tenant, granted after the client proved their will with the factors a
policy demands. Granting is for the factor check (issue 5) alone; the
signing service checks the authorisation before it signs and consumes it in
the same transaction that stores the signed version, so a crash leaves
either both or neither.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from ca.errors import QoltanbaError
from registry import RegistryTransaction, SigningAuthorisationRow


class NotAuthorised(QoltanbaError):
    def __init__(self, detail: str) -> None:
        super().__init__("authorisation-required", detail, [])


@dataclass(frozen=True)
class Authorisation:
    id: str
    document_id: str
    document_sha256: str
    signer_serial: str
    granted_at: dt.datetime
    expires_at: dt.datetime

    def as_json(self) -> dict:
        return {"id": self.id, "document": self.document_id, "document_sha256": self.document_sha256,
                "signer_serial": self.signer_serial, "granted_at": self.granted_at.isoformat(),
                "expires_at": self.expires_at.isoformat()}


class AuthorisationService:
    def __init__(self, clock, ttl: dt.timedelta = dt.timedelta(minutes=5)) -> None:
        self.clock = clock
        self.ttl = ttl

    def grant(self, tx: RegistryTransaction, *, tenant: str, document_row_id: int, document_public_id: str,
              document_sha256: str, signer_serial: str, granted_by: str, evidence: dict | None = None) -> Authorisation:
        """Record a single-use authorisation; called only once the factors are proven."""
        now = self.clock.now()
        row = tx.authorisations.add(SigningAuthorisationRow(
            public_id=secrets.token_hex(16), tenant=tenant, document_id=document_row_id,
            document_sha256=document_sha256, signer_serial=signer_serial.lower(), granted_at=now,
            expires_at=now + self.ttl, granted_by=granted_by, evidence=evidence or {}))
        tx.audit.append(at=now, actor=granted_by, action="signing.authorised", subject=document_public_id,
                        details={"authorisation": row.public_id, "signer_serial": row.signer_serial,
                                 "document_sha256": document_sha256})
        return _view(row, document_public_id)

    def check(self, tx: RegistryTransaction, authorisation_id: str | None, *, tenant: str, document_row_id: int,
              document_public_id: str, document_sha256: str, for_update: bool = False) -> SigningAuthorisationRow:
        """The authorisation if it unlocks this signature now; NotAuthorised otherwise."""
        if not authorisation_id:
            raise NotAuthorised("signing with a key the service holds needs the client's authorisation")
        row = tx.authorisations.by_public_id(tenant, authorisation_id, for_update=for_update)
        if row is None or row.document_id != document_row_id:
            raise NotAuthorised("no such authorisation for this document")
        if row.consumed_at is not None:
            raise NotAuthorised("the authorisation was already used")
        if self.clock.now() >= row.expires_at:
            raise NotAuthorised("the authorisation has expired")
        if row.document_sha256 != document_sha256:
            raise NotAuthorised("the authorisation was given for another state of the document")
        return row

    def consume(self, tx: RegistryTransaction, authorisation_id: str | None, **binding) -> SigningAuthorisationRow:
        row = self.check(tx, authorisation_id, for_update=True, **binding)
        row.consumed_at = self.clock.now()
        return row


def _view(row: SigningAuthorisationRow, document_public_id: str) -> Authorisation:
    return Authorisation(id=row.public_id, document_id=document_public_id, document_sha256=row.document_sha256,
                         signer_serial=row.signer_serial, granted_at=row.granted_at, expires_at=row.expires_at)
