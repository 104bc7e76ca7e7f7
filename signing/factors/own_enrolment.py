"""Factors only the client controls: an authenticator enrolled on the client's own channel (issue 15).

A TOTP seed is a shared secret: whoever holds it makes the codes. Given to
the MFO's API key (as it was), it let the MFO produce the client's codes,
so the factor showed nothing of the client's will. Now:

1. the MFO asks for the factor (``POST /clients/{id}/factors {"kind":
   "totp"}``) and gets a pending factor with no seed;
2. the service sends a link with a random enrolment token to the client's
   confirmed phone (the token in the link's fragment, which no server
   logs); only its keyed hash is kept, for 24 hours;
3. the client's page shows the seed (``POST /client/factors/{id}/secret``
   with ``X-Enrolment-Token``) and confirms the authenticator with a first
   code (``POST /client/factors/{id}/confirm``);
4. wrong codes count as a phone's do: after the code policy's
   ``max_failures`` (5) the pending enrolment is locked for good (the seed
   discarded, audited); the MFO asks for a new one.

The MFO sees the factor, its status and when it was confirmed, never the
seed or the token (tests/integration/test_own_factors.py walks every route).
"""

from __future__ import annotations

import datetime as dt
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from ca.errors import ConflictError, Problem, QoltanbaError
from registry import ClientFactorRow, ClientRow, FactorStatus
from signing.factors.authorisation import AuditTrail
from signing.factors.codes import new_totp_secret, provisioning_uri, totp_step
from signing.factors.errors import FactorRefused
from signing.factors.sms import SMSSender, english, link_text
from signing.policies.policy import CodePolicy, Factor

ENROLMENT_TTL = dt.timedelta(hours=24)
TOKEN_HEADER = "X-Enrolment-Token"
PENDING, ACTIVE, REVOKED = FactorStatus.PENDING, FactorStatus.ACTIVE, FactorStatus.REVOKED


class Secrets(Protocol):
    def seal(self, plaintext: bytes, context: str) -> bytes: ...
    def open(self, sealed: bytes, context: str) -> bytes: ...
    def keyed_hash(self, *parts: str | bytes) -> str: ...
    def matches(self, expected_hex: str, *parts: str | bytes) -> bool: ...


class FactorRows(Protocol):
    def add(self, row: ClientFactorRow) -> ClientFactorRow: ...
    def of_client(self, client_id: int, *, kind: str | None = None, status: str | None = None,
                  for_update: bool = False) -> list[ClientFactorRow]: ...
    def enrolling(self, public_id: str, *,
                  for_update: bool = False) -> tuple[ClientFactorRow, ClientRow] | None: ...


class OwnEnrolmentStore(Protocol):
    """What the client's own enrolment touches (a ``registry.RegistryTransaction`` is one)."""

    @property
    def client_factors(self) -> FactorRows: ...
    @property
    def audit(self) -> AuditTrail: ...


class OwnEnrolmentStorage(Protocol):
    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[OwnEnrolmentStore]: ...


class EnrolmentTokenRefused(QoltanbaError):
    def __init__(self) -> None:
        super().__init__("unauthenticated", f"the enrolment token is missing, wrong or expired (header "
                                            f"{TOKEN_HEADER}; it came in the link sent to the client's phone)", [])


@dataclass(frozen=True)
class OwnFactorView:
    """What the client's page sees: the seed and its URI while the enrolment waits for its first code."""

    id: str
    kind: str
    status: str
    expires_at: dt.datetime | None
    wrong_tries_left: int
    secret: str | None = None
    uri: str | None = None

    def as_json(self) -> dict[str, Any]:
        shown = {"id": self.id, "kind": self.kind, "status": self.status, "wrong_tries_left": self.wrong_tries_left,
                 "expires_at": self.expires_at.isoformat() if self.expires_at else None}
        return shown | ({"secret": self.secret, "uri": self.uri} if self.secret else {})


def begin_totp(tx: OwnEnrolmentStore, secrets_: Secrets, client: ClientRow, now: dt.datetime,
               actor: str) -> tuple[ClientFactorRow, str]:
    """A pending TOTP factor with a sealed seed, and the enrolment token for the client's phone (not the caller's).

    Needs a confirmed phone: that is where the token goes. An earlier enrolment still pending is discarded.
    """
    if not tx.client_factors.of_client(client.id, kind=Factor.SMS.value, status=ACTIVE):
        raise ConflictError("the client's phone is not confirmed yet: the authenticator is enrolled through the "
                            "link sent to it", [Problem("kind", "confirm the client's phone first")])
    for old in tx.client_factors.of_client(client.id, kind=Factor.TOTP.value, status=PENDING, for_update=True):
        old.status, old.revoked_at, old.enrolment_token_digest = REVOKED, now, None
        tx.audit.append(at=now, actor=actor, action="factor.discarded", subject=f"client:{client.public_id}",
                        details={"tenant": client.tenant, "factor": old.public_id, "kind": old.kind,
                                 "stage": "enrolment", "replaced": True})
    public_id, token = secrets.token_hex(16), secrets.token_urlsafe(24)
    row = tx.client_factors.add(ClientFactorRow(
        public_id=public_id, client_id=client.id, kind=Factor.TOTP.value, status=PENDING,
        secret=secrets_.seal(new_totp_secret().encode(), f"totp:{public_id}"),
        enrolment_token_digest=secrets_.keyed_hash("enrolment", public_id, token),
        enrolment_expires_at=now + ENROLMENT_TTL, created_at=now))
    return row, token


def send_link(sms: SMSSender, tenant: str, phone: str, base_url: str, factor_id: str, token: str, *,
              say=english, language: str = "kk") -> None:  # noqa: ANN001 - Say
    """The link to the client's phone, in the client's ``language`` (issue 20)."""
    hours = int(ENROLMENT_TTL.total_seconds() // 3600)
    link = f"{base_url.rstrip('/')}/client/factors/{factor_id}#{token}"
    sms.send(tenant, phone, link_text(say, language, link=link, hours=hours))


class OwnEnrolment:
    """The client's own channel: the seed shown to the token's holder only, confirmed by a first code."""

    def __init__(self, registry: OwnEnrolmentStorage, clock, secrets_: Secrets, codes: CodePolicy,  # noqa: ANN001
                 issuer: str = "Qoltanba") -> None:
        self.registry = registry
        self.clock = clock
        self.secrets = secrets_
        self.codes = codes
        self.issuer = issuer

    def show(self, factor_id: str, token: str | None) -> OwnFactorView:
        """The seed and the otpauth URI, while the enrolment waits (the page draws the QR code from the URI)."""
        with self.registry.transaction(readonly=True) as tx:
            row, client = self._factor(tx, factor_id, token)
            secret = self.secrets.open(row.secret, f"totp:{row.public_id}").decode()
            uri = provisioning_uri(secret, f"{client.name} ({client.iin[-4:]})", self.issuer)
            return self._view(row, secret=secret, uri=uri)

    def confirm(self, factor_id: str, token: str | None, code: str) -> OwnFactorView:
        now = self.clock.now()
        refused: str | None = None
        with self.registry.transaction() as tx:
            row, client = self._factor(tx, factor_id, token, for_update=True)
            tenant = client.tenant
            actor = f"client:{client.public_id}"
            secret = self.secrets.open(row.secret, f"totp:{row.public_id}").decode()
            step = totp_step(secret, code, now)
            if step is not None:
                row.status, row.confirmed_at, row.last_step, row.enrolment_token_digest = ACTIVE, now, step, None
            else:
                row.failures += 1
                refused = "is wrong"
                if row.failures >= self.codes.max_failures:
                    row.status, row.revoked_at = REVOKED, now
                    refused += f"; {_locked(row)}"
                    tx.audit.append(at=now, actor=actor, action="factor.discarded",
                                    subject=f"client:{client.public_id}",
                                    details={"tenant": tenant, "factor": row.public_id, "kind": row.kind,
                                             "failures": row.failures, "stage": "enrolment", "channel": "client"})
            tx.audit.append(at=now, actor=actor, action="factor.confirmed" if refused is None else "factor.failed",
                            subject=f"client:{client.public_id}",
                            details={"tenant": tenant, "factor": row.public_id, "kind": row.kind,
                                     "stage": "enrolment", "channel": "client",
                                     **({"reason": refused} if refused else {})})
            view = self._view(row)
        if refused is not None:
            raise FactorRefused("the code is refused", [Problem("code", refused if view.status == REVOKED else
                                                                f"{refused}; {view.wrong_tries_left} more wrong "
                                                                "codes lock the enrolment")])
        return view

    # -- helpers ---------------------------------------------------------------------------------

    def _factor(self, tx: OwnEnrolmentStore, factor_id: str, token: str | None, *,
                for_update: bool = False) -> tuple[ClientFactorRow, ClientRow]:
        found = tx.client_factors.enrolling(factor_id, for_update=for_update) \
            if isinstance(factor_id, str) and len(factor_id) == 32 else None
        expected = found[0].enrolment_token_digest if found is not None else self.secrets.keyed_hash("none")
        matches = self.secrets.matches(expected, "enrolment", factor_id if found is not None else "", token or "")
        if found is None or not token or not matches or self.clock.now() >= found[0].enrolment_expires_at:
            raise EnrolmentTokenRefused()
        row = found[0]
        if row.status != PENDING:
            raise ConflictError(_locked(row) if row.confirmed_at is None and row.failures >= self.codes.max_failures
                                else f"the factor is {row.status}, not waiting for confirmation")
        return found

    def _view(self, row: ClientFactorRow, **shown: str) -> OwnFactorView:
        return OwnFactorView(id=row.public_id, kind=row.kind, status=row.status, expires_at=row.enrolment_expires_at,
                             wrong_tries_left=max(0, self.codes.max_failures - row.failures), **shown)


def _locked(row: ClientFactorRow) -> str:
    return (f"the TOTP enrolment was discarded after {row.failures} wrong codes; enrol the authenticator again "
            "(the MFO asks for a new link)")


__all__ = ["ENROLMENT_TTL", "TOKEN_HEADER", "EnrolmentTokenRefused", "OwnEnrolment", "OwnEnrolmentStorage",
           "OwnEnrolmentStore", "OwnFactorView", "begin_totp", "send_link"]
