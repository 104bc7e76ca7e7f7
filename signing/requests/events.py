"""The events a signing request tells the tenant's webhook of (signing/webhooks/)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

STATUS_EVENT = "signing_request.status"


@dataclass(frozen=True)
class StatusChanged:
    """A signing request moved from ``previous`` to ``status``: the body the MFO's backend receives."""

    request: str
    document: str | None
    status: str
    previous: str | None
    at: dt.datetime
    policy: str
    earliest_payout_at: dt.datetime | None

    name = STATUS_EVENT

    @property
    def subject(self) -> str:
        return self.request

    def as_json(self) -> dict[str, Any]:
        return {"request": self.request, "document": self.document, "status": self.status,
                "previous": self.previous, "at": self.at.isoformat(), "policy": self.policy,
                "earliest_payout_at": self.earliest_payout_at.isoformat() if self.earliest_payout_at else None}


__all__ = ["STATUS_EVENT", "StatusChanged"]
