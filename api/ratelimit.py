"""A token bucket per client address, in process, for the client API (issue 5).

The client routes need no API key, so they are the ones a stranger can
call: each address gets ``burst`` calls at once and ``per_minute`` a minute
after that. The buckets live in each serving process's memory; with
several workers an address gets that much per worker, which is enough to
stop a script and costs no shared store. A deployment behind a reverse
proxy limits at the proxy as well (it sees the real addresses).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from api.http.rate_limit import RateLimited, RateLimiter
from signing.factors import Throttled


class TokenBuckets(RateLimiter):
    """``RateLimiter`` (api/http/rate_limit.py) sized a minute at a time, refusing with the factors' ``Throttled``."""

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        if per_minute < 1 or burst < 1:
            raise ValueError("a rate limit needs per_minute >= 1 and burst >= 1")
        super().__init__(per_minute / 60.0, burst, clock, max_keys)

    def take(self, key: str) -> None:
        """Spend one token of ``key``'s bucket or raise ``Throttled`` with the wait."""
        try:
            self.check(key)
        except RateLimited as limited:
            raise Throttled("too many calls from this address; slow down", limited.retry_after) from None
