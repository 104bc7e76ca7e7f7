"""A token bucket per client address, in process, for the client API (issue 5).

The client routes need no API key, so they are the ones a stranger can
call: each address gets ``burst`` calls at once and ``per_minute`` a minute
after that. The buckets live in each serving process's memory; with
several workers an address gets that much per worker, which is enough to
stop a script and costs no shared store. A deployment behind a reverse
proxy limits at the proxy as well (it sees the real addresses).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from signing.factors import Throttled


class TokenBuckets:
    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        if per_minute < 1 or burst < 1:
            raise ValueError("a rate limit needs per_minute >= 1 and burst >= 1")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one token of ``key``'s bucket or raise ``Throttled`` with the wait."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                raise Throttled("too many calls from this address; slow down", (1 - tokens) / self.rate)
            if key not in self._buckets and len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            self._buckets[key] = (tokens - 1, now)

    def _forget_full(self, now: float) -> None:
        # Buckets that have refilled carry no information; dropping them bounds the memory.
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.burst]
        for key in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[key]
