"""The per-address token bucket in front of /verify."""

from __future__ import annotations

import pytest

from api.http.rate_limit import RateLimited, RateLimiter


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_next_request_waits_for_a_token() -> None:
    ticks = Ticks()
    limiter = RateLimiter(rate=0.5, burst=3, clock=ticks)
    for _ in range(3):
        limiter.check("198.51.100.7")
    with pytest.raises(RateLimited) as refused:
        limiter.check("198.51.100.7")
    assert refused.value.retry_after == 2 and refused.value.code == "rate-limited"
    ticks.now += 2
    limiter.check("198.51.100.7")


def test_addresses_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate=0.1, burst=1, clock=Ticks())
    limiter.check("198.51.100.7")
    limiter.check("203.0.113.9")
    with pytest.raises(RateLimited):
        limiter.check("198.51.100.7")


def test_memory_stays_bounded_under_many_addresses() -> None:
    limiter = RateLimiter(rate=1, burst=1, clock=Ticks(), max_keys=100)
    for n in range(1000):
        limiter.check(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._buckets) <= 100  # noqa: SLF001


def test_wait_says_how_long_until_a_token_without_taking_one() -> None:
    """Issue 18: the rejected-credentials limit asks before a look-up and spends only on a rejection."""
    ticks = Ticks()
    limiter = RateLimiter(rate=0.5, burst=2, clock=ticks)
    assert limiter.wait("198.51.100.7") is None          # an unknown address has a full bucket
    limiter.check("198.51.100.7")
    assert limiter.wait("198.51.100.7") is None
    assert limiter.wait("198.51.100.7") is None          # asking took nothing
    limiter.check("198.51.100.7")
    assert limiter.wait("198.51.100.7") == 2
    ticks.now += 2
    assert limiter.wait("198.51.100.7") is None
