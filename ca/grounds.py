"""Revocation grounds per centre, as data (DOMAIN.md §1: ROOT-6, GOV-5, NAT-5).

Each ground says which centres may use it, whether it applies to CA-level
or end-entity certificates, and which RFC 5280 reason codes (§5.3.1, in
kebab case) it may carry; the first is the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from ca.policy import CENTRES, GOVERNMENT, ROOT, RefusalReason

# RFC 5280 §5.3.1. certificateHold and removeFromCRL are not offered: the
# seeds know no suspension, and a revocation here is final.
REASONS = ("unspecified", "key-compromise", "ca-compromise", "affiliation-changed", "superseded",
           "cessation-of-operation", "privilege-withdrawn")


@dataclass(frozen=True)
class Ground:
    code: str
    text: str
    rule: str
    centres: frozenset[str]
    reasons: tuple[str, ...]
    ca_level: bool | None = None   # True: CA certificates only; False: end-entity only; None: both

    @property
    def default_reason(self) -> str:
        return self.reasons[0]


_ALL = frozenset(CENTRES)
HOLDER_APPLICATION, COURT_DECISION, LEFT_JOB = "holder-application", "court-decision", "left-job"
CA_LIQUIDATION, ACCREDITATION_EXPIRED, CENTRE_STOPPED = "ca-liquidation", "accreditation-expired", "centre-stopped"

GROUNDS: Mapping[str, Ground] = MappingProxyType({g.code: g for g in (
    Ground(HOLDER_APPLICATION, "the holder's application (national CA appendices 4-5, government CA appendix 4, "
                               "root CA appendix 3)", "NAT-5, GOV-5, ROOT-6", _ALL,
           ("unspecified", "key-compromise", "affiliation-changed", "superseded", "cessation-of-operation",
            "ca-compromise")),
    Ground(COURT_DECISION, "a court decision in force", "NAT-5, GOV-5, ROOT-6", _ALL,
           ("privilege-withdrawn", "key-compromise", "unspecified")),
    Ground(LEFT_JOB, "the holder left the job or changed post (reported within 3 days)", "GOV-5",
           frozenset({GOVERNMENT}), ("affiliation-changed",), ca_level=False),
    Ground(CA_LIQUIDATION, "the certification centre reported its liquidation", "ROOT-6",
           frozenset({ROOT}), ("cessation-of-operation",), ca_level=True),
    Ground(ACCREDITATION_EXPIRED, "the certification centre's accreditation expired", "ROOT-6",
           frozenset({ROOT}), ("privilege-withdrawn",), ca_level=True),
    Ground(CENTRE_STOPPED, "the issuing centre stopped work: every certificate it issued is revoked",
           "NAT-5, ROOT-6", _ALL, ("cessation-of-operation",)),
)})

# GOV-5 (seed 004 line 338): a holder leaving the job is reported within 3 days.
LEFT_JOB_REPORT_DAYS = 3
CA_PROFILES = frozenset({"subordinate-ca", "root-ca"})

# Why a revocation application may be refused (DOMAIN.md §4: an exhaustive list).
REVOCATION_REFUSAL_REASONS = (
    RefusalReason("form-incorrect", "the application is not filled in correctly", "NAT-5, GOV-5"),
    RefusalReason("data-mismatch", "the application does not match the certificate or the applicant", "NAT-5"),
    RefusalReason("not-the-holder", "the applicant is not the holder or their representative", "NAT-5, NAT-7"),
    RefusalReason("documents-missing", "the official letter, ID copy or power of attorney is missing", "GOV-5"),
    RefusalReason("already-revoked", "the certificate is already revoked", "NAT-5"),
)
