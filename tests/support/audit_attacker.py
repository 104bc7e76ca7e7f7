"""An attacker with every right on the registry, and the honest history they tamper with (issue 18).

Used by tests/integration/test_audit_tamper.py (the matrix) and
test_audit_trail.py (the bound, the export, the anchor, the witness).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from sqlalchemy import delete, select, update

from ca.audit_records import CheckpointRecord, statement_bytes, statement_digest
from ca.clock import FrozenClock
from registry.audit import GENESIS, entry_digest
from registry.models import AuditCheckpointRow, AuditHeadRow, AuditRow, CertificateRow
from tests.support import factories as f

ENTRIES, MINUTES, GRACE_SECONDS = 6, 5, 30
LOG, HEAD, CHECKPOINTS = AuditRow.__table__, AuditHeadRow.__table__, AuditCheckpointRow.__table__


def build(tmp_path, database_url: str, **extra):
    from api.wiring import Services
    from api.settings import Settings

    clock = FrozenClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    settings = Settings(home=tmp_path / "home", database_url=database_url, master_key="11" * 32,
                        audit_checkpoint_entries=ENTRIES, audit_checkpoint_minutes=MINUTES,
                        audit_checkpoint_grace_seconds=GRACE_SECONDS, **extra)
    svc = Services.build(settings, clock=clock)
    svc.migrate()
    svc.bootstrap.initialise()
    assert svc.audit_checkpoints.pin_anchor() is True          # what `qoltanba init` does
    return svc, clock


def honest_history(tmp_path, database_url: str):
    """Issuances over 12 simulated minutes, every due checkpoint made and exported, a last entry unsealed."""
    svc, clock = build(tmp_path, database_url)
    assert svc.audit_checkpoints.checkpoint_if_due() is not None     # init's entries are more than ENTRIES
    for _ in range(12):
        f.issue_person(svc)
        svc.audit_checkpoints.checkpoint_if_due()
        clock.advance(dt.timedelta(minutes=1))
    f.issue_person(svc)                                              # not yet due
    return svc


# -- the attacker's tools -----------------------------------------------------------------------


def entries(svc) -> list[dict]:
    with svc.database.engine.begin() as c:
        return [dict(r._mapping) for r in c.execute(select(LOG).order_by(LOG.c.id))]


def checkpoints(svc) -> list[dict]:
    with svc.database.engine.begin() as c:
        return [dict(r._mapping) for r in c.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.id))]


def fix_head(c, rows: list[dict]) -> None:
    c.execute(update(HEAD).where(HEAD.c.id == 1).values(last_id=rows[-1]["id"], last_hash=rows[-1]["entry_hash"]))


def rewrite(svc, edit, *, keep=lambda row: True) -> list[dict]:
    """A careful attacker: keep some entries, change them, renumber and rehash the chain, move the head."""
    rows = [r for r in entries(svc) if keep(r)]
    edit(rows)
    previous = GENESIS
    for number, row in enumerate(rows, start=1):
        row.update(id=number, prev_hash=previous)
        row["entry_hash"] = previous = entry_digest(previous, number, row["at"], row["actor"], row["action"],
                                                    row["subject"], row["details"])
    with svc.database.engine.begin() as c:
        c.execute(delete(LOG))
        c.execute(LOG.insert(), rows)
        fix_head(c, rows)
    return rows


def hide(rows: list[dict]) -> None:
    rows[1]["subject"] = "nothing to see"


def without_checkpoint_entries(row: dict) -> bool:
    return row["action"] != "audit.checkpoint"


def delete_checkpoints(svc, from_id: int = 1) -> None:
    with svc.database.engine.begin() as c:
        c.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.id >= from_id))


def export_path(svc):
    return svc.settings.resolved_audit_export_file


def attacker_certificate():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "QOLTANBA AUDIT"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "QOLTANBA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365)).sign(key, hashes.SHA256()))
    return key, cert


def substitute_audit_certificate(svc, cert) -> str:
    """Put the attacker's certificate in the audit certificate's row; returns the row's serial.

    A service's certificate names no person, so its row is kept open (``kek_version`` NULL, LOAN-15 migration
    0021): the attacker with write access to the database rewrites its fields and the clear copy, no key needed.
    """
    from registry.sealing import decode_fields, encode_fields

    der = cert.public_bytes(Encoding.DER)
    table = CertificateRow.__table__
    with svc.database.engine.begin() as c:
        row = c.execute(select(table).where(table.c.holder == "service:audit")).one()
        assert row.kek_version is None
        sealed = encode_fields({**decode_fields(row.sealed), "der": der})
        c.execute(update(table).where(table.c.id == row.id).values(sealed=sealed, service_der=der))
        return row.serial


def forge_checkpoints(svc, key, serial: str, seals: list[tuple[int, str, dt.datetime]]) -> list[CheckpointRecord]:
    """Checkpoints the attacker signs with their own key, each with a genuine token of our public TSA."""
    records, previous = [], None
    existing = checkpoints(svc)
    if existing:
        previous = statement_digest(existing[-1]["statement"])
    sequence = existing[-1]["id"] if existing else 0
    for last_entry, last_hash, at in seals:
        sequence += 1
        statement = statement_bytes(last_entry, last_hash, at, sequence=sequence, previous=previous)
        signature = key.sign(statement, ec.ECDSA(hashes.SHA256()))
        token = svc.tsa.stamp(hashlib.sha256(statement).digest(), "sha256")
        records.append(CheckpointRecord(sequence=sequence, last_entry=last_entry, last_hash=last_hash, at=at,
                                        statement=statement, signature=signature, hash_name="sha256",
                                        time_stamp=token))
        previous = statement_digest(statement)
    with svc.database.engine.begin() as c:
        for r in records:
            c.execute(CHECKPOINTS.insert().values(
                id=r.sequence, last_entry_id=r.last_entry, last_hash=r.last_hash, created_at=r.at,
                statement=r.statement, signature=r.signature, signer_serial=serial, hash_name=r.hash_name,
                time_stamp=r.time_stamp))
    return records
