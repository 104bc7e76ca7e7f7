"""Signing policies as data (signing/policies/policy.py): the defaults of DOMAIN.md §3 and the strict loader."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from signing.policies.policy import Factor, default_policies
from signing.policies.loader import PolicyError, load_policies

BIO, EDS, SMS, TOTP, PASSWORD = Factor.BIOMETRIC, Factor.EDS, Factor.SMS, Factor.TOTP, Factor.PASSWORD
POLICIES = default_policies()


def rule(kind: str, client: str = "individual", purpose: str = "consumer"):
    return POLICIES.rule_for(kind, client, purpose)


@pytest.mark.parametrize("kind", ["contract", "amendment"])
@pytest.mark.parametrize("client", ["individual", "legal_entity", "entrepreneur"])
def test_LOAN2_LOAN10_contracts_and_amendments_need_biometrics_and_eds(kind, client) -> None:
    chosen = rule(kind, client, "consumer")
    assert chosen.satisfied_by({BIO, EDS})
    assert not chosen.satisfied_by({BIO}) and not chosen.satisfied_by({EDS})
    assert not chosen.satisfied_by({BIO, SMS, TOTP})


@pytest.mark.parametrize("kind", ["contract", "amendment"])
def test_LOAN3_entrepreneur_business_contract_needs_biometrics_without_eds(kind) -> None:
    chosen = rule(kind, "entrepreneur", "business")
    assert chosen.satisfied_by({BIO})
    assert not chosen.satisfied_by({SMS, TOTP, EDS})
    assert "LOAN-3" in chosen.cites
    # The exception is the entrepreneur's and the business purpose's only.
    assert not rule(kind, "individual", "business").satisfied_by({BIO})
    assert not rule(kind, "entrepreneur", "consumer").satisfied_by({BIO})


@pytest.mark.parametrize("kind", ["application", "consent", "schedule"])
def test_LOAN6_other_documents_need_eds_or_two_factors_of_different_kinds(kind) -> None:
    chosen = rule(kind)
    assert chosen.satisfied_by({EDS})
    assert chosen.satisfied_by({SMS, BIO}) and chosen.satisfied_by({TOTP, BIO})
    # Two one-time passwords are one kind of parameter.
    assert not chosen.satisfied_by({SMS, TOTP})
    assert not chosen.satisfied_by({SMS}) and not chosen.satisfied_by({BIO})


@pytest.mark.parametrize("kind", ["application", "consent", "schedule"])
def test_LOAN6_a_password_and_a_one_time_password_are_two_different_parameters(kind) -> None:
    """LOAN-6 names "passwords" and "one-time passwords" apart: the cabinet password and an SMS code are two kinds;
    the password alone, or with the EDS's kind missing, is one."""
    chosen = rule(kind)
    assert PASSWORD.kind == "password" and PASSWORD.kind not in {SMS.kind, TOTP.kind, BIO.kind, EDS.kind}
    assert chosen.satisfied_by({SMS, PASSWORD}) and chosen.satisfied_by({TOTP, PASSWORD})
    assert not chosen.satisfied_by({PASSWORD})
    # A contract still needs biometrics and the EDS: a password and a code are not them.
    assert not rule("contract").satisfied_by({SMS, TOTP, PASSWORD})


def test_LOAN6_a_tenant_rule_taking_the_password_alone_is_below_the_floor() -> None:
    from signing.policies.floor import floor_problems
    from signing.policies.policy import Alternative, SigningPolicies

    weak = tuple(r if r.name != "LOAN-6" else type(r)(r.name, r.documents, (Alternative(frozenset({PASSWORD})),),
                                                       cites=r.cites) for r in POLICIES.rules)
    problems = floor_problems(SigningPolicies(rules=weak))
    assert problems and all("accepts password, which LOAN-6 does not" in p for p in problems), problems


def test_LOAN9_changing_phone_or_bank_details_needs_biometrics_and_eds() -> None:
    chosen = rule("details_change")
    assert chosen.satisfied_by({BIO, EDS})
    assert not chosen.satisfied_by({BIO, SMS, TOTP})


def test_LOAN5_two_hour_review_for_contracts_not_waivable_amendments_waivable() -> None:
    assert rule("contract").review == dt.timedelta(hours=2) and not rule("contract").review_waivable
    assert rule("amendment").review == dt.timedelta(hours=2) and rule("amendment").review_waivable
    assert rule("consent").review == dt.timedelta(0)


def test_LOAN11_unsecured_consumer_loan_above_75_mrp_pays_out_24_hours_after_signing() -> None:
    at = dt.datetime(2026, 3, 2, 10, tzinfo=dt.timezone.utc)
    payout = POLICIES.payout

    def earliest(amount, **changes):
        terms = dict(document_kind="contract", client_kind="individual", purpose="consumer", secured=False,
                     amount=Decimal(amount), mrp_kzt=4325, signed_at=at)
        terms.update(changes)
        return payout.earliest(**terms)

    assert earliest("324376") == at + dt.timedelta(hours=24)            # 75 MRP = 324 375 KZT
    assert earliest("324375") is None                                  # not above
    assert earliest("500000", secured=True) is None
    assert earliest("500000", purpose="business") is None
    assert earliest("500000", document_kind="amendment") is None
    assert earliest("500000", client_kind="legal_entity") is None


def test_the_loader_refuses_unknown_keys_everywhere_and_lists_every_problem() -> None:
    text = json.dumps({"colour": 1, "codes": {"digits": 4, "shade": 2},
                       "rules": [{"name": "x", "documents": ["contract", "poem"], "any_of": [{"all_of": ["iris"]}],
                                  "extra": True}]})
    with pytest.raises(PolicyError) as caught:
        load_policies(text)
    problems = " | ".join(caught.value.problems)
    for expected in ("policy.colour: unknown key", "codes.shade: unknown key", "rules[0].extra: unknown key",
                     "poem", "iris"):
        assert expected in problems, problems


def test_the_loader_refuses_limits_that_break_the_rules_and_uncovered_documents() -> None:
    with pytest.raises(PolicyError, match="6 to 10 digits"):
        load_policies({"codes": {"digits": 4}})
    with pytest.raises(PolicyError, match="no rule covers"):
        load_policies({"rules": [{"name": "only", "documents": ["contract"], "any_of": [{"all_of": ["eds"]}]}]})


def test_a_loaded_policy_keeps_the_defaults_it_does_not_name_and_is_fingerprinted() -> None:
    loaded = load_policies({"codes": {"max_failures": 3}, "request_ttl_hours": 48})
    assert loaded.codes.max_failures == 3 and loaded.codes.digits == 6
    assert loaded.request_ttl == dt.timedelta(hours=48)
    assert loaded.rules == POLICIES.rules
    assert loaded.fingerprint != POLICIES.fingerprint
    assert load_policies(POLICIES.as_json()).fingerprint == POLICIES.fingerprint
