"""Signing authorisations: what unlocks a client's key that the service holds.

In the spirit of signature activation data (EN 419 241-1, SCAL2): the key
of a client held by the service signs only with a single-use authorisation
bound to one document state (its SHA-256), one signer certificate and one
tenant, granted after the client proved their will with the factors a
policy demands. Granting is for the factor check (issue 5) alone; the
signing service checks the authorisation before it signs and consumes it in
the same transaction that stores the signed version, so a crash leaves
either both or neither.

The key itself demands it too (pyca/cryptography's "hard to misuse"): a held
key's signer (signing/factors/held_keys.py) signs only when handed an
``Authorisation`` object, and only this module can make one, from a grant
it recorded (``grant``, ``unlock``). The object is bound to the document
state, the signer certificate and the tenant, and is spent by its first
signature.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from ca.errors import QoltanbaError
from registry import SigningAuthorisationRow


class NotAuthorised(QoltanbaError):
    def __init__(self, detail: str) -> None:
        super().__init__("authorisation-required", detail, [])


class AuthorisationRows(Protocol):
    def add(self, row: SigningAuthorisationRow) -> SigningAuthorisationRow: ...
    def by_public_id(self, tenant: str, public_id: str, *,
                     for_update: bool = False) -> SigningAuthorisationRow | None: ...


class AuditTrail(Protocol):
    def append(self, *, at: dt.datetime, actor: str, action: str, subject: str,
               details: dict[str, Any] | None = None) -> int: ...


class AuthorisationStore(Protocol):
    """What granting and checking touch in the caller's unit of work (a ``RegistryTransaction`` is one)."""

    @property
    def authorisations(self) -> AuthorisationRows: ...
    @property
    def audit(self) -> AuditTrail: ...


@dataclass(frozen=True)
class GrantEvidence:
    """What a grant records of the will it follows: the signing request, its policy, the factors in order."""

    signing_request: str
    policy: str
    factors: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"signing_request": self.signing_request, "policy": self.policy, "factors": list(self.factors)}


# Only this module holds it, so only this module makes an Authorisation.
_GRANTED = object()


class Authorisation:
    """A granted authorisation: what a held key's signer demands before it signs, once."""

    __slots__ = ("id", "document_id", "document_sha256", "signer_serial", "tenant", "granted_at", "expires_at",
                 "_spent")

    def __init__(self, *, id: str, document_id: str, document_sha256: str, signer_serial: str,  # noqa: A002
                 tenant: str, granted_at: dt.datetime, expires_at: dt.datetime, _by: object = None) -> None:
        if _by is not _GRANTED:
            raise TypeError("an Authorisation is made by the factor check only (AuthorisationService.grant/unlock)")
        self.id = id
        self.document_id = document_id
        self.document_sha256 = document_sha256
        self.signer_serial = signer_serial
        self.tenant = tenant
        self.granted_at = granted_at
        self.expires_at = expires_at
        self._spent = False

    def __copy__(self) -> "Authorisation":
        raise TypeError("an Authorisation cannot be copied: it is spent by one signature")

    def __deepcopy__(self, memo: dict) -> "Authorisation":
        raise TypeError("an Authorisation cannot be copied: it is spent by one signature")

    def __reduce__(self):  # noqa: ANN204 - pickling would copy it too
        raise TypeError("an Authorisation cannot be copied: it is spent by one signature")

    @property
    def spent(self) -> bool:
        return self._spent

    def spend(self, *, document_sha256: str, signer_serial: str) -> None:
        """Used up by the signature it unlocks; refused for another document state or signer, or a second time."""
        if self._spent:
            raise NotAuthorised("the authorisation was already used")
        if document_sha256 != self.document_sha256:
            raise NotAuthorised("the authorisation was given for another state of the document")
        if signer_serial.lower() != self.signer_serial:
            raise NotAuthorised("the authorisation was given for another signer certificate")
        self._spent = True

    def as_json(self) -> dict:
        return {"id": self.id, "document": self.document_id, "document_sha256": self.document_sha256,
                "signer_serial": self.signer_serial, "granted_at": self.granted_at.isoformat(),
                "expires_at": self.expires_at.isoformat()}


class AuthorisationService:
    def __init__(self, clock, ttl: dt.timedelta = dt.timedelta(minutes=5)) -> None:
        self.clock = clock
        self.ttl = ttl

    def grant(self, tx: AuthorisationStore, *, tenant: str, document_row_id: int, document_public_id: str,
              document_sha256: str, signer_serial: str, granted_by: str,
              evidence: GrantEvidence | None = None) -> Authorisation:
        """Record a single-use authorisation; called only once the factors are proven."""
        now = self.clock.now()
        row = tx.authorisations.add(SigningAuthorisationRow(
            public_id=secrets.token_hex(16), tenant=tenant, document_id=document_row_id,
            document_sha256=document_sha256, signer_serial=signer_serial.lower(), granted_at=now,
            expires_at=now + self.ttl, granted_by=granted_by, evidence=evidence.as_json() if evidence else {}))
        tx.audit.append(at=now, actor=granted_by, action="signing.authorised", subject=document_public_id,
                        details={"authorisation": row.public_id, "signer_serial": row.signer_serial,
                                 "document_sha256": document_sha256})
        return _view(row, document_public_id)

    def unlock(self, tx: AuthorisationStore, authorisation_id: str | None, *, tenant: str, document_row_id: int,
               document_public_id: str, document_sha256: str) -> Authorisation:
        """The authorisation object a held key demands, made from the grant recorded for this document state."""
        row = self.check(tx, authorisation_id, tenant=tenant, document_row_id=document_row_id,
                         document_public_id=document_public_id, document_sha256=document_sha256)
        return _view(row, document_public_id)

    def check(self, tx: AuthorisationStore, authorisation_id: str | None, *, tenant: str, document_row_id: int,
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

    def for_hash(self, *, activation: str, tenant: str, signer_serial: str, digest_hex: str,
                 granted_at: dt.datetime, expires_at: dt.datetime) -> Authorisation:
        """The object a held key demands to sign one hash a client authorised through the CSC door (issue 19).

        The CSC service (signing/requests/csc.py) calls it only for a hash of an activation it found
        authorised, unexpired, unused, of this tenant and this credential, inside the transaction that
        marks it used; the object is bound to that hash and spent by its one signature.
        """
        if self.clock.now() >= expires_at:
            raise NotAuthorised("the authorisation has expired")
        return Authorisation(id=activation, document_id=f"csc:{activation}", document_sha256=digest_hex,
                             signer_serial=signer_serial.lower(), tenant=tenant, granted_at=granted_at,
                             expires_at=expires_at, _by=_GRANTED)

    def consume(self, tx: AuthorisationStore, authorisation_id: str | None, **binding) -> SigningAuthorisationRow:
        row = self.check(tx, authorisation_id, for_update=True, **binding)
        row.consumed_at = self.clock.now()
        return row


def _view(row: SigningAuthorisationRow, document_public_id: str) -> Authorisation:
    return Authorisation(id=row.public_id, document_id=document_public_id, document_sha256=row.document_sha256,
                         signer_serial=row.signer_serial, tenant=row.tenant, granted_at=row.granted_at,
                         expires_at=row.expires_at, _by=_GRANTED)
