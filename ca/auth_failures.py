"""Rejected credentials: counted per source in memory, limited per source (shared), summarised in the audit log.

Issue 18, finding 2: every made-up API key or console session token used to
write an ``api_key.rejected`` / ``console.session_rejected`` audit entry, so
anyone could grow the audit log without authenticating (500 entries in
1.9 s). Now a rejected credential writes nothing when it happens:

- it is counted in this process's memory, per source address and kind;
- it spends a token of the source's bucket (the one token bucket,
  ca/rate_limit.py; ``QOLTANBA_AUTH_FAILURE_RATE_PER_MINUTE`` / ``_BURST``).
  While the bucket is empty, a credential from that source is refused with
  429 and Retry-After before it is even looked up, as a locked console
  account's password is not checked (ca/people.py);
- every ``QOLTANBA_AUTH_FAILURE_SUMMARY_MINUTES`` the counts become one
  ``auth.rejected_summary`` entry (the housekeeping thread), and once more
  when the process stops, then start again from zero.

Only credentials that were presented count: a request with none gets 401
and is neither counted nor limited (nothing is looked up for it). An
unknown name at the console login is counted here too, but spends nothing:
the login route has its own bucket. What stays a per-request audit entry is
tied to a real account: a failed login of an existing person (its lockout
accounting) and a session's expiry (written once, when it ends).

The bucket is the registry's (ca/rate_limit.py ``SharedBuckets``, issue 17
item 2), so the limit holds across workers; the counts are per serving
process: N workers write N summaries an interval, each of what it saw.
"""

from __future__ import annotations

import threading
from collections import Counter

from ca.clock import Clock
from ca.rate_limit import RateLimited, RateLimiter
from registry import Registry, RegistryTransaction

# Kinds of rejected credential, the keys of each source's counts in the summary.
API_KEY = "api_key"                       # unknown, malformed or wrong secret
API_KEY_INACTIVE = "api_key_inactive"     # a real key, deactivated
CONSOLE_SESSION = "console_session"       # unknown or wrong session token
CONSOLE_LOGIN = "console_login_unknown_name"
LIMITED = "limited"                       # refused with 429 without a look-up
OTHER_SOURCES = "other"                   # sources past ``max_sources`` in one interval
SUMMARY = "auth.rejected_summary"


class CredentialsLimited(RateLimited):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.detail = f"too many rejected credentials from this address; retry in {retry_after} s"


class AuthFailures:
    def __init__(self, registry: Registry, clock: Clock, limiter: RateLimiter, max_sources: int = 1000) -> None:
        self.registry = registry
        self.clock = clock
        self.limiter = limiter
        self.max_sources = max_sources
        self._counts: dict[str, Counter[str]] = {}
        self._since = clock.now()
        self._lock = threading.Lock()

    def admit(self, source: str, tx: RegistryTransaction | None = None) -> None:
        """Raise ``CredentialsLimited`` (429) while ``source`` has spent its bucket of rejected credentials.

        ``tx``: the unit of work the credential is then looked up in (ca/access.py), read in it.
        """
        wait = self.limiter.wait(source, tx)
        if wait is not None:
            self.count(source, LIMITED)
            raise CredentialsLimited(wait)

    def rejected(self, source: str, kind: str) -> None:
        """Count one rejected credential of ``source`` and spend a token of its bucket."""
        self.count(source, kind)
        try:
            self.limiter.check(source)
        except RateLimited as limited:   # a concurrent request of the same source took the last token
            raise CredentialsLimited(limited.retry_after) from None

    def count(self, source: str, kind: str) -> None:
        with self._lock:
            if source not in self._counts and len(self._counts) >= self.max_sources:
                source = OTHER_SOURCES   # memory and the summary stay bounded under an address-spraying flood
            self._counts.setdefault(source, Counter())[kind] += 1

    def flush(self) -> bool:
        """Write what was counted since the last flush as one audit entry; False when nothing was."""
        now = self.clock.now()
        with self._lock:
            counts, since = self._counts, self._since
            self._counts, self._since = {}, now
        if not counts:
            return False
        totals: Counter[str] = Counter()
        for by_kind in counts.values():
            totals.update(by_kind)
        details = {"from": since.isoformat(), "to": now.isoformat(), "totals": dict(sorted(totals.items())),
                   "sources": {source: dict(sorted(by_kind.items())) for source, by_kind in sorted(counts.items())}}
        try:
            with self.registry.transaction() as tx:
                tx.audit.append(at=now, actor="system", action=SUMMARY, subject="auth", details=details)
        except Exception:
            self._restore(counts, since)   # counted, not yet written: the next flush writes them
            raise
        return True

    def _restore(self, counts: dict[str, Counter[str]], since) -> None:  # noqa: ANN001 - a datetime
        with self._lock:
            for source, by_kind in counts.items():
                self._counts.setdefault(source, Counter()).update(by_kind)
            self._since = min(self._since, since)


__all__ = ["API_KEY", "API_KEY_INACTIVE", "CONSOLE_LOGIN", "CONSOLE_SESSION", "LIMITED", "SUMMARY",
           "AuthFailures", "CredentialsLimited"]
