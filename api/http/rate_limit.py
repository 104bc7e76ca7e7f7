"""Rate limits of the HTTP routes: one door for every bucket a request spends from (issue 21).

Two kinds of route need no API key, so a stranger can call them, and each
spends from a token bucket per client address (the mechanism is
ca/rate_limit.py; the rejected-credentials bucket of the keyed routes is
ca/auth_failures.py):

- the public routes (``/verify``, the TSA, the public reads, the console
  login): ``limited(bucket)``, a dependency; every route that needs no API
  key spends from a bucket, or is named in the written exceptions of
  docs/SECURITY.md (OCSP, CRLs, CA certificates, health probes);
  tests/integration/test_limits.py walks the route table to hold it so;
- the client API (issue 5, ``X-Signing-Token``): ``TokenBuckets``, sized a
  minute at a time, refusing with the factors' ``Throttled``.

The buckets live in the registry (ca/rate_limit.py ``SharedBuckets``, issue
17 item 2), shared by every worker on every host, keyed by the client's
address as the ASGI server sees it: behind a reverse proxy every client
shares the proxy's address unless the server is started with
``--proxy-headers`` for that proxy. The operator's proxy should limit too
(docs/DECISIONS.md "Verification").
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.requests import Request

from ca.rate_limit import RateLimited, RateLimiter, SharedBuckets
from signing.factors import Throttled

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
        found = RateLimiter(rate / 60, burst, shared=request.app.state.services.rate_buckets, name=bucket)
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


class TokenBuckets(RateLimiter):
    """The client API's buckets (issue 5): ``per_minute`` a minute per address, refusing with ``Throttled``.

    The client routes need no API key, so they are the ones a stranger can
    call: each address gets ``burst`` calls at once and ``per_minute`` a minute
    after that (``app.state.client_limiter``).
    """

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000, *, shared: SharedBuckets | None = None) -> None:
        if per_minute < 1 or burst < 1:
            raise ValueError("a rate limit needs per_minute >= 1 and burst >= 1")
        super().__init__(per_minute / 60.0, burst, clock, max_keys, shared=shared, name="client")

    def take(self, key: str) -> None:
        """Spend one token of ``key``'s bucket or raise ``Throttled`` with the wait."""
        try:
            self.check(key)
        except RateLimited as limited:
            raise Throttled("too many calls from this address; slow down", limited.retry_after) from None


__all__ = ["BUCKETS", "RateLimited", "RateLimiter", "TokenBuckets", "client_address", "limited", "limiter"]
