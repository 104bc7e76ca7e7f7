"""The factor mechanics (signing/factors): liveness challenges, provider assertions, TOTP, codes."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from signing.factors import (
    MOVEMENTS,
    AssertionRejected,
    BiometricProviderSimulator,
    assertion_problems,
    new_challenge,
    new_code,
    new_totp_secret,
    totp_code,
    totp_step,
)

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)
IIN = "850505300017"


def test_LOAN4_a_challenge_is_a_non_repeating_random_sequence_never_the_previous_one() -> None:
    seen = set()
    previous = None
    for _ in range(200):
        challenge = new_challenge(4, previous)
        assert len(challenge) == len(set(challenge)) == 4 and set(challenge) <= set(MOVEMENTS)
        assert challenge != previous
        seen.add(challenge)
        previous = challenge
    assert len(seen) > 150  # 1680 orderings: draws are spread, not a fixed script


def _checks(assertion, **overrides):
    expected = dict(provider="simulator", iin=IIN, challenge_id="c1", movements=("blink", "nod", "smile"),
                    challenge_issued_at=NOW - dt.timedelta(seconds=30), now=NOW,
                    max_age=dt.timedelta(minutes=5), skew=dt.timedelta(seconds=30))
    expected.update(overrides)
    return assertion_problems(assertion, **expected)


def test_LOAN4_a_simulated_assertion_verifies_and_holds_for_its_client_and_challenge() -> None:
    provider = BiometricProviderSimulator()
    token = provider.assertion(iin=IIN, challenge="c1", movements=("blink", "nod", "smile"), at=NOW)
    assertion = provider.verifier().verify(token)
    assert assertion.iin == IIN and assertion.challenge == "c1" and assertion.match and assertion.liveness
    assert _checks(assertion) == []


@pytest.mark.parametrize("change, expected", [
    ({"iin": "900101300017"}, "another person"),
    ({"challenge_id": "c2"}, "another challenge"),
    ({"movements": ("nod", "blink", "smile")}, "movements"),
    ({"now": NOW + dt.timedelta(minutes=6)}, "older than 5 minutes"),
    ({"now": NOW - dt.timedelta(minutes=2)}, "future"),
    ({"challenge_issued_at": NOW + dt.timedelta(minutes=1)}, "older than the challenge"),
    ({"provider": "tsoid"}, "configured provider"),
])
def test_an_assertion_for_another_iin_challenge_or_time_is_refused(change, expected) -> None:
    provider = BiometricProviderSimulator()
    assertion = provider.verifier().verify(
        provider.assertion(iin=IIN, challenge="c1", movements=("blink", "nod", "smile"), at=NOW))
    problems = _checks(assertion, **change)
    assert any(expected in p for p in problems), problems


def test_a_failed_match_or_liveness_is_refused() -> None:
    provider = BiometricProviderSimulator()
    for kwargs, expected in (({"match": False}, "did not match"), ({"liveness": False}, "liveness")):
        token = provider.assertion(iin=IIN, challenge="c1", movements=("blink", "nod", "smile"), at=NOW, **kwargs)
        assert any(expected in p for p in _checks(provider.verifier().verify(token)))


def test_an_assertion_signed_by_another_key_tampered_or_unsigned_is_rejected() -> None:
    provider, impostor = BiometricProviderSimulator(), BiometricProviderSimulator()
    token = impostor.assertion(iin=IIN, challenge="c1", movements=("blink",), at=NOW)
    with pytest.raises(AssertionRejected, match="does not verify"):
        provider.verifier().verify(token)
    good = provider.assertion(iin=IIN, challenge="c1", movements=("blink",), at=NOW)
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "900101300017"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(AssertionRejected):
        provider.verifier().verify(f"{header}.{forged}.{signature}")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    with pytest.raises(AssertionRejected, match="ES256"):
        provider.verifier().verify(f"{none_header}.{payload}.")
    for junk in ("", "a.b", "not.a.jws", "x" * 10000):
        with pytest.raises(AssertionRejected):
            provider.verifier().verify(junk)


def test_totp_accepts_the_current_code_once_by_its_step() -> None:
    secret = new_totp_secret()
    code = totp_code(secret, NOW)
    step = totp_step(secret, code, NOW)
    assert step == int(NOW.timestamp()) // 30
    assert totp_step(secret, code, NOW + dt.timedelta(seconds=30)) == step  # one step of clock drift
    assert totp_step(secret, code, NOW + dt.timedelta(minutes=5)) is None
    assert totp_step(secret, "000000" if code != "000000" else "111111", NOW) is None


def test_codes_have_six_digits_and_vary() -> None:
    codes = {new_code(6) for _ in range(100)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 90
