"""What the CSC door counts as the borrower's factors, and the PIN of a held key (issue 19).

credentials/authorize takes the borrower's ``PIN`` and ``OTP`` (CSC API
v1.0.4 section 11.6; v2 the same members; ``authMode`` "explicit"). The
PIN is the borrower's personal-cabinet password (issue 16), checked with
the cabinet's argon2id verification and counted toward the cabinet's one
lockout (signing/accounts/lockout.py, handed in as ``Pins``: the accounts
room sits above this one). The OTP is the SMS code of
``credentials/sendOTP``. Proven, they are two factors of two different
kinds (LOAN-6's "passwords" and "one-time passwords").

The key the service holds for the borrower is NOT their EDS factor: it is
activated by what the borrower proves, so counting it as the EDS would let
one code meet LOAN-6's "the EDS" alternative alone, where the service's own
routes ask two kinds. The one exception is a rule's alternative that names
biometrics with the EDS (LOAN-2's contract, LOAN-10, LOAN-9): there the held
key's signature stands for the EDS once the borrower's biometrics are proven
on the signing page (csc_page.py), as issue 19's contract flow does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

from signing.policies.policy import Factor, SigningRule
from signing.requests.csc_credentials import Caller, Credential, CSCRefused


class Pins(Protocol):
    """The cabinet password as a held key's PIN (``signing.accounts.CabinetPins``)."""

    def account_of(self, tx: Any, client_id: int) -> str | None: ...  # noqa: ANN401
    def check(self, tx: Any, client_id: int, pin: str, *, now: dt.datetime, tenant: str,  # noqa: ANN401
              credential: str, by: str) -> str | None: ...


def held_key_satisfies(rule: SigningRule, proven: Iterable[Factor]) -> bool:
    """Whether the factors the borrower proved through the CSC door meet ``rule`` for a held key's signature.

    Exactly the rule, from the factors proven: an SMS code alone meets no default rule, an SMS code and the
    PIN (a password) meet LOAN-6's two kinds. Only an alternative naming biometrics and the EDS takes the held
    key's signature for the EDS, once biometrics are proven; it adds no kind to a distinct-kinds count.
    """
    proven = set(proven) - {Factor.EDS}   # never claimed through this door; the held key is not the EDS
    if not proven:
        return False
    kinds = len({f.kind for f in proven})
    for alternative in rule.any_of:
        key = {Factor.EDS} if Factor.BIOMETRIC in alternative.all_of and Factor.BIOMETRIC in proven else set()
        if alternative.all_of <= proven | key and kinds >= alternative.distinct_kinds:
            return True
    return False


def policy_allows(pins: Pins, tx: Any, client_id: int, rule: SigningRule, kind: str, *,  # noqa: ANN401
                  pin: bool) -> None:
    """Refused, saying why, unless the factors this request can prove (the OTP, the PIN if given) meet ``rule``;
    checked before any code or PIN is, so such a refusal spends and counts nothing."""
    if held_key_satisfies(rule, {Factor.SMS, Factor.PASSWORD} if pin else {Factor.SMS}):
        return
    named = f"Policy {rule.name} ({', '.join(rule.cites)})"
    if not pin and held_key_satisfies(rule, {Factor.SMS, Factor.PASSWORD}):
        why = "send the borrower's PIN (their personal-cabinet password) with the OTP" \
            if pins.account_of(tx, client_id) else \
            "the borrower has no personal-cabinet account, so no PIN: invite them to the cabinet " \
            "(POST /clients/{id}/account), or they authorise these hashes on the signing page"
        raise CSCRefused("invalid_request", f"{named} asks for two different kinds of factor for a {kind}; "
                                            f"a one-time code is one: {why}")
    raise CSCRefused("invalid_request", f"{named} asks for more than a one-time code and a PIN for a {kind}: "
                                        "the borrower authorises these hashes on the signing page "
                                        "(oauth2/authorize, scope credential)")


def prove_pin(pins: Pins, tx: Any, caller: Caller, credential: Credential, pin: str,  # noqa: ANN401
              now: dt.datetime) -> str:
    """The public id of the borrower's cabinet account, once the PIN is its password; a wrong one is counted
    toward the cabinet's lockout and audited (kept: the transaction commits), and refused."""
    refused = pins.check(tx, credential.client.id, pin, now=now, tenant=caller.tenant,
                         credential=credential.id, by=caller.actor)
    if refused == "no-account":
        raise CSCRefused("invalid_request", "Invalid parameter PIN: the borrower has no personal-cabinet account, "
                                            "so no PIN to give")
    if refused is not None:
        raise CSCRefused("invalid_pin", "The PIN is invalid, or the borrower's cabinet account is locked after "
                                        "too many wrong tries", keep=True)
    return pins.account_of(tx, credential.client.id) or ""


__all__ = ["Pins", "held_key_satisfies", "policy_allows", "prove_pin"]
