"""The signing policy a tenant's documents are signed under: its own, or the installation's (issue 15).

A tenant's own policy is kept with the tenant as the JSON the strict loader
reads (signing/policies/loader.py), and is refused unless it stays on or
above the floor DOMAIN.md sets (signing/policies/floor.py). Only its rules
apply to the tenant's documents; one-time codes, liveness challenges and a
request's lifetime stay the installation's.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from ca.errors import InvalidInput, Problem
from registry import TenantRow
from signing.policies.floor import floor_problems
from signing.policies.loader import PolicyError, load_policies
from signing.policies.policy import SigningPolicies


def checked_policy(policy: object, field: str = "policy") -> tuple[SigningPolicies | None, list[Problem]]:
    """The policy loaded and checked against the floor, or every problem with it."""
    try:
        loaded = load_policies(policy)
    except PolicyError as error:
        return None, [Problem(field, p) for p in error.problems]
    problems = [Problem(field, p + " (a tenant's policy may ask for more than DOMAIN.md, never less)")
                for p in floor_problems(loaded)]
    return (None, problems) if problems else (loaded, [])


def require_policy(policy: object) -> SigningPolicies:
    loaded, problems = checked_policy(policy)
    if problems or loaded is None:
        raise InvalidInput("the tenant's signing policy is refused", problems)
    return loaded


class TenantRows(Protocol):
    def by_code(self, code: str, *, for_update: bool = False) -> TenantRow | None: ...


class TenantPolicies:
    """The policy in force for a tenant's documents, read in the caller's unit of work."""

    def __init__(self, installation: SigningPolicies) -> None:
        self.installation = installation
        self._loaded: dict[str, SigningPolicies] = {}
        self._lock = threading.Lock()

    def of(self, tx: Any, tenant: str) -> SigningPolicies:
        row = tx.tenants.by_code(tenant) if tenant else None
        if row is None or row.policy is None:
            return self.installation
        key = repr(sorted(row.policy.items())) if isinstance(row.policy, dict) else str(row.policy)
        with self._lock:
            loaded = self._loaded.get(key)
        if loaded is None:
            loaded = load_policies(row.policy)   # checked against the floor when it was set
            with self._lock:
                self._loaded[key] = loaded
        return loaded


__all__ = ["TenantPolicies", "checked_policy", "require_policy"]
