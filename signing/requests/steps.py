"""What the client's steps answer (issue 21, item 4: typed contracts).

``FactorProofs`` and ``ClientSigning`` return these; only the edges (the
client routes of api/http/routes/signing_requests.py) turn them into JSON
with ``as_json()``, whose shape is the API's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from signing.requests.lifecycle import RequestView


@dataclass(frozen=True)
class DocumentShown:
    """The document a request puts before the client, in the state the factors are bound to."""

    id: str
    kind: str
    title: str | None
    contract_number: str
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "title": self.title, "contract_number": self.contract_number,
                "sha256": self.sha256}


@dataclass(frozen=True)
class ClientRequestView:
    """The signing request as its client sees it: the request, the document, what is enrolled and still missing."""

    request: RequestView
    document: DocumentShown
    enrolled: tuple[str, ...]
    missing: str
    can_confirm: bool

    @property
    def status(self) -> str:
        return self.request.status

    def as_json(self) -> dict[str, Any]:
        view = self.request.as_json()
        view.pop("tenant", None)
        return view | {"document": self.document.as_json(), "enrolled": sorted(self.enrolled),
                       "missing": self.missing, "can_confirm": self.can_confirm}


@dataclass(frozen=True)
class CodeSent:
    """SMS: a code went to the client's confirmed phone (shown masked)."""

    sent_to: str
    expires_at: dt.datetime
    resend_after: dt.datetime
    factor: str = "sms"

    def as_json(self) -> dict[str, Any]:
        return {"factor": self.factor, "sent_to": self.sent_to, "expires_at": self.expires_at.isoformat(),
                "resend_after": self.resend_after.isoformat()}


@dataclass(frozen=True)
class TotpReady:
    """TOTP: nothing is sent; the authenticator's code is awaited."""

    digits: int = 6
    factor: str = "totp"

    def as_json(self) -> dict[str, Any]:
        return {"factor": self.factor, "digits": self.digits, "ready": True}


@dataclass(frozen=True)
class Challenge:
    """Biometrics: the liveness challenge the identity provider films the client answering (LOAN-4)."""

    challenge: str
    movements: tuple[str, ...]
    expires_at: dt.datetime
    provider: str
    factor: str = "biometric"

    def as_json(self) -> dict[str, Any]:
        return {"factor": self.factor, "challenge": self.challenge, "movements": list(self.movements),
                "expires_at": self.expires_at.isoformat(), "provider": self.provider}


FactorStarted = CodeSent | TotpReady | Challenge

__all__ = ["Challenge", "ClientRequestView", "CodeSent", "DocumentShown", "FactorStarted", "TotpReady"]
