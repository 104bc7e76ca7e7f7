"""The cabinet password's one lockout (LOAN-8, issue 16), wherever the password is given (issue 19).

The borrower gives their personal-cabinet password at the cabinet's login
and, as the PIN of the key the service holds for them, at the CSC door's
``credentials/authorize``. A wrong one counts toward the same consecutive
failures on the account; at ``CabinetPolicy.lockout_failures`` the account
locks for ``CabinetPolicy.lockout``, and while locked even the right
password is refused, by either door. Every failure is audited
(``borrower.login-failed`` or ``borrower.pin-failed``, and
``borrower.locked``); the password never is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from registry import AccountStatus, BorrowerAccountRow
from signing.accounts.passwords import Passwords
from signing.accounts.store import CabinetPolicy

NO_ACCOUNT, LOCKED, WRONG = "no-account", "locked", "password"


def count_failure(tx: Any, account: BorrowerAccountRow, policy: CabinetPolicy, now: dt.datetime, *,  # noqa: ANN401
                  action: str, details: dict[str, Any]) -> None:
    """Audit a failed try (``details['reason']``); a wrong password or code counts, and locks at the limit."""
    details = dict(details)
    if details["reason"] not in (LOCKED, "not-registered"):
        account.failures += 1
        details["failures"] = account.failures
        if account.failures >= policy.lockout_failures:
            account.failures, account.locked_until = 0, now + policy.lockout
            details["locked_until"] = account.locked_until.isoformat()
    tx.audit.append(at=now, actor=f"borrower:{account.public_id}", action=action,
                    subject=f"account:{account.public_id}", details=details)
    if "locked_until" in details:
        tx.audit.append(at=now, actor="system", action="borrower.locked", subject=f"account:{account.public_id}",
                        details={"tenant": details.get("tenant"), "until": details["locked_until"]})


class CabinetPins:
    """The cabinet password as the PIN of the borrower's held key (CSC credentials/authorize)."""

    def __init__(self, passwords: Passwords, policy: CabinetPolicy) -> None:
        self.passwords = passwords
        self.policy = policy

    @staticmethod
    def account_of(tx: Any, client_id: int) -> str | None:  # noqa: ANN401
        """The public id of the client's registered account (one with a password), else None."""
        account = tx.borrower_accounts.of_client(client_id)
        if account is None or account.status != AccountStatus.ACTIVE or not account.password_hash:
            return None
        return account.public_id

    def check(self, tx: Any, client_id: int, pin: str, *, now: dt.datetime, tenant: str,  # noqa: ANN401
              credential: str, by: str) -> str | None:
        """None when ``pin`` is the borrower's cabinet password and the account is not locked; else why not
        (``no-account``, ``locked``, ``password``), the failure counted and audited as the login's, with the
        credential and the caller (the MFO's actor) it came through."""
        account = tx.borrower_accounts.of_client(client_id, for_update=True)
        right = self.passwords.verify(account.password_hash if account is not None else None, pin)
        if account is None or account.status != AccountStatus.ACTIVE or not account.password_hash:
            return NO_ACCOUNT
        reason = LOCKED if account.locked_until is not None and now < account.locked_until else \
            None if right else WRONG
        if reason is None:
            account.failures, account.locked_until = 0, None
            return None
        count_failure(tx, account, self.policy, now, action="borrower.pin-failed",
                      details={"tenant": tenant, "reason": reason, "via": "csc", "credential": credential, "by": by})
        return reason


__all__ = ["LOCKED", "NO_ACCOUNT", "WRONG", "CabinetPins", "count_failure"]
