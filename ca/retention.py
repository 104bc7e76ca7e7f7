"""Retention: certificates leave the live registry for the archive table.

A certificate's life ends when it is revoked or expires; it stays in the
registry 5 years after that (ROOT-7, NAT-8; 10 years at the government CA,
GOV-6) and then moves to ``certificate_archive`` with every column. CRLs
are never deleted: every one issued stays in the ``crls`` table. The job
moves rows and deletes them in one transaction per centre, so running it
twice, or after a crash, moves each certificate exactly once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from ca.clock import Clock
from ca.issuer import IssuingCA
from ca.policy import CENTRES, GOVERNMENT, NATIONAL, ROOT
from registry import Registry, RegistryTransaction

RETENTION_YEARS = {ROOT: 5, NATIONAL: 5, GOVERNMENT: 10}


@dataclass(frozen=True)
class RetentionResult:
    centre: str
    cutoff: dt.datetime
    archived: int

    def as_json(self) -> dict:
        return {"centre": self.centre, "cutoff": self.cutoff.isoformat(), "archived": self.archived}


def years_before(moment: dt.datetime, years: int) -> dt.datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:   # 29 February
        return moment.replace(year=moment.year - years, day=28)


class Centres(Protocol):
    """What retention reads of the hierarchy (ca.hierarchy.Hierarchy)."""

    def issuing_ca(self, code: str, tx: RegistryTransaction | None = None) -> IssuingCA: ...


class RetentionService:
    def __init__(self, registry: Registry, clock: Clock, centres: Centres) -> None:
        self.registry = registry
        self.clock = clock
        self.centres = centres

    def run(self, actor: str = "retention") -> list[RetentionResult]:
        now = self.clock.now()
        results = []
        for code in CENTRES:
            cutoff = years_before(now, RETENTION_YEARS[code])
            with self.registry.transaction() as tx:
                ca = self.centres.issuing_ca(code, tx)
                ids = tx.certificates.expired_terminated_before(ca.centre_id, cutoff)
                moved = tx.certificates.archive(ids, now)
                if moved:
                    tx.audit.append(at=now, actor=actor, action="retention.archived", subject=code,
                                    details={"count": moved, "cutoff": cutoff.isoformat()})
            results.append(RetentionResult(code, cutoff, moved))
        return results
