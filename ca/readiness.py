"""Is this process ready to serve? The checks behind ``GET /readyz`` (issue 17, item 4).

Four checks, each named in the answer, each with what it saw:

- ``database``: a read-only transaction reads the audit chain's head (one
  primary-key row): the registry answers.
- ``keys``: the key backend answers for the keys a relying party meets on
  every request, the TSA's and each centre's OCSP responder's: the backend
  gives each key's public key now (``KeyReader``: from the token on PKCS#11,
  from the key's file on the software backend), and it is the one in the
  key's certificate.
- ``crl``: each centre's newest full and delta CRL exist and ``now`` is
  before their nextUpdate (RFC 5280 §5.1.2.5: past it a relying party treats
  the CRL as stale).
- ``queue``: pending webhook deliveries, and how many of them are due, at
  most ``max_queue`` (a dispatcher that stopped shows here first).

A failed check does not stop the others: the answer lists every failure. A
check that raises is a failure naming the exception's type, never a 500.
Results are kept for ``cache_seconds`` (monotonic time), so a probe hammered
by many clients costs one round of reads per interval.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization

from ca.clock import Clock
from ca.policy import CENTRES
from ca.publication import DELTA, FULL, PublishedCRL
from ca.signers import Signer
from keys import spki_of

CHECKS = ("database", "keys", "crl", "queue")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    seen: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, **dict(self.seen)}


@dataclass(frozen=True)
class ReadinessReport:
    checks: tuple[Check, ...]
    at: dt.datetime

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def as_json(self) -> dict[str, Any]:
        return {"status": "ready" if self.ready else "not ready", "at": self.at.isoformat(),
                "checks": {c.name: c.as_json() for c in self.checks}}


class AuditHead(Protocol):
    def head(self) -> tuple[int, str]: ...


class DeliveryQueue(Protocol):
    def pending_count(self, now: dt.datetime) -> tuple[int, int]: ...
    def failed_count(self) -> int: ...


class JobQueueDepth(Protocol):
    def depth(self, now: dt.datetime) -> dict[str, int]: ...


class ReadStore(Protocol):
    @property
    def audit(self) -> AuditHead: ...

    @property
    def webhook_deliveries(self) -> DeliveryQueue: ...
    @property
    def jobs(self) -> JobQueueDepth: ...


class ReadStorage(Protocol):
    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[ReadStore]: ...


class CRLs(Protocol):
    """What the checks read of the CRL publisher (ca.publication.CRLPublisher)."""

    def latest(self, code: str, kind: str, *, refresh: bool = True) -> PublishedCRL | None: ...


# The backend's public key of a key handle, read now (api/wiring: from the token or the key's file).
KeyReader = Callable[[str], Any]


def _certificate_spki(signer: Signer) -> bytes:
    der = signer.certificate.public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der).public_key.dump()


class Readiness:
    def __init__(self, registry: ReadStorage, clock: Clock, crls: CRLs, signers: Mapping[str, Signer],
                 read_key: KeyReader, *, max_queue: int = 10_000, cache_seconds: float = 1.0,
                 centres: Sequence[str] = CENTRES) -> None:
        self.registry = registry
        self.clock = clock
        self.crls = crls
        self.signers = dict(signers)
        self.read_key = read_key
        self.max_queue = max_queue
        self.cache_seconds = cache_seconds
        self.centres = tuple(centres)
        self._lock = threading.Lock()
        self._last: tuple[float, ReadinessReport] | None = None

    def report(self) -> ReadinessReport:
        """Every check, or the last report when it is younger than ``cache_seconds``."""
        with self._lock:
            last = self._last
            if last is not None and time.monotonic() - last[0] < self.cache_seconds:
                return last[1]
            report = ReadinessReport(tuple(self._run(name) for name in CHECKS), self.clock.now())
            self._last = (time.monotonic(), report)
            return report

    def _run(self, name: str) -> Check:
        started = time.perf_counter()
        try:
            check = getattr(self, f"_{name}")()
        except Exception as error:  # noqa: BLE001 - a check that cannot run has failed; it says why, by type
            check = Check(name, False, f"the check failed: {type(error).__name__}")
        return Check(check.name, check.ok, check.detail,
                     {**check.seen, "seconds": round(time.perf_counter() - started, 4)})

    def _database(self) -> Check:
        with self.registry.transaction(readonly=True) as tx:
            last_id, _hash = tx.audit.head()
        return Check("database", True, "the registry answers", {"audit_entries": last_id})

    def _keys(self) -> Check:
        problems, seen = [], {}
        for name, signer in sorted(self.signers.items()):
            try:
                handle = signer.key.handle
                matches = spki_of(self.read_key(handle)) == _certificate_spki(signer)
            except Exception as error:  # noqa: BLE001 - the backend's failure, named, for each key
                problems.append(f"{name}: {type(error).__name__}")
                seen[name] = "unavailable"
                continue
            seen[name] = "answers" if matches else "another key"
            if not matches:
                problems.append(f"{name}: the backend's key is not the certificate's")
        if problems:
            return Check("keys", False, "; ".join(problems), {"keys": seen})
        return Check("keys", True, f"{len(seen)} keys answer", {"keys": seen})

    def _crl(self) -> Check:
        now = self.clock.now()
        problems, seen = [], {}
        for code in self.centres:
            for kind in (FULL, DELTA):
                crl = self.crls.latest(code, kind)
                label = f"{code}-{kind}"
                if crl is None:
                    problems.append(f"{label}: never published")
                    continue
                seen[label] = {"number": crl.number, "next_update": crl.next_update.isoformat(),
                               "age_seconds": int((now - crl.this_update).total_seconds()),
                               "next_update_seconds": int((crl.next_update - now).total_seconds())}
                if now >= crl.next_update:
                    problems.append(f"{label}: past its nextUpdate {crl.next_update.isoformat()}")
        detail = "; ".join(problems) if problems else "every CRL is within its nextUpdate"
        return Check("crl", not problems, detail, {"crls": seen})

    def _queue(self) -> Check:
        """The webhook deliveries and the job queue (issue 17, item 2); dead ones are shown, not failed on."""
        now = self.clock.now()
        with self.registry.transaction(readonly=True) as tx:
            pending, due = tx.webhook_deliveries.pending_count(now)
            failed = tx.webhook_deliveries.failed_count()
            jobs = tx.jobs.depth(now)
        ok = pending <= self.max_queue and jobs["due"] <= self.max_queue
        detail = f"{pending} webhook deliveries pending, {jobs['due']} jobs due, {jobs['dead']} dead"
        if not ok:
            detail += f": more than {self.max_queue} waiting"
        return Check("queue", ok, detail, {"pending": pending, "due": due, "failed": failed, "max": self.max_queue,
                                           "jobs": jobs})


__all__ = ["CHECKS", "Check", "KeyReader", "Readiness", "ReadinessReport"]
