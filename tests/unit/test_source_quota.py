"""A client address's share of the verification workers (issue 18, finding 9)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.settings import Settings
from signing.verification.quota import SourceQuota, VerificationQuotaExceeded
from signing.verification.sandbox import SandboxLimits


def test_a_source_past_its_quota_is_refused_at_once_with_a_retry_after() -> None:
    quota = SourceQuota(per_source=1)
    with quota.admit("203.0.113.7"):
        with pytest.raises(VerificationQuotaExceeded) as refused:
            with quota.admit("203.0.113.7"):
                pass
    assert refused.value.code == "rate-limited" and refused.value.retry_after >= 1
    assert "1 verification" in refused.value.detail


def test_other_sources_are_admitted_while_one_holds_its_quota() -> None:
    quota = SourceQuota(per_source=2)
    with quota.admit("a"), quota.admit("a"), quota.admit("b"), quota.admit("c"):
        assert (quota.admitted("a"), quota.admitted("b")) == (2, 1)
        with pytest.raises(VerificationQuotaExceeded, match="2 verifications"):
            with quota.admit("a"):
                pass


def test_a_place_is_given_back_when_the_verification_ends_even_by_an_error() -> None:
    quota = SourceQuota(per_source=1)
    with pytest.raises(RuntimeError):
        with quota.admit("a"):
            raise RuntimeError("the worker died")
    with quota.admit("a"):
        assert quota.admitted("a") == 1
    # Nothing is remembered of a source with nothing admitted, so a flood of addresses costs no memory.
    assert quota.admitted("a") == 0 and quota._admitted == {}


def test_a_source_may_not_hold_every_worker_unless_there_is_only_one() -> None:
    assert SandboxLimits(workers=2).per_source == 1
    assert SandboxLimits(workers=1, per_source=1).per_source == 1
    assert SandboxLimits(workers=4, per_source=3).per_source == 3
    for workers, per_source in ((2, 2), (4, 4), (1, 2), (2, 0)):
        with pytest.raises(ValueError):
            SandboxLimits(workers=workers, per_source=per_source)


def test_the_setting_defaults_to_one_and_refuses_a_quota_as_large_as_the_workers() -> None:
    from api.wiring import sandbox_limits

    settings = Settings(home="/tmp/q")
    assert settings.verify_per_address == 1 and sandbox_limits(settings).per_source == 1
    assert sandbox_limits(Settings(home="/tmp/q", verify_workers=8, verify_per_address=7)).per_source == 7
    with pytest.raises(ValidationError, match="QOLTANBA_VERIFY_PER_ADDRESS"):
        Settings(home="/tmp/q", verify_workers=2, verify_per_address=2)
