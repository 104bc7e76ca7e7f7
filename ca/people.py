"""People of the certification centre: console logins with a password and TOTP (issue 8).

Administrators, registrars and auditors log in to the web console with
their name, a password and the current code of their authenticator app. The
password is kept as an argon2id hash (argon2-cffi's defaults, RFC 9106's
second recommended option: 64 MiB, 3 passes); the TOTP seed is sealed with
AES-256-GCM under a key derived from the master key and bound to the
person's name, like the clients' seeds (keys/secretbox.py). A code is
accepted once: the accepted time step is stored and an equal or older one
refused (RFC 6238 §5.2).

A login gives a session token ``qs_<id>_<secret>``; the registry keeps the
id and the SHA-256 of the 256-bit secret, as for API keys. A session ends
after ``idle`` without a request, ``absolute`` after the login, or at
logout. After ``lockout_failures`` consecutive failures the account is
locked for ``lockout``; while locked, even the right password is refused
and not checked, so guessing cannot go on. Every refusal answers the same
way (which of password, code or lock failed is in the audit log only; an
unknown name, tied to no account, is only counted per source and
summarised, ca/auth_failures.py), and an unknown name costs an argon2
verification too, so neither the answer nor its time says whether a name
exists. Passwords and codes never
reach the audit log or any log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ca.access import Actor, Role, Unauthenticated
from ca.clock import Clock
from ca.errors import ConflictError, InvalidInput, NotFound, Problem
from keys import SecretBox
from keys.totp import new_totp_secret, provisioning_uri, totp_step
from registry import Conflict, ConsoleSessionRow, PersonRow, Registry, RegistryTransaction

PEOPLE_ROLES = (Role.ADMINISTRATOR, Role.REGISTRAR, Role.AUDITOR)
SESSION_PREFIX = "qs_"
SESSION_COOKIE = "qoltanba_session"
MIN_PASSWORD, MAX_PASSWORD = 12, 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,119}$")
REFUSED = "login refused: the name, password or code is wrong, or the account is locked"


@dataclass(frozen=True)
class ConsolePolicy:
    idle: dt.timedelta = dt.timedelta(minutes=15)
    absolute: dt.timedelta = dt.timedelta(hours=8)
    lockout_failures: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class NewPerson:
    name: str
    role: str
    provisioning_uri: str


@dataclass(frozen=True)
class NewSession:
    token: str
    actor: Actor
    expires_at: dt.datetime


@dataclass(frozen=True)
class PersonView:
    name: str
    role: str
    active: bool
    locked_until: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def of(cls, row: PersonRow) -> "PersonView":
        return cls(row.name, row.role, row.active, row.locked_until, row.created_at)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _seed_context(name: str) -> str:
    return f"person-totp:{name}"


class PeopleService:
    def __init__(self, registry: Registry, clock: Clock, box: SecretBox, policy: ConsolePolicy,
                 issuer: str = "Qoltanba") -> None:
        self.registry = registry
        self.clock = clock
        self.box = box
        self.policy = policy
        self.issuer = issuer
        self.hasher = PasswordHasher()

    @cached_property
    def _decoy_hash(self) -> str:
        # Verified against when the name is unknown or locked, so a refusal takes as long either way.
        return self.hasher.hash(secrets.token_urlsafe(16))

    # -- accounts --------------------------------------------------------------------

    def add(self, name: str, role: str, password: str, by: str) -> NewPerson:
        """Create a console user; the TOTP provisioning URI is returned this once only."""
        problems = []
        if not _NAME.match(name or ""):
            problems.append(Problem("name", "1-120 characters: letters, digits and . _ @ -, starting with a "
                                            "letter or digit"))
        if role not in {r.value for r in PEOPLE_ROLES}:
            problems.append(Problem("role", f"must be one of: {', '.join(r.value for r in PEOPLE_ROLES)}"))
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            problems.append(Problem("password", f"must be {MIN_PASSWORD}-{MAX_PASSWORD} characters"))
        if problems:
            raise InvalidInput("the user cannot be created", problems)
        seed = new_totp_secret()
        now = self.clock.now()
        try:
            with self.registry.transaction() as tx:
                # People and API keys act under one namespace of names: dual control compares names.
                if tx.actors.by_name(name) is not None:
                    raise Conflict("actors.name")
                tx.people.add(PersonRow(name=name, role=role, password_hash=self.hasher.hash(password),
                                        totp_secret=self.box.seal(seed.encode(), _seed_context(name)),
                                        totp_last_step=None, failures=0, locked_until=None, active=True,
                                        created_at=now, created_by=by))
                tx.audit.append(at=now, actor=by, action="person.created", subject=f"person:{name}",
                                details={"role": role})
        except Conflict as error:
            raise ConflictError(f"a user or API key named {name!r} exists already") from error
        return NewPerson(name, role, provisioning_uri(seed, name, self.issuer))

    def list(self) -> list[PersonView]:
        with self.registry.transaction(readonly=True) as tx:
            return [PersonView.of(row) for row in tx.people.all()]

    def unlock(self, name: str, by: str) -> PersonView:
        with self.registry.transaction() as tx:
            row = self._person(tx, name)
            row.failures, row.locked_until = 0, None
            tx.audit.append(at=self.clock.now(), actor=by, action="person.unlocked", subject=f"person:{name}",
                            details={})
            return PersonView.of(row)

    def deactivate(self, name: str, by: str) -> PersonView:
        """The person may no longer log in; their open sessions end now."""
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = self._person(tx, name)
            row.active = False
            for session in tx.console_sessions.open_of(row.id):
                session.ended_at, session.end_reason = now, "deactivated"
            tx.audit.append(at=now, actor=by, action="person.deactivated", subject=f"person:{name}", details={})
            return PersonView.of(row)

    @staticmethod
    def _person(tx: RegistryTransaction, name: str) -> PersonRow:
        row = tx.people.by_name(name, for_update=True)
        if row is None:
            raise NotFound(f"no user named {name!r}")
        return row

    # -- logging in --------------------------------------------------------------------

    def login(self, name: str, password: str, code: str, address: str | None = None) -> NewSession:
        now = self.clock.now()
        with self.registry.transaction() as tx:
            # The row lock serialises two logins of one person: a code is accepted once even then.
            row = tx.people.by_name(name, for_update=True) if _NAME.match(name or "") else None
            reason = self._check(row, password, code, now)
            subject = f"person:{(name or '')[:120]}"
            if reason is None:
                assert row is not None
                row.failures, row.locked_until = 0, None
                session, token = self._open(tx, row, now)
                tx.audit.append(at=now, actor=row.name, action="console.login", subject=subject,
                                details={"session": session.token_id, "address": address})
                return NewSession(token, Actor(row.name, Role(row.role)), session.expires_at)
            if row is None:
                # An unknown name is no account: counted per source at the edge and summarised in the audit
                # log (ca/auth_failures.py), never an entry per request (issue 18).
                raise Unauthenticated(REFUSED, kind="console_login_unknown_name")
            details: dict = {"reason": reason, "address": address}
            if reason not in ("locked", "inactive"):
                row.failures += 1
                details["failures"] = row.failures
                if row.failures >= self.policy.lockout_failures:
                    row.failures, row.locked_until = 0, now + self.policy.lockout
                    details["locked_until"] = row.locked_until.isoformat()
            tx.audit.append(at=now, actor="anonymous", action="console.login_failed", subject=subject,
                            details=details)
            if "locked_until" in details:
                tx.audit.append(at=now, actor="system", action="person.locked", subject=subject,
                                details={"until": details["locked_until"]})
        raise Unauthenticated(REFUSED)

    def _check(self, row: PersonRow | None, password: str, code: str, now: dt.datetime) -> str | None:
        """None when name, password and a fresh code all match; else the reason (for the audit log only)."""
        if row is None or not row.active or (row.locked_until is not None and now < row.locked_until):
            self._verify(self._decoy_hash, password)
            return "unknown-name" if row is None else "inactive" if not row.active else "locked"
        password_ok = self._verify(row.password_hash, password)
        seed = self.box.open(row.totp_secret, _seed_context(row.name)).decode()
        step = totp_step(seed, code or "", now)
        if not password_ok:
            return "password"
        if step is None:
            return "code"
        if row.totp_last_step is not None and step <= row.totp_last_step:
            return "code-reused"
        row.totp_last_step = step
        if self.hasher.check_needs_rehash(row.password_hash):
            row.password_hash = self.hasher.hash(password)
        return None

    def _verify(self, stored: str, password: str) -> bool:
        if not password or len(password) > MAX_PASSWORD:
            return False
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def _open(self, tx: RegistryTransaction, person: PersonRow, now: dt.datetime) -> tuple[ConsoleSessionRow, str]:
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        row = tx.console_sessions.add(ConsoleSessionRow(
            token_id=token_id, token_digest=_digest(secret), person_id=person.id, created_at=now,
            last_seen_at=now, expires_at=now + self.policy.absolute, ended_at=None, end_reason=None))
        return row, f"{SESSION_PREFIX}{token_id}_{secret}"

    # -- sessions --------------------------------------------------------------------

    @staticmethod
    def is_session_token(presented: str | None) -> bool:
        return bool(presented) and presented.startswith(SESSION_PREFIX)  # type: ignore[union-attr]

    def authenticate(self, presented: str) -> Actor:
        """The person behind a live session token; the session's idle time restarts."""
        parts = presented[len(SESSION_PREFIX):].split("_", 1)
        if len(parts) != 2 or not parts[0] or len(parts[0]) > 32:
            raise Unauthenticated("the session token is not valid", kind="console_session")
        token_id, secret = parts
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = tx.console_sessions.by_token_id(token_id, for_update=True)
            expected = row.token_digest if row is not None else _digest("no such session")
            if not hmac.compare_digest(expected, _digest(secret)) or row is None:
                # Counted per source at the edge and summarised, not audited per request (issue 18).
                raise Unauthenticated("the session token is not valid", kind="console_session")
            if row.ended_at is not None:
                refused = "the session has ended; log in again"
            else:
                person = tx.people.by_id(row.person_id)
                assert person is not None
                end = ("absolute" if now >= row.expires_at else
                       "idle" if now - row.last_seen_at >= self.policy.idle else
                       "deactivated" if not person.active else None)
                if end is None:
                    row.last_seen_at = now
                    return Actor(person.name, Role(person.role))
                row.ended_at, row.end_reason = now, end
                tx.audit.append(at=now, actor=person.name, action="console.session_expired",
                                subject=f"session:{token_id}", details={"reason": end})
                refused = "the session has expired; log in again"
        raise Unauthenticated(refused)

    def logout(self, presented: str, who: Actor) -> None:
        token_id = presented[len(SESSION_PREFIX):].split("_", 1)[0]
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = tx.console_sessions.by_token_id(token_id, for_update=True)
            if row is None or row.ended_at is not None:
                return
            row.ended_at, row.end_reason = now, "logout"
            tx.audit.append(at=now, actor=who.name, action="console.logout", subject=f"session:{token_id}",
                            details={})

    # -- the console pages' forms (issue 20) -----------------------------------------

    def form_token(self, presented: str) -> str:
        """The CSRF token of the forms of one session (or of one login form's nonce).

        HMAC-SHA256 of the session token under a key derived from the master key
        (OWASP's HMAC-based token pattern): one per session, nothing stored, and
        no one without the session's HttpOnly cookie and the key can make it.
        """
        return self.box.keyed_hash("console form", presented)

    def form_token_matches(self, presented: str, token: str) -> bool:
        """Constant-time check of a form's token against the session's."""
        return bool(token) and self.box.matches(token, "console form", presented)

    def form_refused(self, actor: str, path: str, address: str | None) -> None:
        """A form post whose token did not match (a forged cross-site post, or a stale page): audited."""
        now = self.clock.now()
        with self.registry.transaction() as tx:
            tx.audit.append(at=now, actor=actor, action="console.form_refused", subject=f"path:{path[:200]}",
                            details={"address": address})


__all__ = ["ConsolePolicy", "NewPerson", "NewSession", "PeopleService", "PersonView", "PEOPLE_ROLES",
           "SESSION_COOKIE", "SESSION_PREFIX"]
