"""A per-client token bucket for the public routes that cost real work (``/verify``).

In-process and approximate on purpose: each serving process keeps its own
buckets, keyed by the client's address as the ASGI server sees it, so N
workers let a client through N times the rate, and behind a reverse proxy
every client shares the proxy's address unless the server is started with
``--proxy-headers`` for that proxy. The operator's proxy should limit too
(docs/DECISIONS.md "Verification"); this one keeps a single process from
being drowned when there is none.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ca.errors import QoltanbaError


class RateLimited(QoltanbaError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("rate-limited", f"too many verification requests from this address; retry in "
                                         f"{retry_after} s", [])
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
            if len(self._buckets) >= self.max_keys:
                # Memory stays bounded under an address-spraying flood; a
                # full bucket for everyone is the cheap, fair reset.
                self._buckets.clear()
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                raise RateLimited(max(1, math.ceil((1 - tokens) / self.rate)))
            self._buckets[key] = (tokens - 1, now)


__all__ = ["RateLimited", "RateLimiter"]
