"""The OCSP responder (RFC 6960): answers from a cache of pre-signed responses.

A nonce-less request (RFC 5019's lightweight profile: what browsers, CDNs
and most clients send) is answered from a dictionary keyed by the request's
bytes, with no parsing and no signature. A miss reads the registry, signs
with the centre's delegated responder key (id-pkix-ocsp-nocheck) and keeps
the answer until half its validity has passed. Requests with a nonce are
signed each time, since the nonce is inside the signed data.

Revocation replaces cached answers at once: in this process through the
revocation service's listener call, in every other process through
``watch`` (the registry's revocation sequence). Before it serves a cached
answer the responder reads where that sequence stands (one primary-key
read, ``watermark``); if it moved, the revocations committed since are
applied first. So once a revocation has committed, no process answers
"good" for it any more, however busy it is (issue 22: a poll every 0.2 s
alone left a window in which a loaded responder still said "good" after
the commit, and a revoked certificate could sign). The housekeeper's poll
still runs, to pre-sign the "revoked" answers before anyone asks. A global
epoch guards the race in which a miss reads "valid", a revocation lands,
and the miss would then cache a stale "good".
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol


from ca.clock import Clock
from ca.crl import REASON_CODES
from ca.ocsp import CertID, OCSPRequestError, issuer_hashes, parse_request
from ca.ocsp_files import OCSPFiles
from ca.ocsp_response import ResponseSigner, SingleStatus, error_response
from ca.issuer import IssuingCA
from ca.policy import CENTRES
from ca.signers import Signer
from registry import CertificateStatus, Registry, RegistryTransaction

log = logging.getLogger(__name__)
MALFORMED = error_response("malformedRequest")
UNAUTHORIZED = error_response("unauthorized")
INTERNAL_ERROR = error_response("internalError")


@dataclass(frozen=True)
class OCSPPolicy:
    validity: dt.timedelta = dt.timedelta(hours=1)
    max_cached: int = 200_000

    def __post_init__(self) -> None:
        if self.validity <= dt.timedelta(0):
            raise ValueError("OCSP response validity must be positive")


@dataclass
class _Cached:
    der: bytes
    refresh_at: dt.datetime
    certs: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class _Issuer:
    code: str
    centre_id: int


# -- the storage the responder uses (Boulder's per-role storage interface) ---------


class CertificateStatuses(Protocol):
    def status_of(self, issuer_id: int, serial: str) -> tuple[str, dt.datetime | None, str | None] | None: ...


class RevocationFeed(Protocol):
    def last_seq(self, centre_id: int | None = None) -> int: ...
    def since(self, seq: int, limit: int = 10000) -> list[tuple[int, int, str, dt.datetime, str]]: ...


class OCSPStore(Protocol):
    """What the responder reads in one unit of work: a certificate's status, revocations since a ``seq``."""

    @property
    def certificates(self) -> CertificateStatuses: ...
    @property
    def revocations(self) -> RevocationFeed: ...


class OCSPStorage(Protocol):
    """The registry as the responder sees it (``registry.Registry`` is one); it only reads."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[OCSPStore]: ...


class Centres(Protocol):
    """What the responder reads of the hierarchy (ca.hierarchy.Hierarchy): the CAs it answers for."""

    def issuing_ca(self, code: str, tx: RegistryTransaction | None = None) -> IssuingCA: ...


class OCSPResponder:
    registry: OCSPStorage

    def __init__(self, registry: Registry, clock: Clock, centres: Centres, signers: Mapping[str, Signer],
                 policy: OCSPPolicy | None = None, *, watermark: Callable[[], int] | None = None,
                 files: OCSPFiles | None = None) -> None:
        """``signers``: each centre's delegated responder key (``ocsp-<centre>``), built in the wiring; the
        responder holds no other key. ``watermark()``: the revocation sequence's committed value
        (registry.watermark); ``None`` trusts the listener call and the housekeeper's poll alone (a single
        process). ``files``: where each kept answer is also written for nginx (ca/ocsp_files.py, issue 17)."""
        self.registry = registry
        self.clock = clock
        self.centres = centres
        self.keys = dict(signers)
        self.policy = policy or OCSPPolicy()
        self._issuers: dict[tuple[str, bytes, bytes], _Issuer] | None = None
        self._signers: dict[str, ResponseSigner] = {}
        self._responses: dict[bytes, _Cached] = {}
        self._by_cert: dict[tuple[int, str], set[bytes]] = {}
        self._epoch = 0
        self._seen_seq: int | None = None
        self._lock = threading.Lock()
        self.watermark = watermark
        self._seen_mark: int | None = None
        self._watch_lock = threading.RLock()
        self._watching = False
        self.files = files

    # -- answering -------------------------------------------------------------

    def cached(self, request: bytes, *, caught_up: bool = False) -> bytes | None:
        """The pre-signed answer to exactly these request bytes, if fresh and no revocation came since.

        ``caught_up``: the caller applied the revocations committed so far a moment ago (``respond_all``)."""
        if not caught_up:
            self._catch_up()
        hit = self._responses.get(request)
        if hit is None or self.clock.now() >= hit.refresh_at:
            return None
        return hit.der

    def respond_all(self, requests: Sequence[bytes]) -> list[bytes]:
        """Answers to several requests asked at once (a signature's validation data): the revocation sequence
        is read once for all of them (issue 17), not once each; what committed before that read is applied."""
        self._catch_up()
        return [self.respond(request, caught_up=True) for request in requests]

    def respond(self, request: bytes, *, caught_up: bool = False) -> bytes:
        hit = self.cached(request, caught_up=caught_up)
        if hit is not None:
            return hit
        try:
            parsed = parse_request(request)
        except OCSPRequestError:
            return MALFORMED
        try:
            return self._answer(request, parsed.cert_ids, parsed.nonce)
        except Exception:  # noqa: BLE001 - RFC 6960 §2.3: a broken responder says internalError, never a 500
            log.exception("OCSP responder failed")
            return INTERNAL_ERROR

    def _answer(self, request: bytes, cert_ids: Sequence[CertID], nonce: bytes | None) -> bytes:
        # ``respond`` ran ``cached`` (and so the catch-up) just before: the epoch read here covers it.
        epoch = self._epoch
        issuers = [self._issuer_of(cid) for cid in cert_ids]
        known = [i for i in issuers if i is not None]
        if not known:
            return UNAUTHORIZED
        # A delegated responder speaks for one CA (RFC 6960 §4.2.2.2): the
        # first known issuer's; CertIDs of another CA get "unknown".
        issuer = known[0]
        now = self.clock.now().replace(microsecond=0)
        statuses, certs = [], []
        with self.registry.transaction(readonly=True) as tx:
            for cid, iss in zip(cert_ids, issuers):
                if iss != issuer:
                    statuses.append(SingleStatus(cid, "unknown"))
                    continue
                serial = format(cid.serial, "x")
                certs.append((iss.centre_id, serial))
                statuses.append(_status(cid, tx.certificates.status_of(iss.centre_id, serial)))
        der = self._signer(issuer.code).sign(statuses, produced_at=now, this_update=now,
                                             next_update=now + self.policy.validity, nonce=nonce)
        # "unknown" is not kept: the serial may be issued a moment later.
        if nonce is None and all(s.status != "unknown" for s in statuses):
            self._store(request, der, now + self.policy.validity / 2, tuple(certs), epoch, issuer.code)
        return der

    def _store(self, request: bytes, der: bytes, refresh_at: dt.datetime, certs: tuple[tuple[int, str], ...],
               epoch: int, code: str) -> None:
        with self._lock:
            if epoch != self._epoch:
                return   # a revocation landed while we read: this answer may be stale
            if len(self._responses) >= self.policy.max_cached:
                self._evict_oldest(len(self._responses) // 10 or 1)
            self._responses[request] = _Cached(der, refresh_at, certs)
            for cert in certs:
                self._by_cert.setdefault(cert, set()).add(request)
            if self.files is not None:   # under the lock: a revocation in this process waits for the file
                self.files.write(code, request, der, certs)

    def _evict_oldest(self, count: int) -> None:
        for request in list(self._responses)[:count]:
            cached = self._responses.pop(request)
            for cert in cached.certs:
                keys = self._by_cert.get(cert)
                if keys is not None:
                    keys.discard(request)
                    if not keys:
                        del self._by_cert[cert]

    # -- revocation ---------------------------------------------------------------

    def revoked(self, centre_id: int, serial: str, revoked_at: dt.datetime, reason: str) -> None:
        """Replace every cached answer about this certificate with a freshly signed one."""
        with self._lock:
            self._epoch += 1
            requests = self._by_cert.pop((centre_id, serial), set())
            for request in requests:
                self._responses.pop(request, None)
            if self.files is not None:   # every host's process removes its host's files, whoever wrote them
                self.files.forget(centre_id, serial)
        for request in requests:
            self.respond(request)   # pre-sign the "revoked" answer before anyone asks again

    def watch(self) -> int | None:
        """Apply revocations committed by other processes since the last call; returns how many.

        ``None`` when called again from inside itself (re-signing an answer asks whether
        to catch up): the outer call is applying them.
        """
        with self._watch_lock:
            if self._watching:
                return None
            self._watching = True
            try:
                with self.registry.transaction(readonly=True) as tx:
                    if self._seen_seq is None:
                        self._seen_seq = tx.revocations.last_seq()
                        return 0
                    rows = tx.revocations.since(self._seen_seq)
                for seq, centre_id, serial, revoked_at, reason in rows:
                    self.revoked(centre_id, serial, revoked_at, reason)
                    self._seen_seq = seq
                return len(rows)
            finally:
                self._watching = False

    def _catch_up(self) -> None:
        """Apply what other processes revoked, if the revocation sequence moved since we last looked."""
        if self.watermark is None:
            return
        mark = self.watermark()
        if mark == self._seen_mark:
            return
        if self.watch() is not None:
            self._seen_mark = mark

    def sweep_files(self) -> int:
        """Remove answer files half their validity old (the responder would sign them again by now)."""
        return 0 if self.files is None else self.files.sweep(self.policy.validity / 2)

    def start_watching(self) -> None:
        """Remember where the revocation sequence stands, before the first answer is cached."""
        with self._watch_lock:
            self._seen_seq = None
            self._seen_mark = None
            self.watch()

    # -- the CAs and their responders -------------------------------------------

    def _issuer_of(self, cid: CertID) -> _Issuer | None:
        if self._issuers is None:
            issuers = {}
            for code in CENTRES:
                ca = self.centres.issuing_ca(code)
                for hash_name, (name_hash, key_hash) in issuer_hashes(ca.certificate).items():
                    issuers[(hash_name, name_hash, key_hash)] = _Issuer(code, ca.centre_id)
            self._issuers = issuers
        return self._issuers.get((cid.hash_algorithm, cid.issuer_name_hash, cid.issuer_key_hash))

    def _signer(self, code: str) -> ResponseSigner:
        signer = self._signers.get(code)
        if signer is None:
            key = self.keys[code]
            signer = ResponseSigner(key.key, key.certificate)
            self._signers[code] = signer
        return signer


def _status(cid: CertID, found: tuple[str, dt.datetime | None, str | None] | None) -> SingleStatus:
    if found is None:
        return SingleStatus(cid, "unknown")
    status, revoked_at, reason = found
    if status == CertificateStatus.REVOKED and revoked_at is not None:
        return SingleStatus(cid, "revoked", revoked_at=revoked_at, reason_code=REASON_CODES.get(reason or ""))
    return SingleStatus(cid, "good")
