"""A per-client token bucket for the public routes (``/verify``, the TSA, the public reads).

Every route that needs no API key spends from a bucket, or is named in the
written exceptions of docs/SECURITY.md (OCSP, CRLs, CA certificates, health
probes); tests/integration/test_limits.py walks the route table to hold it so.

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

from starlette.requests import Request

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


# bucket -> the settings giving its rate a minute and its burst
BUCKETS = {"verify": ("verify_rate_per_minute", "verify_burst"),
           "public": ("public_rate_per_minute", "public_burst"),
           "tsa": ("tsa_rate_per_minute", "tsa_burst"),
           "login": ("login_rate_per_minute", "login_burst")}


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limiter(request: Request, bucket: str) -> RateLimiter:
    """The app's limiter for ``bucket`` (``app.state.<bucket>_limiter``), made from the settings on first use."""
    name = f"{bucket}_limiter"
    found = getattr(request.app.state, name, None)
    if found is None:
        settings = request.app.state.services.settings
        rate, burst = (getattr(settings, field) for field in BUCKETS[bucket])
        found = RateLimiter(rate / 60, burst)
        setattr(request.app.state, name, found)
    return found


def limited(bucket: str) -> Callable[[Request], None]:
    """A dependency spending one token of the caller's address from ``bucket``, before anything else is read."""

    def take(request: Request) -> None:
        limiter(request, bucket).check(client_address(request))

    # api/http/openapi.py and the route-table walk find the limit by this mark.
    take.rate_limit_bucket = bucket  # type: ignore[attr-defined]
    take.__name__ = f"rate_limit_{bucket}"
    return take


__all__ = ["BUCKETS", "RateLimited", "RateLimiter", "client_address", "limited", "limiter"]
