"""API keys and roles.

A key reads ``qk_<key id>_<secret>``. The registry keeps the key id and the
SHA-256 of the secret: keys are 256-bit random strings, so a slow password
hash would add latency and no strength. Comparison is constant-time.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from ca.clock import Clock
from ca.errors import ConflictError, InvalidInput, Problem, QoltanbaError
from registry import ActorRow, Conflict, Registry, RegistryTransaction


class Role(str, enum.Enum):
    ADMINISTRATOR = "administrator"
    REGISTRAR = "registrar"
    AUDITOR = "auditor"
    MFO = "mfo"
    # Reads the operational metrics (GET /metrics) and nothing else: the key a Prometheus server holds (issue 17).
    MONITOR = "monitor"


# What each role may do. An administrator may do everything a registrar
# may; an auditor only reads.
READ = frozenset({Role.ADMINISTRATOR, Role.REGISTRAR, Role.AUDITOR})
REGISTRAR = frozenset({Role.ADMINISTRATOR, Role.REGISTRAR})
ADMINISTRATOR = frozenset({Role.ADMINISTRATOR})
# Loan documents belong to an MFO (its key names the tenant); an
# administrator may read them, naming the tenant, but never uploads.
MFO = frozenset({Role.MFO})
DOCUMENT_READ = frozenset({Role.MFO, Role.ADMINISTRATOR})
METRICS = frozenset({Role.MONITOR, Role.ADMINISTRATOR})


class Unauthenticated(QoltanbaError):
    """``kind`` names what was rejected when a credential was presented (ca/auth_failures.py counts it per
    source; it writes no audit entry of its own, issue 18); None when none was, or it is a real one that ended."""

    def __init__(self, detail: str = "a valid API key is required (header X-API-Key or Authorization: Bearer)",
                 kind: str | None = None):
        super().__init__("unauthenticated", detail, [])
        self.kind = kind


class Forbidden(QoltanbaError):
    def __init__(self, detail: str) -> None:
        super().__init__("forbidden", detail, [])


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    tenant: str | None = None


@dataclass(frozen=True)
class NewKey:
    actor: Actor
    key: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AccessService:
    def __init__(self, registry: Registry, clock: Clock) -> None:
        self.registry = registry
        self.clock = clock

    def create_key(self, name: str, role: str, by: str, tenant: str | None = None) -> NewKey:
        problems = []
        try:
            parsed = Role(role)
        except ValueError:
            problems.append(Problem("role", f"unknown role {role!r}; known: {', '.join(r.value for r in Role)}"))
        if not name or len(name) > 120:
            problems.append(Problem("name", "must be 1-120 characters"))
        if tenant is not None:
            # A key names a tenant an administrator created (issue 15: POST /tenants, qoltanba tenant create).
            with self.registry.transaction(readonly=True) as tx:
                if tx.tenants.by_code(tenant) is None:
                    problems.append(Problem("tenant", f"no tenant {tenant!r}; an administrator creates it first "
                                                      "(POST /tenants, qoltanba tenant create)"))
        if problems:
            raise InvalidInput("the API key cannot be created", problems)
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        now = self.clock.now()
        try:
            with self.registry.transaction() as tx:
                if tx.people.by_name(name) is not None:   # one namespace with console users (ca/people.py)
                    raise Conflict("people.name")
                tx.actors.add(ActorRow(name=name, role=parsed.value, key_id=key_id, key_digest=_digest(secret),
                                       tenant=tenant, active=True, created_at=now))
                tx.audit.append(at=now, actor=by, action="api_key.created", subject=f"actor:{name}",
                                details={"role": parsed.value, "key_id": key_id, "tenant": tenant})
        except Conflict as error:
            raise ConflictError(f"an actor named {name!r} exists already") from error
        return NewKey(Actor(name, parsed, tenant), f"qk_{key_id}_{secret}")

    def authenticate(self, presented: str | None,
                     admit: Callable[[RegistryTransaction], None] | None = None) -> Actor:
        """The actor of a valid, active key. A rejected key writes nothing: the edge counts it per source and
        summarises the counts in the audit log (ca/auth_failures.py, issue 18).

        ``admit``: called first, in the same unit of work, before the key is looked up (the source's bucket of
        rejected credentials, ca/auth_failures.py): one read transaction a request, not two.
        """
        if not presented:
            raise Unauthenticated()
        if not presented.startswith("qk_") or presented.count("_") < 2:
            if admit is not None:
                admit(None)
            raise Unauthenticated(kind="api_key")
        key_id, secret = presented[3:].split("_", 1)
        with self.registry.transaction(readonly=True) as tx:
            if admit is not None:
                admit(tx)
            row = tx.actors.by_key_id(key_id)
            # Compare even when the id is unknown, so timing says nothing.
            expected = row.key_digest if row is not None else _digest("no such key")
            matches = hmac.compare_digest(expected, _digest(secret))
            if matches and row is not None and row.active:
                return Actor(row.name, Role(row.role), row.tenant)
        raise Unauthenticated("the API key is not valid",
                              kind="api_key_inactive" if matches and row is not None else "api_key")

    @staticmethod
    def require(actor: Actor, allowed: frozenset[Role]) -> None:
        if actor.role not in allowed:
            raise Forbidden(f"role {actor.role.value} may not do this; needs one of: "
                            + ", ".join(sorted(r.value for r in allowed)))
