"""Signed checkpoints of the audit chain, and the check of the whole log (issue 8).

The hash chain (registry/audit.py) catches an edited, removed or reordered
entry as long as the attacker does not rewrite every hash after it and the
chain head with them. A checkpoint closes that gap: the audit key signs
"entry N has hash H at time T" and our TSA time-stamps the statement. A
rewritten chain no longer ends in the hash a checkpoint signed, and entries
cut from the end are missing below a signed entry number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from asn1crypto import cms as asn1_cms
from asn1crypto import tsp as asn1_tsp
from cryptography import x509

from ca.authority import CertificationAuthority
from ca.tsa import TimeStampAuthority
from keys import sign_tbs, verify_signature
from registry import AuditCheckpointRow

AUDIT_HOLDER = "audit"
STATEMENT_TYPE = "qoltanba-audit-checkpoint"


@dataclass(frozen=True)
class Finding:
    entry_id: int
    problem: str

    def as_json(self) -> dict:
        return {"entry": self.entry_id, "problem": self.problem}


@dataclass(frozen=True)
class AuditReport:
    entries: int
    checkpoints: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def intact(self) -> bool:
        return not self.findings

    def as_json(self) -> dict:
        return {"intact": self.intact, "entries": self.entries, "checkpoints": self.checkpoints,
                "findings": [f.as_json() for f in self.findings]}


def statement_bytes(last_entry: int, last_hash: str, at: dt.datetime) -> bytes:
    return json.dumps({"type": STATEMENT_TYPE, "last_entry": last_entry, "last_hash": last_hash,
                       "at": at.astimezone(dt.timezone.utc).isoformat()},
                      sort_keys=True, separators=(",", ":")).encode()


class AuditCheckpoints:
    def __init__(self, authority: CertificationAuthority, tsa: TimeStampAuthority) -> None:
        self.authority = authority
        self.registry = authority.registry
        self.clock = authority.clock
        self.tsa = tsa

    def checkpoint(self, actor: str = "system") -> AuditCheckpointRow | None:
        """Sign and time-stamp the chain's current end; None when nothing was added since the last one."""
        with self.registry.transaction(readonly=True) as tx:
            last_id, last_hash = tx.audit.head()
            done = tx.audit.checkpoints()
            # A checkpoint's own entry is not news: the next one would only sign that.
            only_own = (done and last_id == done[-1].last_entry_id + 1
                        and tx.audit.entry(last_id).action == "audit.checkpoint")
        if last_id == 0 or (done and done[-1].last_entry_id == last_id) or only_own:
            return None
        now = self.clock.now()
        statement = statement_bytes(last_id, last_hash, now)
        row = self.authority.service_certificate(AUDIT_HOLDER)
        hash_name = self.authority.backend.algorithm(row.key_handle).default_hash
        _alg, signature = sign_tbs(self.authority.backend, row.key_handle, statement, hash_name)
        token = self.tsa.stamp(hashlib.sha256(statement).digest(), "sha256")
        with self.registry.transaction() as tx:
            checkpoint = tx.audit.add_checkpoint(AuditCheckpointRow(
                last_entry_id=last_id, last_hash=last_hash, created_at=now, statement=statement,
                signature=signature, signer_serial=row.serial, hash_name=hash_name, time_stamp=token))
            tx.audit.append(at=now, actor=actor, action="audit.checkpoint", subject=f"audit:{last_id}",
                            details={"checkpoint": checkpoint.id, "last_entry": last_id, "last_hash": last_hash})
        return checkpoint

    def verify(self) -> AuditReport:
        """The chain, then every checkpoint against it: what was changed, removed or reordered."""
        findings: list[Finding] = []
        with self.registry.transaction(readonly=True) as tx:
            broken = tx.audit.verify()
            if broken is not None:
                findings.append(Finding(broken.entry_id, broken.problem))
            checkpoints = tx.audit.checkpoints()
            previous_good = 0
            for cp in checkpoints:
                problem = self._checkpoint_problem(tx, cp, previous_good)
                if problem is not None:
                    findings.append(problem)
                    break
                previous_good = cp.last_entry_id
            count = tx.audit.count()
        return AuditReport(entries=count, checkpoints=len(checkpoints), findings=tuple(findings))

    def _checkpoint_problem(self, tx, cp: AuditCheckpointRow, previous_good: int) -> Finding | None:
        entry_id = cp.last_entry_id
        if cp.statement != statement_bytes(cp.last_entry_id, cp.last_hash, cp.created_at):
            return Finding(entry_id, f"checkpoint {cp.id} was altered: its statement does not match its fields")
        certificates = {r.serial: r for r in tx.certificates.by_holder(f"service:{AUDIT_HOLDER}")}
        signer = certificates.get(cp.signer_serial)
        if signer is None or not verify_signature(x509.load_der_x509_certificate(signer.der).public_key(),
                                                  cp.signature, cp.statement, cp.hash_name):
            return Finding(entry_id, f"checkpoint {cp.id}'s signature does not verify with the audit certificate")
        if not self._token_fits(cp):
            return Finding(entry_id, f"checkpoint {cp.id}'s time-stamp does not cover its statement")
        entry = tx.audit.entry(entry_id)
        if entry is None:
            return Finding(entry_id, f"entry {entry_id}, signed by checkpoint {cp.id}, is gone: entries were "
                                     "removed")
        if entry.entry_hash != cp.last_hash:
            return Finding(previous_good + 1,
                           f"the chain was rewritten after checkpoint {cp.id}: an entry between {previous_good + 1} "
                           f"and {entry_id} was changed, removed or reordered and the hashes after it recomputed")
        return None

    def _token_fits(self, cp: AuditCheckpointRow) -> bool:
        try:
            signed = asn1_cms.ContentInfo.load(cp.time_stamp)["content"]
            info = asn1_tsp.TSTInfo.load(signed["encap_content_info"]["content"].parsed.dump())
            imprint = info["message_imprint"]["hashed_message"].native
            signer_info = signed["signer_infos"][0]
            attrs = signer_info["signed_attrs"]
            digest = next(a["values"][0].native for a in attrs if a["type"].native == "message_digest")
            hash_name = signer_info["digest_algorithm"]["algorithm"].native
            content = signed["encap_content_info"]["content"].contents
            tsa = self.tsa.certificate
            return (imprint == hashlib.sha256(cp.statement).digest()
                    and digest == hashlib.new(hash_name, content).digest()
                    and verify_signature(tsa.public_key(), signer_info["signature"].native,
                                         b"\x31" + attrs.dump()[1:], hash_name))
        except (ValueError, KeyError, TypeError, StopIteration):
            return False
