"""Signed checkpoints of the audit chain, and the check of the whole log (issues 8 and 18).

The hash chain (registry/audit.py) catches an edited, removed or reordered
entry as long as the attacker does not rewrite every hash after it and the
chain head with them. A checkpoint closes that gap: the audit key signs
"entry N has hash H at time T, checkpoint S follows the checkpoint whose
statement hashes to P" and our TSA time-stamps the statement.

Someone with every right on the database could still delete checkpoints
with the entries they seal. So (issue 18) a checkpoint is due at a bounded
interval (CheckpointPolicy: entries or time, whichever first), each one is
appended to an export file outside the database and optionally posted to a
witness, and verification pins the signer to the certificates written to
the home's anchor file at ``init`` (ca/audit_outside.py,
ca/audit_verification.py).
"""

from __future__ import annotations

import hashlib
import logging

from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from ca.audit_outside import Anchor, AuditAnchor, CheckpointExport, Witness, fingerprint
from ca.audit_records import (
    CHECKPOINT_ACTION,
    AuditReport,
    AuditTrailError,
    CheckpointPolicy,
    CheckpointRecord,
    Finding,
    statement_bytes,
    statement_digest,
)
from ca.audit_verification import AuditVerifier, record_problem
from ca.clock import Clock
from ca.signers import Signer
from ca.tsa import TimeStampAuthority
from keys import verify_signature
from registry import AuditCheckpointRow, CertificateRow, Registry

__all__ = ["AUDIT_HOLDER", "AuditCheckpoints", "AuditReport", "CheckpointPolicy", "Finding", "statement_bytes"]

AUDIT_HOLDER = "audit"
# A crash between a checkpoint's commit and its export leaves it unexported; each new checkpoint
# exports those of the newest this many that the export lacks.
_REPAIR_WINDOW = 16

log = logging.getLogger(__name__)


class ServiceCertificates(Protocol):
    """What the checkpoints read of the hierarchy (ca.hierarchy.Hierarchy): the audit certificate the
    database holds now, compared with the one pinned at init."""

    def service_certificate(self, name: str) -> CertificateRow: ...


class AuditCheckpoints:
    def __init__(self, registry: Registry, clock: Clock, certificates: ServiceCertificates, signer: Signer,
                 tsa: TimeStampAuthority, *, anchor: AuditAnchor, export: CheckpointExport,
                 policy: CheckpointPolicy | None = None, witness: Witness | None = None) -> None:
        """``signer``: the audit key's, built in the wiring; the only key the checkpoints can use."""
        self.registry = registry
        self.clock = clock
        self.certificates = certificates
        self.signer = signer
        self.tsa = tsa
        self.anchor = anchor
        self.export = export
        self.policy = policy or CheckpointPolicy()
        self.witness = witness
        self._last_problem: str | None = None

    # -- the anchor ----------------------------------------------------------------------

    def pin_anchor(self) -> bool:
        """Write the audit and TSA certificates to the anchor file unless it exists (``init``).

        Refused once checkpoints were exported under an anchor that is now
        gone: pinning again would pin whatever the database holds today.
        """
        if self.anchor.exists():
            return False
        if self.export.read()[0]:
            raise AuditTrailError(f"the audit anchor {self.anchor.path} is missing while checkpoints were "
                                  f"exported ({self.export.path}); restore it from its copy")
        audit = x509.load_der_x509_certificate(self.certificates.service_certificate(AUDIT_HOLDER).der)
        return self.anchor.pin(audit, self.tsa.certificate)

    def _signing_anchor(self) -> Anchor:
        """The anchor, pinned now if this home never had one and never made a checkpoint.

        A home initialised before issue 18 gets its anchor on first use; once
        a checkpoint exists anywhere, a missing anchor is an error to repair
        from a copy, not something to re-create from the database.
        """
        try:
            anchor = self.anchor.load()
        except ValueError as error:
            raise AuditTrailError(str(error)) from error
        if anchor is None:
            with self.registry.transaction(readonly=True) as tx:
                made = tx.audit.last_checkpoint() is not None
            if made or self.export.read()[0]:
                raise AuditTrailError(f"the audit anchor {self.anchor.path} is missing while checkpoints exist; "
                                      "restore it from its copy (a home from before issue 18: run "
                                      "`qoltanba init`)")
            self.pin_anchor()
            anchor = self.anchor.load()
            if anchor is None:
                raise AuditTrailError(f"the audit anchor {self.anchor.path} could not be written")
        audit_row = self.certificates.service_certificate(AUDIT_HOLDER)
        in_db = x509.load_der_x509_certificate(audit_row.der)
        if fingerprint(in_db) != fingerprint(anchor.audit) or fingerprint(self.tsa.certificate) != \
                fingerprint(anchor.tsa):
            raise AuditTrailError("the audit or TSA certificate in the database is not the one pinned at init "
                                  f"({self.anchor.path}); no checkpoint is signed")
        return anchor

    # -- making checkpoints ----------------------------------------------------------------

    def due(self) -> bool:
        """A checkpoint is due: ``policy.entries`` unsealed entries, or the oldest ``policy.interval`` old."""
        with self.registry.transaction(readonly=True) as tx:
            last = tx.audit.last_checkpoint()
            after = last.last_entry_id if last else 0
            first = tx.audit.pending(after, skip_action=CHECKPOINT_ACTION)
            nth = tx.audit.pending(after, skip_action=CHECKPOINT_ACTION, offset=self.policy.entries - 1)
        due = self.policy.due_at(first[0][1] if first else None, nth[0][1] if nth else None)
        return due is not None and self.clock.now() >= due

    def checkpoint_if_due(self, actor: str = "system") -> AuditCheckpointRow | None:
        """What the housekeeper runs every second: a checkpoint when one is due.

        A trail that cannot be sealed (no anchor, a substituted certificate)
        is logged once per distinct problem, not once a second, and
        `audit verify` reports it.
        """
        try:
            return self.checkpoint(actor) if self.due() else None
        except AuditTrailError as error:
            if str(error) != self._last_problem:
                log.error("audit checkpoint refused: %s", error)
            self._last_problem = str(error)
            return None

    def checkpoint(self, actor: str = "system") -> AuditCheckpointRow | None:
        """Sign, time-stamp, store and export the chain's end; None when nothing was added since the last one."""
        anchor = self._signing_anchor()
        with self.registry.transaction(readonly=True) as tx:
            last_id, last_hash = tx.audit.head()
            last = tx.audit.last_checkpoint()
            # A checkpoint's own entry is not news: the next one would only sign that.
            news = tx.audit.pending(last.last_entry_id if last else 0, skip_action=CHECKPOINT_ACTION, limit=1)
            last_sequence = last.id if last else 0
            previous = statement_digest(bytes(last.statement)) if last else None
        if last_id == 0 or not news:
            self._export_missing(anchor)
            return None
        now = self.clock.now()
        sequence = last_sequence + 1
        statement = statement_bytes(last_id, last_hash, now, sequence=sequence, previous=previous)
        row = self.certificates.service_certificate(AUDIT_HOLDER)
        hash_name = self.signer.algorithm.default_hash
        _alg, signature = self.signer.sign_tbs(statement, hash_name)
        try:
            verify_signature(anchor.audit.public_key(), signature, statement, hash_name)
        except InvalidSignature:
            raise AuditTrailError("the audit key does not match the audit certificate pinned at init; "
                                  "no checkpoint is stored") from None
        token = self.tsa.stamp(hashlib.sha256(statement).digest(), "sha256")
        with self.registry.transaction() as tx:
            # The head's row lock orders checkpoints of all processes: if another sealed meanwhile,
            # this statement no longer follows the newest checkpoint and is dropped.
            tx.audit.lock_head()
            newest = tx.audit.last_checkpoint()
            if (newest.id if newest else 0) != last_sequence:
                return None
            checkpoint = tx.audit.add_checkpoint(AuditCheckpointRow(
                id=sequence, last_entry_id=last_id, last_hash=last_hash, created_at=now, statement=statement,
                signature=signature, signer_serial=row.serial, hash_name=hash_name, time_stamp=token))
            tx.audit.append(at=now, actor=actor, action=CHECKPOINT_ACTION, subject=f"audit:{last_id}",
                            details={"checkpoint": checkpoint.id, "last_entry": last_id, "last_hash": last_hash})
        self._export_missing(anchor)
        return checkpoint

    def _export_missing(self, anchor: Anchor) -> int:
        """Append the newest checkpoints the export lacks (this one, or one a crash left), then the witness."""
        # The first export (a home that had checkpoints before issue 18) takes every checkpoint.
        window = _REPAIR_WINDOW if self.export.path.exists() else None
        with self.registry.transaction(readonly=True) as tx:
            rows = tx.audit.checkpoints()[-window:] if window else tx.audit.checkpoints()
            records = [CheckpointRecord.of(r) for r in rows]
        authentic = [r for r in records if record_problem(r, anchor) is None]
        try:
            fresh = self.export.append(authentic) if authentic else []
        except OSError as error:
            raise AuditTrailError(f"the checkpoint export {self.export.path} cannot be written: "
                                  f"{error.strerror or error}") from error
        if self.witness is not None:
            for record in fresh:
                self.witness.send(record)
        return len(fresh)

    # -- checking --------------------------------------------------------------------------

    def verify(self) -> AuditReport:
        """The chain, the checkpoints, the bound and the export: what was changed, removed or reordered."""
        verifier = AuditVerifier(self.policy, self.anchor, self.export)
        with self.registry.transaction(readonly=True) as tx:
            findings, checkpoints, exported = verifier.findings(tx)
            count = tx.audit.count()
        return AuditReport(entries=count, checkpoints=checkpoints, findings=tuple(findings), exported=exported)
