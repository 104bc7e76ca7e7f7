"""What the document service accepts: size of an upload and the loan limits of LOAN-13.

Policy as data, checked when built, so a bad setting stops the service at
start-up instead of refusing every contract later.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# The monthly calculation index (МРП) for 2026, set by the law on the
# republican budget for 2026-2028; it changes every 1 January, hence a setting.
MRP_2026_KZT = 4325


@dataclass(frozen=True)
class DocumentLimits:
    """Upload size and LOAN-13's limits (seed 003 line 398, Table 1)."""

    max_document_bytes: int = 20 * 1024 * 1024
    mrp_kzt: int = MRP_2026_KZT
    # Table 1: from 10 000 tenge to 1 100 MRP.
    min_loan_kzt: Decimal = Decimal(10_000)
    max_loan_mrp: int = 1100
    # Table 1: from 5 days to 36 months. The term is kept in days; the
    # longest 36 calendar months (three years, one of them a leap year)
    # span 1096 days, so that is the upper bound whatever the start date.
    min_term_days: int = 5
    max_term_days: int = 1096
    # Table 1: reward at least 3.65 % a year, annual effective rate (ГЭСВ)
    # at most 46 %. The effective rate includes the reward, so it can never
    # be below the nominal rate's floor either.
    min_rate_percent: Decimal = Decimal("3.65")
    max_effective_rate_percent: Decimal = Decimal(46)

    def __post_init__(self) -> None:
        if self.max_document_bytes < 1024:
            raise ValueError("max_document_bytes must be at least 1024")
        if self.mrp_kzt <= 0:
            raise ValueError("mrp_kzt must be positive")
        if self.max_loan_kzt < self.min_loan_kzt:
            raise ValueError(f"{self.max_loan_mrp} MRP of {self.mrp_kzt} KZT is below the "
                             f"{self.min_loan_kzt} KZT minimum loan")
        if not 0 < self.min_term_days <= self.max_term_days:
            raise ValueError("the term limits must satisfy 0 < min_term_days <= max_term_days")
        if not 0 < self.min_rate_percent <= self.max_effective_rate_percent:
            raise ValueError("the rate limits must satisfy 0 < min_rate_percent <= max_effective_rate_percent")

    @property
    def max_loan_kzt(self) -> Decimal:
        return Decimal(self.mrp_kzt) * self.max_loan_mrp
