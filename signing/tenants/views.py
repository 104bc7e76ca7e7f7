"""What an administrator, or the tenant's own API key, sees of a tenant (issue 15); never a secret."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from registry import TenantRow
from signing.stamps import holder_numbers


@dataclass(frozen=True)
class SealView:
    source: str
    serial: str
    subject: str
    bin: str | None
    not_after: dt.datetime
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "serial": self.serial, "subject": self.subject, "bin": self.bin,
                "not_after": self.not_after.isoformat(), "sha256": self.sha256}


@dataclass(frozen=True)
class KeyView:
    """An API key of the tenant: its actor's name and key id, never the key."""

    name: str
    role: str
    key_id: str
    active: bool
    created_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "key_id": self.key_id, "active": self.active,
                "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class TenantView:
    code: str
    bin: str
    name: str
    status: str
    seal: SealView
    own_policy: bool
    rules: tuple[str, ...]
    webhook: str | None
    api_keys: tuple[KeyView, ...]
    forms: int
    created_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "bin": self.bin, "name": self.name, "status": self.status,
                "seal": self.seal.as_json(), "own_policy": self.own_policy, "rules": list(self.rules),
                "webhook": self.webhook, "api_keys": [k.as_json() for k in self.api_keys], "forms": self.forms,
                "created_at": self.created_at.isoformat()}


def seal_view(row: TenantRow) -> SealView:
    certificate = x509.load_der_x509_certificate(row.seal_der)
    return SealView(source=row.seal_source, serial=row.seal_serial, subject=certificate.subject.rfc4514_string(),
                    bin=holder_numbers(certificate)[1], not_after=certificate.not_valid_after_utc,
                    sha256=hashlib.sha256(row.seal_der).hexdigest())


def tenant_view(tx: Any, row: TenantRow) -> TenantView:
    """The tenant with its seal, webhook address, API keys (names and ids) and how many forms it registered."""
    webhook = tx.webhook_endpoints.of_tenant(row.code)
    keys = tuple(KeyView(a.name, a.role, a.key_id, bool(a.active), a.created_at)
                 for a in tx.actors.all() if a.tenant == row.code)
    rules = tuple(r.get("name", "") for r in row.policy.get("rules", [])) if isinstance(row.policy, dict) else ()
    return TenantView(code=row.code, bin=row.bin, name=row.name, status=row.status, seal=seal_view(row),
                      own_policy=row.policy is not None, rules=rules, webhook=webhook.url if webhook else None,
                      api_keys=keys, forms=tx.contract_forms.count_of_tenant(row.code), created_at=row.created_at)


__all__ = ["KeyView", "SealView", "TenantView", "seal_view", "tenant_view"]
