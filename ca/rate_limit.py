"""The token bucket: ``rate`` a second on average per key, ``burst`` at once, in this process's memory.

One mechanism for every limit of the service (issue 21: one concept, one
door): the HTTP routes' buckets per client address and the client API's
(api/http/rate_limit.py) and the bucket of rejected credentials per source
(ca/auth_failures.py, built in the wiring, so below the rooms). It knows
nothing of HTTP: a key is whatever the caller counts by.

In-process and approximate on purpose: each serving process keeps its own
buckets, so N workers let a client through N times the rate (docs/SECURITY.md
"Limits"); the operator's reverse proxy should limit too.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ca.errors import QoltanbaError


class RateLimited(QoltanbaError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("rate-limited", f"too many requests from this address; retry in {retry_after} s", [])
        self.retry_after = retry_after


class RateLimiter:
    """``rate`` requests a second on average per key, ``burst`` at once."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("the rate must be positive and the burst at least 1")
        self.rate, self.burst, self.clock, self.max_keys = rate, burst, clock, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}   # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Take one token for ``key`` or raise ``RateLimited`` with the seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                raise RateLimited(max(1, math.ceil((1 - tokens) / self.rate)))
            if key not in self._buckets and len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            self._buckets[key] = (tokens - 1, now)

    def wait(self, key: str) -> int | None:
        """Seconds until ``key`` has a token again, or None when it has one now; nothing is taken."""
        now = self.clock()
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                return None
            tokens = min(float(self.burst), found[0] + (now - found[1]) * self.rate)
            return None if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.rate))

    def _forget_full(self, now: float) -> None:
        # Memory stays bounded under an address-spraying flood: buckets that have refilled carry no
        # information, so they go first; if none has, the older half goes.
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.burst]
        for key in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[key]


__all__ = ["RateLimited", "RateLimiter"]
