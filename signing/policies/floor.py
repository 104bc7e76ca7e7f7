"""The floor DOMAIN.md sets under every signing policy, and how two rules compare (issue 15).

A tenant (an MFO) may sign under its own policy, and may ask for more than
the law does; never for less. The floor is the default policy
(policy.py), which is DOMAIN.md §3 written as rules: LOAN-2 (a contract:
biometrics and the client's EDS), LOAN-3 (an individual entrepreneur's
business contract: biometrics), LOAN-5 (two hours to read a contract, not
waivable), LOAN-6 (other documents: the EDS or two kinds of factor),
LOAN-9 and LOAN-10, and LOAN-11's payout delay.

A rule is *at least* another when every set of proven factors that
satisfies it satisfies the other too, its review window is no shorter, and
it lets the client waive the window only where the other does. With five
factors there are thirty-two sets of proven factors, so the comparison
simply tries them all.
"""

from __future__ import annotations

import datetime as dt
from itertools import combinations

from signing.documents.metadata import CLIENT_KINDS, KINDS
from signing.policies.policy import BUSINESS, CONSUMER, Factor, SigningPolicies, SigningRule, default_policies

_EVERY_SET = tuple(frozenset(c) for n in range(len(Factor) + 1) for c in combinations(Factor, n))


def shortfalls(rule: SigningRule, floor: SigningRule) -> list[str]:
    """Why ``rule`` demands less than ``floor`` (empty: it demands at least as much)."""
    found = []
    weaker = next((s for s in _EVERY_SET if rule.satisfied_by(s) and not floor.satisfied_by(s)), None)
    if weaker is not None:
        shown = " and ".join(sorted(f.value for f in weaker)) or "no factor"
        found.append(f"accepts {shown}, which {floor.name} does not")
    if rule.review < floor.review:
        found.append(f"gives {_span(rule.review)} to read, less than {floor.name}'s {_span(floor.review)} (LOAN-5)")
    if rule.review_waivable and not floor.review_waivable and floor.review:
        found.append(f"lets the client waive the review window, which {floor.name} does not")
    return found


def _span(span: dt.timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if not minutes:
        return "no time"
    hours, rest = divmod(minutes, 60)
    return " ".join(part for part in (f"{hours} h" if hours else "", f"{rest} min" if rest else "") if part)


def floor_problems(policies: SigningPolicies, floor: SigningPolicies | None = None) -> list[str]:
    """Every way ``policies`` falls below the floor: per document, client and purpose, then the payout."""
    floor = floor or default_policies()
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for kind in KINDS:
        for client in CLIENT_KINDS:
            for purpose in (BUSINESS, CONSUMER):
                rule, base = policies.rule_for(kind, client, purpose), floor.rule_for(kind, client, purpose)
                for reason in shortfalls(rule, base):
                    if (rule.name, reason) not in seen:
                        seen.add((rule.name, reason))
                        problems.append(f"rule {rule.name} (a {kind} of a {client} client, {purpose}) {reason}")
    if policies.payout.delay < floor.payout.delay or policies.payout.threshold_mrp > floor.payout.threshold_mrp:
        problems.append("payout: LOAN-11 pays an unsecured consumer loan above 75 MRP no earlier than 24 hours "
                        "after signing; the delay may be longer and the threshold lower, not the reverse")
    return problems


def weaker_kind(policies: SigningPolicies, declared: str, actual: str, client_kind: str, purpose: str) -> list[str]:
    """Why signing a document of kind ``actual`` under the rule of kind ``declared`` would demand less."""
    return shortfalls(policies.rule_for(declared, client_kind, purpose), policies.rule_for(actual, client_kind,
                                                                                          purpose))


__all__ = ["floor_problems", "shortfalls", "weaker_kind"]
