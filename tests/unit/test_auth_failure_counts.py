"""Counting rejected credentials in memory (issue 18): bounded, limited per source."""

from __future__ import annotations

import datetime as dt

import pytest

from ca.auth_failures import OTHER_SOURCES, AuthFailures, CredentialsLimited
from api.http.rate_limit import RateLimiter
from ca.clock import FrozenClock


def _failures(**limits) -> AuthFailures:
    clock = FrozenClock(dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
    return AuthFailures(None, clock, RateLimiter(rate=1 / 60, burst=2, clock=lambda: 0.0), **limits)  # type: ignore[arg-type]


def test_past_its_burst_a_source_is_refused_before_a_look_up_and_others_are_not() -> None:
    failures = _failures()
    for _ in range(2):
        failures.admit("203.0.113.7")
        failures.rejected("203.0.113.7", "api_key")
    with pytest.raises(CredentialsLimited) as refused:
        failures.admit("203.0.113.7")
    assert refused.value.retry_after == 60 and "rejected credentials" in refused.value.detail
    failures.admit("198.51.100.2")
    assert failures._counts["203.0.113.7"] == {"api_key": 2, "limited": 1}  # noqa: SLF001


def test_an_address_spraying_flood_keeps_the_counts_bounded() -> None:
    failures = _failures(max_sources=10)
    for n in range(1000):
        failures.count(f"10.0.{n // 256}.{n % 256}", "api_key")
    assert len(failures._counts) == 11 and failures._counts[OTHER_SOURCES]["api_key"] == 990  # noqa: SLF001
