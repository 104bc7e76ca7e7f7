"""What the CSC door counts as the borrower's factors for a held key (signing/requests/csc_factors.py, issue 19).

The held key is not the borrower's EDS factor: the door asks exactly what the policy asks from the factors the
borrower proves (LOAN-6: two different kinds; an SMS code is one), as the service's own routes do.
"""

from __future__ import annotations

import pytest

from signing.policies.policy import Factor, default_policies
from signing.requests.csc_factors import held_key_satisfies

BIO, EDS, SMS, TOTP, PASSWORD = Factor.BIOMETRIC, Factor.EDS, Factor.SMS, Factor.TOTP, Factor.PASSWORD
POLICIES = default_policies()


@pytest.mark.parametrize("kind", ["application", "consent", "schedule"])
def test_LOAN6_a_held_key_with_one_sms_code_is_one_parameter_not_the_eds(kind) -> None:
    rule = POLICIES.rule_for(kind, "individual", "consumer")
    assert rule.name == "LOAN-6"
    assert not held_key_satisfies(rule, {SMS})
    assert not held_key_satisfies(rule, {SMS, TOTP})            # two one-time passwords: one kind
    assert not held_key_satisfies(rule, {PASSWORD})
    assert not held_key_satisfies(rule, {BIO})                  # biometrics alone is one parameter too
    assert not held_key_satisfies(rule, set())
    # The door never takes the EDS as claimed: the held key is not it.
    assert not held_key_satisfies(rule, {EDS}) and not held_key_satisfies(rule, {EDS, SMS})
    assert held_key_satisfies(rule, {SMS, PASSWORD})            # the PIN and the SMS code: two kinds
    assert held_key_satisfies(rule, {BIO, SMS})


def test_LOAN2_a_contract_needs_the_borrowers_biometrics_never_a_code_and_a_pin() -> None:
    contract = POLICIES.rule_for("contract", "individual", "consumer")
    assert not held_key_satisfies(contract, {SMS, PASSWORD})
    assert not held_key_satisfies(contract, {SMS, TOTP, PASSWORD})
    # On the signing page, biometrics proven: the held key's signature stands for LOAN-2's EDS (issue 19).
    assert held_key_satisfies(contract, {BIO})
    entrepreneur = POLICIES.rule_for("contract", "entrepreneur", "business")   # LOAN-3: biometrics alone
    assert held_key_satisfies(entrepreneur, {BIO}) and not held_key_satisfies(entrepreneur, {SMS, PASSWORD})
