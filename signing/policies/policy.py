"""Signing policies: which factors a client must prove before signing what (DOMAIN.md §3, issue 5).

Policy is data. :class:`SigningPolicies` holds an ordered list of rules
(the first that matches a document wins) and the limits of the factor
mechanics (codes, liveness challenges, the payout delay). It is built once
at start-up, from the defaults below or from a JSON file
(``QOLTANBA_SIGNING_POLICY_FILE``) read by :func:`load_policies`, a strict
loader that refuses unknown keys and lists every problem; a bad file stops
the service at start-up rather than refusing clients later.

Defaults, from seed 003:

- LOAN-3: an individual entrepreneur's business contract, or its amendment:
  biometrics with liveness; no EDS.
- LOAN-2, LOAN-4, LOAN-10: any other contract or amendment: biometrics with
  liveness AND the client's EDS.
- LOAN-9: changing the phone number or bank details: biometrics AND EDS.
- LOAN-6: other documents (applications, consents, schedules): the EDS, or
  at least two factors of different kinds.

A factor's *kind* is the parameter LOAN-6 names (seed 003 lines 563-586):
an SMS code and a TOTP code are both one-time passwords, so together they
are one kind; biometrics and a certificate (EDS) are kinds of their own,
and so is a password (the borrower's personal-cabinet password, given as
the PIN of a held key at the CSC door, issue 19): LOAN-6 names
"passwords" and "one-time passwords" as different parameters.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from signing.documents.metadata import (
    AMENDMENT,
    CLIENT_KINDS,
    CONTRACT,
    DETAILS_CHANGE,
    ENTREPRENEUR,
    KINDS,
    LEGAL_ENTITY,
    OTHER_KINDS,
)

BUSINESS, CONSUMER = "business", "consumer"


class Factor(str, enum.Enum):
    SMS = "sms"
    TOTP = "totp"
    BIOMETRIC = "biometric"
    EDS = "eds"
    PASSWORD = "password"

    @property
    def kind(self) -> str:
        """LOAN-6's parameter: one-time password, biometrics, certificate or password."""
        return _KIND[self]


_KIND = {Factor.SMS: "one-time-password", Factor.TOTP: "one-time-password", Factor.BIOMETRIC: "biometrics",
         Factor.EDS: "certificate", Factor.PASSWORD: "password"}


@dataclass(frozen=True)
class Alternative:
    """One way to satisfy a rule: every factor of ``all_of``, and at least ``distinct_kinds`` kinds in all."""

    all_of: frozenset[Factor] = frozenset()
    distinct_kinds: int = 0

    def __post_init__(self) -> None:
        if not self.all_of and self.distinct_kinds < 1:
            raise ValueError("an alternative names factors or a number of distinct kinds")
        if not 0 <= self.distinct_kinds <= len(set(_KIND.values())):
            raise ValueError(f"distinct_kinds must be 0-{len(set(_KIND.values()))}")

    def satisfied_by(self, proven: Iterable[Factor]) -> bool:
        proven = set(proven)
        return self.all_of <= proven and len({f.kind for f in proven}) >= self.distinct_kinds

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"all_of": sorted(f.value for f in self.all_of)} if self.all_of else {}
        return shown | ({"distinct_kinds": self.distinct_kinds} if self.distinct_kinds else {})


@dataclass(frozen=True)
class SigningRule:
    """Which documents a rule covers, the factors it demands, and the review window (LOAN-5)."""

    name: str
    documents: frozenset[str]
    any_of: tuple[Alternative, ...]
    cites: tuple[str, ...] = ()
    clients: frozenset[str] = frozenset(CLIENT_KINDS)
    purposes: frozenset[str] = frozenset((BUSINESS, CONSUMER))
    review: dt.timedelta = dt.timedelta(0)
    review_waivable: bool = False

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= len(self.name) <= 64:
            problems.append("name must be 1-64 characters")
        if not self.documents or not self.documents <= set(KINDS):
            problems.append(f"documents must be some of: {', '.join(KINDS)}")
        if not self.clients or not self.clients <= set(CLIENT_KINDS):
            problems.append(f"clients must be some of: {', '.join(CLIENT_KINDS)}")
        if not self.purposes or not self.purposes <= {BUSINESS, CONSUMER}:
            problems.append("purposes must be some of: business, consumer")
        if not self.any_of:
            problems.append("any_of needs at least one alternative")
        if self.review < dt.timedelta(0) or self.review > dt.timedelta(days=7):
            problems.append("review must be 0 to 7 days")
        if problems:
            raise ValueError(f"signing rule {self.name!r}: " + "; ".join(problems))

    def matches(self, document_kind: str, client_kind: str, purpose: str) -> bool:
        return document_kind in self.documents and client_kind in self.clients and purpose in self.purposes

    def satisfied_by(self, proven: Iterable[Factor]) -> bool:
        proven = set(proven)
        return any(a.satisfied_by(proven) for a in self.any_of)

    @property
    def factors(self) -> frozenset[Factor]:
        """Every factor some alternative names; with a distinct-kinds alternative, every factor."""
        if any(a.distinct_kinds for a in self.any_of):
            return frozenset(Factor)
        return frozenset().union(*(a.all_of for a in self.any_of))

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "cites": list(self.cites), "documents": sorted(self.documents),
                "clients": sorted(self.clients), "purposes": sorted(self.purposes),
                "any_of": [a.as_json() for a in self.any_of], "review_minutes": self.review // dt.timedelta(minutes=1),
                "review_waivable": self.review_waivable}


@dataclass(frozen=True)
class CodePolicy:
    """One-time codes: 6 digits, 5 minutes, 5 wrong tries, resend throttled (issue 5)."""

    digits: int = 6
    ttl: dt.timedelta = dt.timedelta(minutes=5)
    max_failures: int = 5
    resend_after: dt.timedelta = dt.timedelta(seconds=60)
    max_sends: int = 5

    def __post_init__(self) -> None:
        if not 6 <= self.digits <= 10:
            raise ValueError("codes need 6 to 10 digits")
        if not dt.timedelta(minutes=1) <= self.ttl <= dt.timedelta(minutes=15):
            raise ValueError("a code lives 1 to 15 minutes")
        if not 1 <= self.max_failures <= 10:
            raise ValueError("max_failures must be 1-10")
        if self.resend_after < dt.timedelta(seconds=10):
            raise ValueError("resend_after must be at least 10 seconds")
        if not 1 <= self.max_sends <= 20:
            raise ValueError("max_sends must be 1-20")


@dataclass(frozen=True)
class BiometricPolicy:
    """Liveness challenges (LOAN-4) and how fresh an identity provider's assertion must be."""

    movements: int = 4
    challenge_ttl: dt.timedelta = dt.timedelta(minutes=5)
    assertion_max_age: dt.timedelta = dt.timedelta(minutes=5)
    clock_skew: dt.timedelta = dt.timedelta(seconds=30)

    def __post_init__(self) -> None:
        if not 3 <= self.movements <= 8:
            raise ValueError("a liveness challenge has 3 to 8 movements")
        if not dt.timedelta(minutes=1) <= self.challenge_ttl <= dt.timedelta(minutes=15):
            raise ValueError("a challenge lives 1 to 15 minutes")
        if not dt.timedelta(minutes=1) <= self.assertion_max_age <= dt.timedelta(minutes=15):
            raise ValueError("an assertion may be 1 to 15 minutes old")


@dataclass(frozen=True)
class PayoutPolicy:
    """LOAN-11: an unsecured consumer loan above 75 MRP is paid out no earlier than 24 hours after signing."""

    threshold_mrp: int = 75
    delay: dt.timedelta = dt.timedelta(hours=24)

    def __post_init__(self) -> None:
        if self.threshold_mrp < 0 or self.delay < dt.timedelta(0):
            raise ValueError("the payout threshold and delay must not be negative")

    def earliest(self, *, document_kind: str, client_kind: str, purpose: str, secured: bool, amount: Decimal,
                 mrp_kzt: int, signed_at: dt.datetime) -> dt.datetime | None:
        # A consumer loan is a person's: a legal entity's loan never is one,
        # nor an entrepreneur's business loan. Only the contract concludes it.
        consumer = purpose == CONSUMER and client_kind != LEGAL_ENTITY
        if document_kind == CONTRACT and consumer and not secured and amount > self.threshold_mrp * mrp_kzt:
            return signed_at + self.delay
        return None


@dataclass(frozen=True)
class SigningPolicies:
    rules: tuple[SigningRule, ...]
    request_ttl: dt.timedelta = dt.timedelta(hours=72)
    codes: CodePolicy = field(default_factory=CodePolicy)
    biometrics: BiometricPolicy = field(default_factory=BiometricPolicy)
    payout: PayoutPolicy = field(default_factory=PayoutPolicy)

    def __post_init__(self) -> None:
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError("rule names must be unique")
        longest = max((r.review for r in self.rules), default=dt.timedelta(0))
        if self.request_ttl <= longest:
            raise ValueError("a request must live longer than the longest review window")
        # Every document a client can be asked to sign must meet some rule.
        for kind in KINDS:
            for client in CLIENT_KINDS:
                for purpose in (BUSINESS, CONSUMER):
                    if not any(r.matches(kind, client, purpose) for r in self.rules):
                        raise ValueError(f"no rule covers a {kind} of a {client} client ({purpose})")

    def rule_for(self, document_kind: str, client_kind: str, purpose: str) -> SigningRule:
        return next(r for r in self.rules if r.matches(document_kind, client_kind, purpose))

    def by_name(self, name: str) -> SigningRule | None:
        return next((r for r in self.rules if r.name == name), None)

    def as_json(self) -> dict[str, Any]:
        return {"request_ttl_hours": self.request_ttl / dt.timedelta(hours=1),
                "codes": {"digits": self.codes.digits, "ttl_seconds": self.codes.ttl.total_seconds(),
                          "max_failures": self.codes.max_failures,
                          "resend_after_seconds": self.codes.resend_after.total_seconds(),
                          "max_sends": self.codes.max_sends},
                "biometrics": {"movements": self.biometrics.movements,
                               "challenge_ttl_seconds": self.biometrics.challenge_ttl.total_seconds(),
                               "assertion_max_age_seconds": self.biometrics.assertion_max_age.total_seconds()},
                "payout": {"threshold_mrp": self.payout.threshold_mrp,
                           "delay_hours": self.payout.delay / dt.timedelta(hours=1)},
                "rules": [r.as_json() for r in self.rules]}

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON: what the audit log records when the policy changes."""
        text = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


_BIO, _EDS = Factor.BIOMETRIC, Factor.EDS
# LOAN-5: two hours to read a contract. Not waivable for a contract: the
# window protects the applicant before the loan is concluded, and a waiver
# is exactly what a pushy lender would ask for. An amendment is concluded
# the same way (LOAN-10), with the same window, which the MFO may record as
# waived by the client (say, a restructuring the client asked for).
_REVIEW = dt.timedelta(hours=2)

DEFAULT_RULES = (
    SigningRule("LOAN-3", frozenset({CONTRACT}), (Alternative(frozenset({_BIO})),), cites=("LOAN-3", "LOAN-4", "LOAN-5"),
                clients=frozenset({ENTREPRENEUR}), purposes=frozenset({BUSINESS}), review=_REVIEW),
    SigningRule("LOAN-3-amendment", frozenset({AMENDMENT}), (Alternative(frozenset({_BIO})),),
                cites=("LOAN-3", "LOAN-4", "LOAN-10"), clients=frozenset({ENTREPRENEUR}),
                purposes=frozenset({BUSINESS}), review=_REVIEW, review_waivable=True),
    SigningRule("LOAN-2", frozenset({CONTRACT}), (Alternative(frozenset({_BIO, _EDS})),),
                cites=("LOAN-2", "LOAN-4", "LOAN-5"), review=_REVIEW),
    SigningRule("LOAN-10", frozenset({AMENDMENT}), (Alternative(frozenset({_BIO, _EDS})),),
                cites=("LOAN-2", "LOAN-4", "LOAN-10"), review=_REVIEW, review_waivable=True),
    SigningRule("LOAN-9", frozenset({DETAILS_CHANGE}), (Alternative(frozenset({_BIO, _EDS})),),
                cites=("LOAN-9", "LOAN-4")),
    SigningRule("LOAN-6", frozenset(OTHER_KINDS), (Alternative(frozenset({_EDS})), Alternative(distinct_kinds=2)),
                cites=("LOAN-6",)),
)


def default_policies() -> SigningPolicies:
    return SigningPolicies(rules=DEFAULT_RULES)


__all__ = ["Alternative", "BiometricPolicy", "CodePolicy", "DEFAULT_RULES", "Factor", "PayoutPolicy",
           "SigningPolicies", "SigningRule", "default_policies"]
