"""Publishing CRLs: numbering, archiving, exporting (RFC 5280 §5; ROOT-6, ROOT-7, NAT-8).

A centre publishes a full CRL and a delta CRL (RFC 5280 §5.2.4) that share
one number sequence. The entries are read, the CRLs built and signed outside
any write lock (a million entries take about a second), then stored in one
short transaction, so other writers never wait for a signature. The
publishers of one centre take turns (``Registry.exclusive``: an advisory
lock every process and host on the registry shares, not a write lock), so
each drafts after the last one stored and none signs in vain.
``UNIQUE(centre, number)`` stays the guard: should a number be taken all the
same, the loser signs again with fresh numbers. A number therefore belongs
to exactly one committed CRL, and no file is exported before its row is
committed, so numbers never repeat whatever crashes where. Every CRL stays
in the ``crls`` table: the archive.
"""

from __future__ import annotations

import bisect
import datetime as dt
import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509

from ca.clock import Clock
from ca.crl import REASON_CODES, CRLParams, sign_crl
from ca.errors import NotFound
from ca.issuer import IssuingCA
from ca.policy import CENTRES
from ca.signers import Signer
from registry import Conflict, CRLRow, Registry, RegistryTransaction

log = logging.getLogger(__name__)
FULL, DELTA = "full", "delta"


@dataclass(frozen=True)
class CRLPolicy:
    """How often and how long: ``next_update`` after ``this_update``; a CRL older than
    ``refresh_after`` is re-issued by the schedule; ``full_on_revocation`` re-issues the
    full CRL after each revocation (else only the delta, the full one on schedule)."""

    next_update: dt.timedelta = dt.timedelta(hours=24)
    refresh_after: dt.timedelta = dt.timedelta(hours=6)
    full_on_revocation: bool = True
    export_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.next_update <= dt.timedelta(0) or self.refresh_after <= dt.timedelta(0):
            raise ValueError("CRL next-update and refresh intervals must be positive")
        if self.refresh_after >= self.next_update:
            raise ValueError("CRLs must be refreshed before their next-update passes")


@dataclass(frozen=True)
class PublishedCRL:
    centre: str
    kind: str
    number: int
    this_update: dt.datetime
    next_update: dt.datetime
    entries: int
    der: bytes
    base_number: int | None = None

    def as_json(self) -> dict:
        return {"centre": self.centre, "kind": self.kind, "number": self.number, "entries": self.entries,
                "this_update": self.this_update.isoformat(), "next_update": self.next_update.isoformat(),
                "sha256": hashlib.sha256(self.der).hexdigest()}


# -- the storage the publisher uses (Boulder's per-role storage interface) ---------


class CRLRows(Protocol):
    def add(self, row: CRLRow) -> CRLRow: ...
    def last_number(self, centre_id: int) -> int: ...
    def latest(self, centre_id: int, kind: str) -> CRLRow | None: ...
    def latest_meta(self, centre_id: int, kind: str) -> tuple[int, int, dt.datetime, dt.datetime] | None: ...
    def numbers(self, centre_id: int) -> list[int]: ...


class RevocationFeed(Protocol):
    def last_seq(self, centre_id: int | None = None) -> int: ...
    def crl_entries(self, centre_id: int, *,
                    after_seq: int = 0) -> list[tuple[str, dt.datetime, str, int, dt.datetime]]: ...


class AuditTrail(Protocol):
    def append(self, *, at: dt.datetime, actor: str, action: str, subject: str,
               details: dict[str, Any] | None = None) -> int: ...


class CRLStore(Protocol):
    """What the publisher reads and writes in one unit of work: CRLs, the revocations they list, the audit."""

    @property
    def crls(self) -> CRLRows: ...
    @property
    def revocations(self) -> RevocationFeed: ...
    @property
    def audit(self) -> AuditTrail: ...


class CRLStorage(Protocol):
    """The registry as the publisher sees it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[CRLStore]: ...
    def exclusive(self, name: str) -> AbstractContextManager[None]: ...


class Centres(Protocol):
    """What the publisher reads of the hierarchy (ca.hierarchy.Hierarchy)."""

    def issuing_ca(self, code: str, tx: RegistryTransaction | None = None) -> IssuingCA: ...


class CRLPublisher:
    registry: CRLStorage

    def __init__(self, registry: Registry, clock: Clock, centres: Centres, signers: Mapping[str, Signer],
                 policy: CRLPolicy | None = None) -> None:
        """``signers``: each centre's CA key, built in the wiring; the publisher signs CRLs and nothing else."""
        self.registry = registry
        self.clock = clock
        self.centres = centres
        self.keys = dict(signers)
        self.policy = policy or CRLPolicy()
        self._cache: dict[tuple[str, str], PublishedCRL] = {}
        self._entries: dict[int, _Entries] = {}
        self._lock = threading.Lock()

    # -- issuing -------------------------------------------------------------

    def publish(self, code: str, *, after_revocation: bool = False, kinds: tuple[str, ...] | None = None,
                attempts: int = 8, actor: str = "system") -> list[PublishedCRL]:
        """Issue the centre's CRLs now: full and delta (or just the delta, per policy); each one audited."""
        if kinds is None:
            full = not after_revocation or self.policy.full_on_revocation
            kinds = (FULL, DELTA) if full else (DELTA,)
        ca = self.centres.issuing_ca(code)
        with self.registry.exclusive(f"crl-publication:{ca.code}"):
            return self._publish(ca, kinds, attempts, actor)

    def _publish(self, ca: IssuingCA, kinds: tuple[str, ...], attempts: int, actor: str) -> list[PublishedCRL]:
        for _ in range(attempts):
            draft = self._draft(ca, kinds)
            try:
                with self.registry.transaction() as tx:
                    for crl, covered in draft:
                        sha256 = hashlib.sha256(crl.der).hexdigest()
                        tx.crls.add(CRLRow(
                            centre_id=ca.centre_id, number=crl.number, kind=crl.kind,
                            base_number=crl.base_number, this_update=crl.this_update,
                            next_update=crl.next_update, covered_seq=covered, entries=crl.entries,
                            sha256=sha256, der=crl.der, created_at=self.clock.now()))
                        # The CA key's use and the CRL's issuance, in the transaction that stores it (issue 8).
                        tx.audit.append(at=self.clock.now(), actor=actor, action="crl.issued",
                                        subject=f"{ca.code}:{crl.number}", details={
                                            "centre": ca.code, "kind": crl.kind, "number": crl.number,
                                            "base_number": crl.base_number, "entries": crl.entries,
                                            "this_update": crl.this_update.isoformat(),
                                            "sha256": sha256,
                                            "key_handle": ca.key_handle})
            except Conflict as conflict:
                if conflict.constraint != "uq_crls_centre_number":
                    raise
                continue   # another process took the number: sign again with fresh ones
            published = [crl for crl, _ in draft]
            for crl in published:
                self._remember(crl)
                self._export(crl)
            return published
        raise RuntimeError(f"could not publish the {ca.code} CRL after {attempts} attempts")

    def _draft(self, ca: IssuingCA, kinds: tuple[str, ...]) -> list[tuple[PublishedCRL, int]]:
        now = self.clock.now().replace(microsecond=0)
        entries = self._entries.setdefault(ca.centre_id, _Entries())
        with entries.lock:
            with self.registry.transaction(readonly=True) as tx:
                number = tx.crls.last_number(ca.centre_id)
                base = tx.crls.latest_meta(ca.centre_id, FULL)
                entries.extend(tx.revocations.crl_entries(ca.centre_id, after_seq=entries.seq))
            last_seq = entries.seq
            if FULL in kinds:
                base_number, base_seq = number + 1, last_seq
            elif base is not None:
                base_number, base_seq = base[0], base[1]
            else:
                raise NotFound(f"the {ca.code} centre has no full CRL yet to base a delta on")
            # RFC 5280 §3.3: an expired certificate's entry may leave the CRL.
            still_valid = int(now.timestamp())
            full_rows = entries.select(0, still_valid) if FULL in kinds else None
            delta_rows = entries.select(base_seq, still_valid) if DELTA in kinds else None
        draft = []
        if full_rows is not None:
            number += 1
            draft.append((self._sign(ca, FULL, number, now, full_rows, None), last_seq))
        if delta_rows is not None:
            number += 1
            draft.append((self._sign(ca, DELTA, number, now, delta_rows, base_number), last_seq))
        return draft

    def _sign(self, ca: IssuingCA, kind: str, number: int, now: dt.datetime, rows: list, base: int | None,
              ) -> PublishedCRL:
        cert = ca.certificate
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        next_update = now + self.policy.next_update
        params = CRLParams(issuer_name_der=cert.subject.public_bytes(), authority_key_identifier=ski,
                           this_update=now, next_update=next_update, crl_number=number, delta_base=base,
                           freshest_crl_url=ca.endpoints.delta_crl if kind == FULL else None)
        der = sign_crl(self.keys[ca.code].key, params, rows)
        return PublishedCRL(centre=ca.code, kind=kind, number=number, this_update=now, next_update=next_update,
                            entries=len(rows), der=der, base_number=base)

    # -- the schedule and recovery -------------------------------------------

    def stale(self, code: str) -> bool:
        """True when the centre has no CRL, misses a committed revocation, or is due for refresh."""
        ca = self.centres.issuing_ca(code)
        now = self.clock.now()
        with self.registry.transaction(readonly=True) as tx:
            last_seq = tx.revocations.last_seq(ca.centre_id)
            metas = [tx.crls.latest_meta(ca.centre_id, kind) for kind in (FULL, DELTA)]
        for meta in metas:
            if meta is None or meta[1] < last_seq or now - meta[2] >= self.policy.refresh_after:
                return True
        return False

    def reconcile(self) -> list[PublishedCRL]:
        """Publish what a crash or the clock left due, and re-export the newest files.

        Run at start-up and on the schedule; safe in several processes at once.
        """
        published: list[PublishedCRL] = []
        for code in CENTRES:
            if self.stale(code):
                published += self.publish(code)
            else:
                self.export_latest((code,))
        return published

    def export_latest(self, codes: tuple[str, ...] = tuple(CENTRES)) -> None:
        """Write the newest committed CRLs to this host's files, whichever process or host published them."""
        for code in codes:
            for kind in (FULL, DELTA):
                crl = self.latest(code, kind)
                if crl is not None:
                    self._export(crl)

    # -- reading -------------------------------------------------------------

    def latest(self, code: str, kind: str, *, refresh: bool = True) -> PublishedCRL | None:
        """The newest committed CRL of a kind; cached per process, checked against the registry."""
        ca = self.centres.issuing_ca(code)
        cached = self._cache.get((code, kind))
        if cached is not None and not refresh:
            return cached
        with self.registry.transaction(readonly=True) as tx:
            meta = tx.crls.latest_meta(ca.centre_id, kind)
            if meta is None:
                return None
            if cached is not None and cached.number == meta[0]:
                return cached
            row = tx.crls.latest(ca.centre_id, kind)
        crl = PublishedCRL(centre=code, kind=kind, number=row.number, this_update=row.this_update,
                           next_update=row.next_update, entries=row.entries, der=row.der,
                           base_number=row.base_number)
        self._remember(crl)
        return crl

    def numbers(self, code: str) -> list[int]:
        ca = self.centres.issuing_ca(code)
        with self.registry.transaction(readonly=True) as tx:
            return tx.crls.numbers(ca.centre_id)

    def _remember(self, crl: PublishedCRL) -> None:
        with self._lock:
            current = self._cache.get((crl.centre, crl.kind))
            if current is None or current.number < crl.number:
                self._cache[(crl.centre, crl.kind)] = crl

    # -- export for a plain web server ----------------------------------------

    def export_path(self, code: str, kind: str) -> Path | None:
        if self.policy.export_dir is None:
            return None
        return self.policy.export_dir / (f"{code}.crl" if kind == FULL else f"{code}-delta.crl")

    def _export(self, crl: PublishedCRL) -> None:
        """Write the file nginx or a CDN serves at the distribution point's path, atomically.

        A lock file and a number stamp keep a slower process from replacing a
        newer CRL with an older one.
        """
        path = self.export_path(crl.centre, crl.kind)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = path.with_name(path.name + ".number")
        with open(path.with_name(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = int(stamp.read_text()) if stamp.exists() else 0
            except ValueError:
                current = 0
            if current > crl.number or (current == crl.number and path.exists()):
                return
            _atomic_write(path, crl.der)
            _atomic_write(stamp, str(crl.number).encode())


class _Entries:
    """One centre's CRL entries, read from the registry once and then only past the last ``seq``.

    Revocation rows are never deleted and their ``seq`` order is their
    commit order (ca/revocation.py), so appending what is new is exact.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seq = 0
        self._seqs: list[int] = []
        self._rows: list[tuple[int, int, int | None, int]] = []

    def extend(self, rows: list[tuple[str, dt.datetime, str, int, dt.datetime]]) -> None:
        for serial, revoked_at, reason, seq, valid_to in rows:
            self._seqs.append(seq)
            self._rows.append((int(serial, 16), int(revoked_at.timestamp()), REASON_CODES.get(reason),
                               int(valid_to.timestamp())))
            self.seq = seq

    def select(self, after_seq: int, valid_at: int) -> list[tuple[int, int, int | None]]:
        """(serial, revocation time, reason code) revoked after ``after_seq``, still valid at ``valid_at``."""
        start = bisect.bisect_right(self._seqs, after_seq)
        return [(serial, at, code) for serial, at, code, until in self._rows[start:] if until >= valid_at]


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
