"""The check behind `qoltanba audit verify` (issues 8 and 18).

In order, each step adding findings:

1. the hash chain: the first entry changed, removed or reordered;
2. every checkpoint in the database: its statement matches its fields and
   names its sequence and the previous checkpoint's statement, its
   signature verifies under the audit certificate *of the anchor* (never one
   read from the database), its time-stamp under the anchor's TSA
   certificate, and the chain still ends its entry in the hash it signed;
3. every ``audit.checkpoint`` entry names a checkpoint the database still
   holds, with the same entry and hash;
4. the bound: no entry was written more than the grace after its run of
   unsealed entries became due (CheckpointPolicy);
5. the export file: each line verifies on its own with the anchor, is in
   the database with identical content, and the chain reproduces the hash
   it sealed; a checkpoint of the database absent from the export is a
   finding too.
"""

from __future__ import annotations

import hashlib

from asn1crypto import cms as asn1_cms
from asn1crypto import tsp as asn1_tsp
from cryptography.exceptions import InvalidSignature

from ca.audit_outside import Anchor, AuditAnchor, CheckpointExport
from ca.audit_records import (
    CHECKPOINT_ACTION,
    CheckpointPolicy,
    CheckpointRecord,
    Finding,
    parse_statement,
    statement_bytes,
    statement_digest,
)
from keys import verify_signature


def record_problem(record: CheckpointRecord, anchor: Anchor) -> str | None:
    """Why a checkpoint does not stand on its own with the anchor; None when it does."""
    try:
        body = parse_statement(record.statement)
    except ValueError as error:
        return f"has no valid statement ({error})"
    rebuilt = statement_bytes(record.last_entry, record.last_hash, record.at, sequence=body.get("sequence"),
                              previous=body.get("previous"))
    if rebuilt != record.statement or body.get("sequence") not in (None, record.sequence):
        return "was altered: its statement does not match its fields"
    try:
        verify_signature(anchor.audit.public_key(), record.signature, record.statement, record.hash_name)
    except InvalidSignature:
        return "is not signed by the audit certificate pinned at init (the audit anchor)"
    if not token_fits(record.time_stamp, record.statement, anchor):
        return "has a time-stamp that does not cover its statement or is not from the pinned TSA"
    return None


def token_fits(token: bytes, statement: bytes, anchor: Anchor) -> bool:
    """The RFC 3161 token's imprint is the statement's SHA-256 and the pinned TSA signed it."""
    try:
        signed = asn1_cms.ContentInfo.load(token)["content"]
        info = asn1_tsp.TSTInfo.load(signed["encap_content_info"]["content"].parsed.dump())
        imprint = info["message_imprint"]["hashed_message"].native
        signer_info = signed["signer_infos"][0]
        attrs = signer_info["signed_attrs"]
        digest = next(a["values"][0].native for a in attrs if a["type"].native == "message_digest")
        hash_name = signer_info["digest_algorithm"]["algorithm"].native
        content = signed["encap_content_info"]["content"].contents
        if imprint != hashlib.sha256(statement).digest() or digest != hashlib.new(hash_name, content).digest():
            return False
        verify_signature(anchor.tsa.public_key(), signer_info["signature"].native, b"\x31" + attrs.dump()[1:],
                         hash_name)
    except (InvalidSignature, ValueError, KeyError, TypeError, StopIteration):
        return False
    return True


class AuditVerifier:
    def __init__(self, policy: CheckpointPolicy, anchor: AuditAnchor, export: CheckpointExport) -> None:
        self.policy = policy
        self.anchor = anchor
        self.export = export

    def findings(self, tx) -> tuple[list[Finding], int, int]:  # noqa: ANN001 - a RegistryTransaction
        """(findings, checkpoints in the database, lines in the export)."""
        findings: list[Finding] = []
        broken = tx.audit.verify()
        if broken is not None:
            findings.append(Finding(broken.entry_id, broken.problem))
        rows = tx.audit.checkpoints()
        exported, unreadable = self.export.read()
        anchor = self._anchor(findings, bool(rows or exported))
        passed, failed = self._database_checkpoints(tx, rows, anchor, findings)
        findings += self._checkpoint_entries(tx, rows)
        findings += self._bound(tx, rows)
        findings += [Finding(None, problem) for problem in unreadable]
        findings += self._export(tx, rows, exported, anchor, passed, failed)
        return findings, len(rows), len(exported)

    def _anchor(self, findings: list[Finding], needed: bool) -> Anchor | None:
        try:
            anchor = self.anchor.load()
        except ValueError as error:
            findings.append(Finding(None, str(error)))
            return None
        if anchor is None and needed:
            findings.append(Finding(None, f"the audit anchor {self.anchor.path} is missing: no checkpoint can be "
                                          "checked against the audit certificate pinned at init"))
        return anchor

    def _database_checkpoints(self, tx, rows, anchor: Anchor | None,
                              findings: list[Finding]) -> tuple[set[int], set[int]]:
        """Each checkpoint in order, stopping at the first that does not hold (what follows it is moot)."""
        passed: set[int] = set()
        previous = None
        for row in rows:
            problem = self._row_problem(tx, row, previous, anchor)
            if problem is not None:
                findings.append(problem)
                return passed, {row.id}
            passed.add(row.id)
            previous = row
        return passed, set()

    def _row_problem(self, tx, row, previous, anchor: Anchor | None) -> Finding | None:
        record = CheckpointRecord.of(row)
        if anchor is not None and (problem := record_problem(record, anchor)) is not None:
            return Finding(row.last_entry_id, f"checkpoint {row.id} {problem}")
        try:
            body = parse_statement(record.statement)
        except ValueError:
            return Finding(row.last_entry_id, f"checkpoint {row.id} was altered: its statement is unreadable")
        if record.statement != statement_bytes(record.last_entry, record.last_hash, record.at,
                                               sequence=body.get("sequence"), previous=body.get("previous")):
            return Finding(row.last_entry_id, f"checkpoint {row.id} was altered: its statement does not match "
                                              "its fields")
        if body.get("sequence") is not None:
            expected = statement_digest(bytes(previous.statement)) if previous is not None else None
            if body["sequence"] != row.id or body.get("previous") != expected:
                return Finding(row.last_entry_id, f"checkpoint {row.id} does not follow checkpoint "
                                                  f"{row.id - 1}: checkpoints were removed or renumbered")
        elif previous is not None and parse_statement(bytes(previous.statement)).get("sequence") is not None:
            return Finding(row.last_entry_id, f"checkpoint {row.id} has no sequence after one that has")
        previous_entry = previous.last_entry_id if previous is not None else 0
        if row.last_entry_id < previous_entry:
            return Finding(row.last_entry_id, f"checkpoint {row.id} seals an entry before its predecessor's")
        entry = tx.audit.entry(row.last_entry_id)
        if entry is None:
            return Finding(row.last_entry_id, f"entry {row.last_entry_id}, signed by checkpoint {row.id}, is "
                                              "gone: entries were removed")
        if entry.entry_hash != row.last_hash:
            return Finding(previous_entry + 1,
                           f"the chain was rewritten after checkpoint {row.id}: an entry between "
                           f"{previous_entry + 1} and {row.last_entry_id} was changed, removed or reordered "
                           "and the hashes after it recomputed")
        return None

    @staticmethod
    def _checkpoint_entries(tx, rows) -> list[Finding]:
        """Each checkpoint wrote an entry naming it: a checkpoint deleted under its entry is named."""
        by_id = {row.id: row for row in rows}
        for entry in tx.audit.all_of(CHECKPOINT_ACTION):
            details = entry.details or {}
            row = by_id.get(details.get("checkpoint"))
            if row is None:
                return [Finding(entry.id, f"entry {entry.id} records checkpoint {details.get('checkpoint')}, "
                                          "which the database no longer holds: checkpoints were deleted")]
            if (row.last_entry_id, row.last_hash) != (details.get("last_entry"), details.get("last_hash")):
                return [Finding(entry.id, f"checkpoint {row.id} no longer seals what entry {entry.id} recorded")]
        return []

    def _bound(self, tx, rows) -> list[Finding]:
        """CheckpointPolicy's bound over every run of entries between two checkpoints, and after the last."""
        ends = sorted({row.last_entry_id for row in rows})
        runs: list[list] = [[] for _ in range(len(ends) + 1)]
        index = 0
        for entry_id, at, action in tx.audit.timeline():
            while index < len(ends) and entry_id > ends[index]:
                index += 1
            if action != CHECKPOINT_ACTION:
                runs[index].append((entry_id, at))
        grace, cap = self.policy.grace, self.policy.cap
        for run in runs:
            if len(run) > cap:
                return [Finding(run[cap][0], f"no checkpoint seals entries {run[0][0]} to {run[cap][0]}: "
                                             f"{len(run)} entries in a row are unsealed, more than {cap} (twice "
                                             f"the {self.policy.entries} after which one is due); checkpoints "
                                             "were deleted or none was made")]
            nth = run[self.policy.entries - 1][1] if len(run) >= self.policy.entries else None
            due = self.policy.due_at(run[0][1] if run else None, nth)
            late = next(((i, at) for i, at in run if due is not None and at > due + grace), None)
            if late is not None:
                return [Finding(late[0], f"no checkpoint seals entries {run[0][0]} to {late[0]}: one was due at "
                                         f"{due.isoformat()} ({self.policy.entries} entries or "
                                         f"{self.policy.interval} after entry {run[0][0]}), entry {late[0]} "
                                         f"came {late[1] - due} later (grace {grace}); checkpoints were deleted "
                                         "or none was made")]
        return []

    def _export(self, tx, rows, exported: list[CheckpointRecord], anchor: Anchor | None, passed: set[int],
                failed: set[int]) -> list[Finding]:
        findings: list[Finding] = []
        by_id = {row.id: row for row in rows}
        seen: dict[int, CheckpointRecord] = {}
        for record in exported:
            where = f"exported checkpoint {record.sequence}"
            if record.sequence in seen:
                if seen[record.sequence] != record:
                    findings.append(Finding(record.last_entry, f"{where} appears twice with different content: "
                                                               "the export was altered"))
                continue
            seen[record.sequence] = record
            if anchor is not None and (problem := record_problem(record, anchor)) is not None:
                findings.append(Finding(record.last_entry, f"{where} {problem}: the export was altered"))
                continue
            row = by_id.get(record.sequence)
            if row is not None and CheckpointRecord.of(row) != record:
                if record.sequence not in failed:
                    findings.append(Finding(record.last_entry, f"checkpoint {record.sequence} in the database "
                                                               "differs from its exported copy"))
                continue
            if row is not None and (record.sequence in passed or record.sequence in failed):
                continue  # the database's copy was checked against the chain already
            entry = tx.audit.entry(record.last_entry)
            missing = f"checkpoint {record.sequence} is missing from the database: checkpoints were deleted" \
                if row is None else f"checkpoint {record.sequence}"
            if entry is None:
                findings.append(Finding(record.last_entry, f"{missing}, and entry {record.last_entry} it sealed "
                                                           "(exported) is gone: entries were removed"))
            elif entry.entry_hash != record.last_hash:
                findings.append(Finding(record.last_entry, f"{missing}, and the chain no longer reproduces the "
                                                           f"hash it sealed at entry {record.last_entry} "
                                                           "(exported): the chain was rewritten"))
            elif row is None:
                findings.append(Finding(record.last_entry, missing))
        for row in rows:
            if row.id not in seen:
                findings.append(Finding(row.last_entry_id, f"checkpoint {row.id} is in the database but not in "
                                                           f"the export {self.export.path}: the export was cut "
                                                           "or the checkpoint inserted"))
        return findings
