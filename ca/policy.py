"""Policy of the hierarchy as data: names, algorithms, validity, deadlines, refusal reasons.

Built from settings by ``api`` and validated here, so a bad configuration
fails at start-up, not at issuance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from keys import KeyAlgorithm

ROOT, NATIONAL, GOVERNMENT = "root", "national", "government"
CENTRES = (ROOT, NATIONAL, GOVERNMENT)


@dataclass(frozen=True)
class RefusalReason:
    code: str
    text: str
    rule: str


# Each centre's exhaustive list of refusal reasons (DOMAIN.md §4). A
# registrar refuses with one of these codes and a free-text detail.
REFUSAL_REASONS: Mapping[str, tuple[RefusalReason, ...]] = MappingProxyType({
    ROOT: (
        RefusalReason("documents-missing", "the required documents are missing", "ROOT-4"),
        RefusalReason("information-unreliable", "the information given is unreliable", "ROOT-4"),
    ),
    NATIONAL: (
        RefusalReason("documents-missing", "the required documents are missing", "NAT-2"),
        RefusalReason("form-incorrect", "the application is not filled in correctly", "NAT-3"),
        RefusalReason("data-mismatch", "the application does not match the applicant's documents", "NAT-3"),
        RefusalReason("key-unacceptable", "the public key or its proof of possession is not acceptable", "NAT-2"),
    ),
    GOVERNMENT: (
        RefusalReason("documents-missing", "the official letter or an ID copy is missing", "GOV-2"),
        RefusalReason("form-incorrect", "the application is not filled in correctly", "GOV-2"),
        RefusalReason("not-a-participant", "the applicant is not a participant of the state bodies' system", "GOV-1"),
        RefusalReason("holder-has-key", "the holder already has a valid private key", "GOV-4"),
    ),
})


@dataclass(frozen=True)
class CentrePolicy:
    code: str
    name: str
    organisation: str
    algorithm: KeyAlgorithm
    validity: dt.timedelta
    review_working_days: int

    def __post_init__(self) -> None:
        if self.code not in CENTRES:
            raise ValueError(f"unknown centre {self.code!r}")
        if not self.name or len(self.name) > 64:
            raise ValueError(f"centre {self.code}: name must be 1-64 characters")
        if self.validity <= dt.timedelta(0):
            raise ValueError(f"centre {self.code}: validity must be positive")
        if self.review_working_days < 1:
            raise ValueError(f"centre {self.code}: review period must be at least one working day")


@dataclass(frozen=True)
class ServicePolicy:
    """Names of the service certificates ``init`` creates (each tenant's seal is its own: signing/tenants/)."""

    tsa_name: str = "QOLTANBA TSA"
    algorithm: KeyAlgorithm = KeyAlgorithm.EC_P256


@dataclass(frozen=True)
class HierarchyPolicy:
    base_url: str
    centres: Mapping[str, CentrePolicy]
    services: ServicePolicy = field(default_factory=ServicePolicy)
    end_entity_validity: dt.timedelta = dt.timedelta(days=365)
    lint_at_issuance: bool = False

    def __post_init__(self) -> None:
        missing = set(CENTRES) - set(self.centres)
        if missing:
            raise ValueError(f"policy lacks centres {sorted(missing)}")
        if not self.base_url.startswith(("http://", "https://")) or self.base_url.endswith("/"):
            raise ValueError("base_url must be an http(s) URL without a trailing slash")
        object.__setattr__(self, "centres", MappingProxyType(dict(self.centres)))

    def centre(self, code: str) -> CentrePolicy:
        return self.centres[code]


def default_policy(base_url: str = "http://127.0.0.1:8000",
                   algorithm: KeyAlgorithm = KeyAlgorithm.EC_P256,
                   government_algorithm: KeyAlgorithm = KeyAlgorithm.GOST_2015_512) -> HierarchyPolicy:
    """Sensible defaults: ROOT-3's 15 working days, 1-year end-entity certificates (NAT-2, GOV-7).

    GOV-7 names GOST for the government-bodies CA: its key is GOST R
    34.10-2015 512-bit by default (the NCA's current parameter set, KZ-5);
    the root and the national CA use ``algorithm``.

    The seeds give the national and government CAs no issuance deadline; we
    choose 2 and 5 working days (a same-week answer for a person, a week for
    a state body's batch) and record it in docs/DECISIONS.md.
    """
    return HierarchyPolicy(
        base_url=base_url,
        centres={
            ROOT: CentrePolicy(ROOT, "QOLTANBA ROOT CA", "QOLTANBA", algorithm, dt.timedelta(days=7305), 15),
            NATIONAL: CentrePolicy(NATIONAL, "QOLTANBA NATIONAL CA", "QOLTANBA", algorithm,
                                   dt.timedelta(days=3650), 2),
            GOVERNMENT: CentrePolicy(GOVERNMENT, "QOLTANBA GOVERNMENT CA", "QOLTANBA", government_algorithm,
                                     dt.timedelta(days=3650), 5),
        },
    )


def refusal_reason(centre: str, code: str) -> RefusalReason | None:
    return next((r for r in REFUSAL_REASONS[centre] if r.code == code), None)
