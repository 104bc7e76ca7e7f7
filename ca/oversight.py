"""What the console shows the centre's staff about the centre itself (issue 20): CRL and OCSP status, the audit log.

- ``StatusBoard.centres()``: for each centre its newest full and delta CRL
  (number, entries, this/next update, age, whether overdue or due for a
  refresh by ``CRLPolicy``) and its OCSP responder as a relying party sees
  it: the board asks the responder, in this process, about the responder's
  own certificate (a real RFC 6960 request through ``OCSPResponder.respond``,
  the same path ``POST /ocsp`` takes) and reads the signed answer's status,
  producedAt, thisUpdate and nextUpdate, with the responder certificate's
  serial and expiry. Nothing is written.
- ``AuditLogView``: the newest audit entries, a page at a time, and the
  record of a journal exported from the console (an audited read of
  personal data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from asn1crypto import algos as asn1_algos
from asn1crypto import ocsp as asn1_ocsp

from ca.clock import Clock
from ca.issuer import IssuingCA
from ca.ocsp import issuer_hashes
from ca.policy import CENTRES
from ca.publication import DELTA, FULL, CRLPolicy, PublishedCRL
from registry import CertificateRow, Registry, RegistryTransaction

PAGE = 20


@dataclass(frozen=True)
class CRLStatus:
    kind: str
    number: int
    entries: int
    this_update: dt.datetime
    next_update: dt.datetime
    age: dt.timedelta
    overdue: bool      # past its nextUpdate: relying parties would treat it as stale
    due: bool          # older than the refresh interval: the schedule re-issues it


@dataclass(frozen=True)
class OCSPStatus:
    url: str
    answer: str                   # good, revoked, unknown, or the responseStatus when not successful
    responder_serial: str
    responder_not_after: dt.datetime
    produced_at: dt.datetime | None
    this_update: dt.datetime | None
    next_update: dt.datetime | None
    age: dt.timedelta | None


@dataclass(frozen=True)
class CentreStatus:
    code: str
    crls: tuple[CRLStatus, ...]
    missing: tuple[str, ...]      # CRL kinds never published
    revocations: int              # revocations recorded for the centre (the revocation sequence)
    ocsp: OCSPStatus


class Centres(Protocol):
    """What the board reads of the hierarchy (ca.hierarchy.Hierarchy)."""

    def issuing_ca(self, code: str, tx: RegistryTransaction | None = None) -> IssuingCA: ...
    def service_certificate(self, name: str) -> CertificateRow: ...


class CRLs(Protocol):
    """What the board reads of the CRL publisher (ca.publication.CRLPublisher)."""

    policy: CRLPolicy

    def latest(self, code: str, kind: str, *, refresh: bool = True) -> PublishedCRL | None: ...


class Responder(Protocol):
    """The OCSP responder (ca.responder.OCSPResponder), asked as a client would ask it."""

    def respond(self, request: bytes) -> bytes: ...


class StatusBoard:
    def __init__(self, registry: Registry, clock: Clock, centres: Centres, crls: CRLs, responder: Responder) -> None:
        self.registry = registry
        self.clock = clock
        self.centres = centres
        self.crls = crls
        self.responder = responder

    def centres_status(self) -> list[CentreStatus]:
        return [self.centre(code) for code in CENTRES]

    def centre(self, code: str) -> CentreStatus:
        now = self.clock.now()
        ca = self.centres.issuing_ca(code)
        crls, missing = [], []
        for kind in (FULL, DELTA):
            crl = self.crls.latest(code, kind)
            if crl is None:
                missing.append(kind)
                continue
            crls.append(CRLStatus(kind, crl.number, crl.entries, crl.this_update, crl.next_update,
                                  now - crl.this_update, now >= crl.next_update,
                                  now - crl.this_update >= self.crls.policy.refresh_after))
        with self.registry.transaction(readonly=True) as tx:
            revocations = len(tx.revocations.entries(ca.centre_id))
        return CentreStatus(code, tuple(crls), tuple(missing), revocations, self._ocsp(ca, now))

    def _ocsp(self, ca: IssuingCA, now: dt.datetime) -> OCSPStatus:
        responder = self.centres.service_certificate(f"ocsp-{ca.code}")
        name_hash, key_hash = issuer_hashes(ca.certificate)["sha1"]
        cert_id = asn1_ocsp.CertId({
            "hash_algorithm": asn1_algos.DigestAlgorithm({"algorithm": "sha1"}),
            "issuer_name_hash": name_hash, "issuer_key_hash": key_hash,
            "serial_number": int(responder.serial, 16)})
        request = asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cert_id}]}}).dump()
        answer = asn1_ocsp.OCSPResponse.load(self.responder.respond(request))
        status = answer["response_status"].native
        produced = this = following = None
        if status == "successful":
            data = answer.basic_ocsp_response["tbs_response_data"]
            single = data["responses"][0]
            status = single["cert_status"].name
            produced = data["produced_at"].native
            this = single["this_update"].native
            following = single["next_update"].native
        return OCSPStatus(url=ca.endpoints.ocsp, answer=status, responder_serial=responder.serial,
                          responder_not_after=responder.not_after, produced_at=produced, this_update=this,
                          next_update=following, age=now - this if this is not None else None)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    details: Mapping[str, Any]


class AuditLogView:
    """The audit log as the console reads it: newest first, ``PAGE`` entries at a time."""

    def __init__(self, registry: Registry, clock: Clock) -> None:
        self.registry = registry
        self.clock = clock

    def newest(self, before: int | None = None, limit: int = PAGE) -> tuple[list[AuditEntry], int]:
        """Entries with an id below ``before`` (all when None), newest first; and the last entry's id."""
        with self.registry.transaction(readonly=True) as tx:
            last, _hash = tx.audit.head()
            top = min(before - 1, last) if before is not None else last
            rows = tx.audit.entries(after_id=max(0, top - limit), limit=limit) if top > 0 else []
            entries = [AuditEntry(r.id, r.at, r.actor, r.action, r.subject, dict(r.details or {}))
                       for r in rows if r.id <= top]
        return sorted(entries, key=lambda e: e.id, reverse=True), last

    def exported(self, actor: str, journal: str, centre: str | None, rows: int) -> None:
        """A journal (personal data: holders' names) left the console as a file: who, which, how many lines."""
        now = self.clock.now()
        with self.registry.transaction() as tx:
            tx.audit.append(at=now, actor=actor, action="journal.exported", subject=f"journal:{journal}",
                            details={"centre": centre, "rows": rows, "format": "csv"})

__all__ = ["AuditEntry", "AuditLogView", "CRLStatus", "CentreStatus", "OCSPStatus", "PAGE", "StatusBoard"]
