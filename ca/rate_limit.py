"""The token bucket: ``rate`` a second on average per key, ``burst`` at once, shared by every worker.

One mechanism for every limit of the service (issue 21: one concept, one
door): the HTTP routes' buckets per client address and the client API's
(api/http/rate_limit.py) and the bucket of rejected credentials per source
(ca/auth_failures.py, built in the wiring, so below the rooms). It knows
nothing of HTTP: a key is whatever the caller counts by.

Built with ``shared`` (the wiring always does, issue 17 item 2), the buckets
live in the registry (``rate_buckets``, one row per bucket and key, the
generic cell rate algorithm in one atomic statement), so N workers on any
number of hosts let a client through the rate once, not N times. Without it
(unit tests, a tool of its own) they are this process's memory.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable

from typing import TYPE_CHECKING

from ca.errors import QoltanbaError

if TYPE_CHECKING:
    from registry import Registry, RegistryTransaction


class RateLimited(QoltanbaError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("rate-limited", f"too many requests from this address; retry in {retry_after} s", [])
        self.retry_after = retry_after


class SharedBuckets:
    """The buckets in the registry: one short unit of work per request, atomic across workers and hosts."""

    def __init__(self, registry: "Registry", clock: Callable[[], float] = time.time) -> None:
        self.registry = registry
        self.clock = clock   # wall time: every worker and host reads the same

    def take(self, bucket: str, key: str, rate: float, burst: int) -> int | None:
        with self.registry.transaction() as tx:
            wait = tx.rate_buckets.take(bucket, key[:200], interval=1 / rate, tolerance=(burst - 1) / rate,
                                        now=self.clock())
        return None if wait is None else max(1, math.ceil(wait))

    def wait(self, bucket: str, key: str, rate: float, burst: int,
             tx: RegistryTransaction | None = None) -> int | None:
        """Nothing is taken; read in ``tx`` when the caller has one open (one unit of work fewer a request)."""
        with contextlib.nullcontext(tx) if tx is not None else self.registry.transaction(readonly=True) as unit:
            wait = unit.rate_buckets.wait(bucket, key[:200], tolerance=(burst - 1) / rate, now=self.clock())
        return None if wait is None else max(1, math.ceil(wait))

    def prune(self) -> int:
        """Forget buckets that are full again (a scheduled job)."""
        with self.registry.transaction() as tx:
            return tx.rate_buckets.prune(self.clock())


class RateLimiter:
    """``rate`` requests a second on average per key, ``burst`` at once; ``shared``: in the registry as ``name``."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000, *, shared: SharedBuckets | None = None, name: str = "default") -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("the rate must be positive and the burst at least 1")
        self.rate, self.burst, self.clock, self.max_keys = rate, burst, clock, max_keys
        self.shared, self.name = shared, name
        self._buckets: dict[str, tuple[float, float]] = {}   # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Take one token for ``key`` or raise ``RateLimited`` with the seconds to wait."""
        if self.shared is not None:
            wait = self.shared.take(self.name, key, self.rate, self.burst)
            if wait is not None:
                raise RateLimited(wait)
            return
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

    def wait(self, key: str, tx: RegistryTransaction | None = None) -> int | None:
        """Seconds until ``key`` has a token again, or None when it has one now; nothing is taken.

        ``tx``: a unit of work the caller has open, which the shared buckets are read in.
        """
        if self.shared is not None:
            return self.shared.wait(self.name, key, self.rate, self.burst, tx)
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


__all__ = ["RateLimited", "RateLimiter", "SharedBuckets"]
