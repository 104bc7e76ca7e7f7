"""Logging in to the cabinet (LOAN-8), sessions, and the borrower's own authenticator (issue 16).

LOAN-8: after registration the borrower comes in "by generating and/or
entering passwords, or with at least one of the authentication factors
(tokens, smart cards, one-time passwords)" (seed 003). Here: the password,
and the authenticator's one-time code as well once the borrower has enrolled
one (TOTP, RFC 6238; the seed shown to the borrower only, sealed at rest, a
code accepted once). After ``lockout_failures`` consecutive failures the
account locks for ``lockout`` (a wrong PIN at the CSC door counts too:
lockout.py); while locked even the right password is refused, and every
refusal says the same thing (which part failed is in the audit log only).
An unknown borrower costs an argon2 verification too.

A session is a random 256-bit token (``bs_<id>_<secret>``; only the
secret's keyed hash is kept), ending after ``session_idle`` without use or
``session_absolute`` after login, or at logout. The API takes it as
``Authorization: Bearer``; the pages keep it in an HttpOnly cookie.
"""

from __future__ import annotations

import secrets

from ca import identity
from ca.access import Unauthenticated
from ca.errors import ConflictError, InvalidInput, Problem
from registry import AccountStatus, BorrowerSessionRow
from signing.accounts.lockout import count_failure
from signing.accounts.passwords import Passwords
from signing.accounts.store import AccountStorage, CabinetPolicy, Secrets
from signing.accounts.views import AccountView, Borrower, NewSession, TotpEnrolment, account_view
from signing.factors.codes import new_totp_secret, provisioning_uri, totp_step
from signing.factors.errors import FactorRefused

REFUSED = "login refused: the number, password or code is wrong, or the account is locked"
PREFIX = "bs_"


def _context(account_id: str) -> str:
    return f"borrower totp:{account_id}"


class CabinetSessions:
    def __init__(self, registry: AccountStorage, clock, secrets_: Secrets, passwords: Passwords,  # noqa: ANN001
                 policy: CabinetPolicy, issuer: str = "Qoltanba") -> None:
        self.registry = registry
        self.clock = clock
        self.secrets = secrets_
        self.passwords = passwords
        self.policy = policy
        self.issuer = issuer

    def login(self, tenant: object, number: object, password: object, code: object = None) -> NewSession:
        problems = []
        if not isinstance(tenant, str) or not 1 <= len(tenant) <= 64:
            problems.append(Problem("tenant", "is required (1 to 64 characters)"))
        if not isinstance(number, str) or not number:
            problems.append(Problem("iin", "is required"))
        else:
            problems += [Problem("iin", m) for m in identity.validate_iin(number)]
        if not isinstance(password, str) or not password:
            problems.append(Problem("password", "is required"))
        elif len(password) > 128:
            problems.append(Problem("password", "must be at most 128 characters"))
        if code is not None and (not isinstance(code, str) or not code.isdigit() or len(code) != 6):
            problems.append(Problem("code", "must be the authenticator's 6 digits"))
        if problems:
            raise InvalidInput("the login is refused", problems)
        now = self.clock.now()
        with self.registry.transaction() as tx:
            client = tx.clients.by_id_number(tenant, number)
            account = tx.borrower_accounts.of_client(client.id, for_update=True) if client is not None else None
            right = self.passwords.verify(account.password_hash if account is not None else None, password)
            reason = None
            if account is None:
                reason = "unknown"
            elif account.status != AccountStatus.ACTIVE:
                reason = "not-registered"
            elif account.locked_until is not None and now < account.locked_until:
                reason = "locked"
            elif not right:
                reason = "password"
            elif account.totp_confirmed_at is not None:
                reason = self._totp(account, code, now)
            if reason is None:
                account.failures, account.locked_until = 0, None
                token_id, secret = secrets.token_hex(16), secrets.token_urlsafe(32)
                tx.borrower_sessions.add(BorrowerSessionRow(
                    token_id=token_id, token_digest=self.secrets.keyed_hash("borrower session", token_id, secret),
                    account_id=account.id, created_at=now, last_seen_at=now,
                    expires_at=now + self.policy.session_absolute))
                tx.audit.append(at=now, actor=f"borrower:{account.public_id}", action="borrower.logged-in",
                                subject=f"account:{account.public_id}",
                                details={"tenant": tenant, "factors": ["password"] + (
                                    ["totp"] if account.totp_confirmed_at is not None else [])})
                session = NewSession(f"{PREFIX}{token_id}_{secret}", account.public_id,
                                     min(now + self.policy.session_absolute, now + self.policy.session_idle))
            elif account is not None:   # the same count as a wrong PIN at the CSC door (lockout.py)
                count_failure(tx, account, self.policy, now, action="borrower.login-failed",
                              details={"tenant": tenant, "reason": reason})
            else:
                tx.audit.append(at=now, actor="anonymous", action="borrower.login-failed", subject=f"tenant:{tenant}",
                                details={"tenant": tenant, "reason": reason})
        if reason is not None:
            raise Unauthenticated(REFUSED)
        return session

    def _totp(self, account, code: object, now) -> str | None:  # noqa: ANN001
        if not isinstance(code, str):
            return "code-missing"
        seed = self.secrets.open(account.totp_secret, _context(account.public_id)).decode()
        step = totp_step(seed, code, now)
        if step is None or (account.totp_last_step is not None and step <= account.totp_last_step):
            return "code"
        account.totp_last_step = step
        return None

    @staticmethod
    def is_token(presented: str | None) -> bool:
        return isinstance(presented, str) and presented.startswith(PREFIX) and presented.count("_") >= 2

    def authenticate(self, presented: str | None) -> Borrower:
        """The borrower of a live session (its idle time renewed), else 401."""
        refused = Unauthenticated("a valid cabinet session is required (Authorization: Bearer, or log in)")
        if not self.is_token(presented):
            raise refused
        token_id, _, secret = presented[len(PREFIX):].partition("_")
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = tx.borrower_sessions.by_token_id(token_id, for_update=True) if len(token_id) == 32 else None
            digest = row.token_digest if row is not None else "0" * 64
            if not self.secrets.matches(digest, "borrower session", token_id, secret) or row is None:
                raise refused
            if row.ended_at is not None or now >= row.expires_at or now >= row.last_seen_at + self.policy.session_idle:
                if row.ended_at is None:
                    row.ended_at = now
                    tx.audit.append(at=now, actor="system", action="borrower.session-expired",
                                    subject=f"session:{token_id}", details={})
                raise refused
            account = tx.borrower_accounts.by_id(row.account_id)
            if account is None or account.status != AccountStatus.ACTIVE:
                raise refused
            row.last_seen_at = now
            return Borrower(account=account.public_id, tenant=account.tenant, client_id=account.client_id,
                            session=token_id)

    def logout(self, presented: str | None) -> None:
        who = self.authenticate(presented)
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = tx.borrower_sessions.by_token_id(who.session, for_update=True)
            row.ended_at = now
            tx.audit.append(at=now, actor=f"borrower:{who.account}", action="borrower.logged-out",
                            subject=f"account:{who.account}", details={"tenant": who.tenant})

    def me(self, who: Borrower) -> AccountView:
        with self.registry.transaction(readonly=True) as tx:
            account = tx.borrower_accounts.by_public_id(who.tenant, who.account)
            return account_view(account, tx.clients.by_id(who.tenant, account.client_id), own=True)

    # -- the borrower's own authenticator --------------------------------------------------------------

    def begin_totp(self, who: Borrower) -> TotpEnrolment:
        """A new seed, shown once to the borrower; login asks for its codes once the first one confirms it."""
        now = self.clock.now()
        seed = new_totp_secret()
        with self.registry.transaction() as tx:
            account = tx.borrower_accounts.by_public_id(who.tenant, who.account, for_update=True)
            if account.totp_confirmed_at is not None:
                raise ConflictError("an authenticator is enrolled already")
            account.totp_secret = self.secrets.seal(seed.encode(), _context(account.public_id))
            client = tx.clients.by_id(who.tenant, account.client_id)
            tx.audit.append(at=now, actor=f"borrower:{who.account}", action="borrower.totp-started",
                            subject=f"account:{who.account}", details={"tenant": who.tenant})
        return TotpEnrolment(seed, provisioning_uri(seed, client.iin, self.issuer))

    def confirm_totp(self, who: Borrower, code: str) -> AccountView:
        now = self.clock.now()
        with self.registry.transaction() as tx:
            account = tx.borrower_accounts.by_public_id(who.tenant, who.account, for_update=True)
            if account.totp_secret is None or account.totp_confirmed_at is not None:
                raise ConflictError("no authenticator is waiting for its first code")
            refused = self._totp(account, code, now)
            if refused is None:
                account.totp_confirmed_at = now
            tx.audit.append(at=now, actor=f"borrower:{who.account}",
                            action="borrower.totp-confirmed" if refused is None else "borrower.totp-failed",
                            subject=f"account:{who.account}", details={"tenant": who.tenant})
            view = account_view(account, tx.clients.by_id(who.tenant, account.client_id), own=True)
        if refused is not None:
            raise FactorRefused("the code is refused", [Problem("code", "is wrong")])
        return view


__all__ = ["PREFIX", "REFUSED", "CabinetSessions"]
