"""Issue 18: the audit trail against an insider with every right on the database.

Each case of the matrix builds the same honest history (entries written over
simulated minutes, a checkpoint whenever one falls due, each exported to the
home's file), then tampers as an attacker with full database access would,
and `AuditCheckpoints.verify` (what `qoltanba audit verify` runs) must report
it, on SQLite and on PostgreSQL. The cases the outside test of issue 18 got
through (truncation with the checkpoints and the head, a rewritten chain with
every checkpoint deleted) are among them, as are a checkpoint signed under a
substituted certificate and an export file rewritten to match the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from sqlalchemy import delete, select, update

from ca.audit_records import CheckpointRecord, statement_bytes, statement_digest
from ca.audit_verification import record_problem
from ca.clock import FrozenClock
from registry.audit import GENESIS, entry_digest
from registry.models import AuditCheckpointRow, AuditHeadRow, AuditRow, CertificateRow
from tests.support import factories as f
from tests.support.server import prepare_home

ENTRIES, MINUTES, GRACE_SECONDS = 6, 5, 30
_LOG, _HEAD, _CHECKPOINTS = AuditRow.__table__, AuditHeadRow.__table__, AuditCheckpointRow.__table__


def _build(tmp_path, database_url: str, **extra):
    from api.context import Services
    from api.settings import Settings

    clock = FrozenClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    settings = Settings(home=tmp_path / "home", database_url=database_url, master_key="11" * 32,
                        audit_checkpoint_entries=ENTRIES, audit_checkpoint_minutes=MINUTES,
                        audit_checkpoint_grace_seconds=GRACE_SECONDS, **extra)
    svc = Services.build(settings, clock=clock)
    svc.migrate()
    svc.authority.initialise()
    assert svc.audit_checkpoints.pin_anchor() is True          # what `qoltanba init` does
    return svc, clock


@pytest.fixture
def trail(tmp_path, database_url):
    """An honest history: issuances over 12 simulated minutes, every due checkpoint made and exported."""
    svc, clock = _build(tmp_path, database_url)
    assert svc.audit_checkpoints.checkpoint_if_due() is not None     # init's entries are more than ENTRIES
    for _ in range(12):
        f.issue_person(svc)
        svc.audit_checkpoints.checkpoint_if_due()
        clock.advance(dt.timedelta(minutes=1))
    f.issue_person(svc)                                         # a last entry, not yet due
    yield svc
    svc.close()


# -- the attacker's tools ---------------------------------------------------------------------


def _entries(svc) -> list[dict]:
    with svc.database.engine.begin() as c:
        return [dict(r._mapping) for r in c.execute(select(_LOG).order_by(_LOG.c.id))]


def _checkpoints(svc) -> list[dict]:
    with svc.database.engine.begin() as c:
        return [dict(r._mapping) for r in c.execute(select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.id))]


def _fix_head(c, rows: list[dict]) -> None:
    c.execute(update(_HEAD).where(_HEAD.c.id == 1).values(last_id=rows[-1]["id"], last_hash=rows[-1]["entry_hash"]))


def _rewrite(svc, edit, *, keep=lambda row: True) -> list[dict]:
    """A careful attacker: keep some entries, change them, renumber and rehash the chain, move the head."""
    rows = [r for r in _entries(svc) if keep(r)]
    edit(rows)
    previous = GENESIS
    for number, row in enumerate(rows, start=1):
        row.update(id=number, prev_hash=previous)
        row["entry_hash"] = previous = entry_digest(previous, number, row["at"], row["actor"], row["action"],
                                                    row["subject"], row["details"])
    with svc.database.engine.begin() as c:
        c.execute(delete(_LOG))
        c.execute(_LOG.insert(), rows)
        _fix_head(c, rows)
    return rows


def _hide(rows: list[dict]) -> None:
    rows[1]["subject"] = "nothing to see"


def _without_checkpoint_entries(row: dict) -> bool:
    return row["action"] != "audit.checkpoint"


def _delete_checkpoints(svc, from_id: int = 1) -> None:
    with svc.database.engine.begin() as c:
        c.execute(delete(_CHECKPOINTS).where(_CHECKPOINTS.c.id >= from_id))


def _export_path(svc):
    return svc.settings.resolved_audit_export_file


def _attacker_certificate():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "QOLTANBA AUDIT"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "QOLTANBA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365)).sign(key, hashes.SHA256()))
    return key, cert


def _substitute_audit_certificate(svc, cert) -> str:
    """Put the attacker's certificate in the audit certificate's row; returns the row's serial."""
    der = cert.public_bytes(Encoding.DER)
    with svc.database.engine.begin() as c:
        c.execute(update(CertificateRow.__table__).where(CertificateRow.__table__.c.holder == "service:audit")
                  .values(der=der))
        return c.execute(select(CertificateRow.__table__.c.serial)
                         .where(CertificateRow.__table__.c.holder == "service:audit")).scalar_one()


def _forge_checkpoints(svc, key, serial: str, seals: list[tuple[int, str, dt.datetime]]) -> list[CheckpointRecord]:
    """Checkpoints the attacker signs with their own key, each with a genuine token of our public TSA."""
    records, previous = [], None
    existing = _checkpoints(svc)
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
            c.execute(_CHECKPOINTS.insert().values(
                id=r.sequence, last_entry_id=r.last_entry, last_hash=r.last_hash, created_at=r.at,
                statement=r.statement, signature=r.signature, signer_serial=serial, hash_name=r.hash_name,
                time_stamp=r.time_stamp))
    return records


# -- the matrix ---------------------------------------------------------------------------------


def edit_an_entry(svc) -> tuple[int, str]:
    target = _checkpoints(svc)[1]["last_entry_id"] - 1      # sealed by the second checkpoint
    with svc.database.engine.begin() as c:
        c.execute(update(_LOG).where(_LOG.c.id == target).values(actor="mallory"))
    return target, "changed"


def delete_an_entry(svc) -> tuple[int, str]:
    target = _checkpoints(svc)[1]["last_entry_id"] - 2
    with svc.database.engine.begin() as c:
        c.execute(delete(_LOG).where(_LOG.c.id == target))
    return target, "missing"


def swap_two_entries(svc) -> tuple[int, str]:
    rows = _entries(svc)
    a, b = rows[2], rows[7]
    with svc.database.engine.begin() as c:
        for target, source in ((a, b), (b, a)):
            c.execute(update(_LOG).where(_LOG.c.id == target["id"]).values(
                **{k: source[k] for k in ("at", "actor", "action", "subject", "details", "prev_hash", "entry_hash")}))
    return a["id"], ""


def truncate_the_tail(svc) -> tuple[int, str]:
    """The newest entries go, the head is moved to the new end; the checkpoints stay."""
    sealed = _checkpoints(svc)[-1]["last_entry_id"]
    with svc.database.engine.begin() as c:
        c.execute(delete(_LOG).where(_LOG.c.id >= sealed - 1))
    with svc.database.engine.begin() as c:
        _fix_head(c, [dict(r._mapping) for r in c.execute(select(_LOG).order_by(_LOG.c.id))])
    return sealed, "removed"


def truncate_with_checkpoint_deletion(svc) -> tuple[int, str]:
    """The outside test's first miss: cut back to an older checkpoint, delete the later ones, fix the head."""
    checkpoints = _checkpoints(svc)
    keep_until = checkpoints[-3]["last_entry_id"]
    with svc.database.engine.begin() as c:
        c.execute(delete(_LOG).where(_LOG.c.id > keep_until))
        c.execute(delete(_CHECKPOINTS).where(_CHECKPOINTS.c.id > checkpoints[-3]["id"]))
    with svc.database.engine.begin() as c:
        _fix_head(c, [dict(r._mapping) for r in c.execute(select(_LOG).order_by(_LOG.c.id))])
    return checkpoints[-2]["last_entry_id"], "missing from the database"


def rewrite_the_chain_and_delete_all_checkpoints(svc) -> tuple[int, str]:
    """The outside test's second miss: every hash recomputed, checkpoints and their entries gone."""
    sealed = _checkpoints(svc)[0]["last_entry_id"]
    _rewrite(svc, _hide, keep=_without_checkpoint_entries)
    _delete_checkpoints(svc)
    return sealed, "missing from the database"


def substitute_the_checkpoint_certificate(svc) -> tuple[int, str]:
    """A checkpoint over a rewritten chain, signed by the attacker's key under a certificate they put in the
    database, time-stamped by our own (public) TSA, and appended to the export as well."""
    rows = _rewrite(svc, _hide, keep=_without_checkpoint_entries)
    _delete_checkpoints(svc)
    key, cert = _attacker_certificate()
    serial = _substitute_audit_certificate(svc, cert)
    (forged,) = _forge_checkpoints(svc, key, serial, [(rows[-1]["id"], rows[-1]["entry_hash"], svc.clock.now())])
    # What the check before issue 18 did: the certificate found in the database verifies the forgery.
    assert cert.public_key().verify(forged.signature, forged.statement, ec.ECDSA(hashes.SHA256())) is None
    with open(_export_path(svc), "a", encoding="utf-8") as export:
        export.write(forged.line() + "\n")
    return forged.last_entry, "not signed by the audit certificate pinned at init"


def replace_the_exported_copy(svc) -> tuple[int, str]:
    """The chain rewritten, every checkpoint deleted, and the export rewritten to match: its lines re-sealed
    over the new hashes with the attacker's own key (the old signatures cannot cover them)."""
    old = _checkpoints(svc)
    rows = _rewrite(svc, _hide, keep=_without_checkpoint_entries)
    _delete_checkpoints(svc)
    key, cert = _attacker_certificate()
    serial = _substitute_audit_certificate(svc, cert)
    by_id = {r["id"]: r for r in rows}
    seals = [(min(cp["last_entry_id"], rows[-1]["id"]), None, cp["created_at"]) for cp in old]
    seals = [(n, by_id[n]["entry_hash"], at) for n, _, at in seals]
    forged = _forge_checkpoints(svc, key, serial, seals)
    _export_path(svc).write_text("".join(r.line() + "\n" for r in forged), encoding="utf-8")
    return forged[0].last_entry, "not signed by the audit certificate pinned at init"


def replace_the_exported_copy_keeping_its_signatures(svc) -> tuple[int, str]:
    """As above, but the export's lines keep our genuine signatures and only their hashes are rewritten."""
    rows = _rewrite(svc, _hide, keep=_without_checkpoint_entries)
    _delete_checkpoints(svc)
    by_id = {r["id"]: r for r in rows}
    lines = []
    for line in _export_path(svc).read_text().splitlines():
        body = json.loads(line)
        body["last_entry"] = min(body["last_entry"], rows[-1]["id"])
        body["last_hash"] = by_id[body["last_entry"]]["entry_hash"]
        lines.append(json.dumps(body) + "\n")
    _export_path(svc).write_text("".join(lines), encoding="utf-8")
    return None, "the export was altered"


def replace_the_exported_copy_with_nothing(svc) -> tuple[int, str]:
    """The chain rewritten, checkpoints deleted in the database and the export emptied: the bound remains."""
    _rewrite(svc, _hide, keep=_without_checkpoint_entries)
    _delete_checkpoints(svc)
    _export_path(svc).write_text("", encoding="utf-8")
    return None, "no checkpoint seals entries"


def replace_the_exported_copy_with_nothing_and_squash_the_times(svc) -> tuple[int, str]:
    """As above, with every entry's time set to one instant so no time bound is passed: the count is."""
    at = _entries(svc)[0]["at"]

    def squash(rows: list[dict]) -> None:
        _hide(rows)
        for row in rows:
            row["at"] = at

    _rewrite(svc, squash, keep=_without_checkpoint_entries)
    _delete_checkpoints(svc)
    _export_path(svc).unlink()
    return None, f"more than {2 * ENTRIES}"


CASES = [edit_an_entry, delete_an_entry, swap_two_entries, truncate_the_tail, truncate_with_checkpoint_deletion,
         rewrite_the_chain_and_delete_all_checkpoints, substitute_the_checkpoint_certificate,
         replace_the_exported_copy, replace_the_exported_copy_keeping_its_signatures,
         replace_the_exported_copy_with_nothing, replace_the_exported_copy_with_nothing_and_squash_the_times]


def test_issue18_the_honest_history_is_intact_with_checkpoints_at_the_bound_and_all_exported(trail) -> None:
    report = trail.audit_checkpoints.verify()
    assert report.intact, report.as_json()
    checkpoints = _checkpoints(trail)
    exported = [CheckpointRecord.from_line(line) for line in _export_path(trail).read_text().splitlines()]
    assert len(checkpoints) >= 3 and report.checkpoints == report.exported == len(exported) == len(checkpoints)
    assert [r.sequence for r in exported] == [cp["id"] for cp in checkpoints]
    anchor = trail.audit_checkpoints.anchor.load()
    assert all(record_problem(r, anchor) is None for r in exported)     # each line verifies on its own
    ends = [0] + [cp["last_entry_id"] for cp in checkpoints]
    runs = [sum(1 for e in _entries(trail) if a < e["id"] <= b and e["action"] != "audit.checkpoint")
            for a, b in zip(ends, ends[1:])]
    assert max(runs[1:]) <= ENTRIES                                   # the entries bound held after init's


@pytest.mark.parametrize("tamper", CASES, ids=[c.__name__ for c in CASES])
def test_issue18_tamper_matrix_every_case_is_caught(trail, tamper) -> None:
    entry, phrase = tamper(trail)
    report = trail.audit_checkpoints.verify()
    assert not report.intact, f"{tamper.__name__} went unnoticed"
    problems = [finding.problem for finding in report.findings]
    assert any(phrase in problem for problem in problems), problems
    if entry is not None:
        assert entry in [finding.entry_id for finding in report.findings], report.as_json()


def test_issue18_an_entry_written_long_after_a_checkpoint_fell_due_is_reported_a_quiet_outage_is_not(
        trail) -> None:
    """The bound on the tail: relative to the entries, not to the time `verify` runs."""
    audit = trail.audit_checkpoints
    assert audit.checkpoint() is not None and audit.checkpoint() is None
    trail.clock.advance(dt.timedelta(hours=3))          # nothing written: no checkpoint is due
    f.issue_person(trail)
    assert audit.verify().intact and not audit.due()
    trail.clock.advance(dt.timedelta(minutes=MINUTES, seconds=GRACE_SECONDS - 1))
    assert audit.due()
    f.issue_person(trail)                               # due, late, yet within the grace
    assert audit.verify().intact
    trail.clock.advance(dt.timedelta(seconds=2))
    late = f.issue_person(trail)                        # past the grace: no checkpoint was made in time
    (finding,) = audit.verify().findings
    assert "no checkpoint seals entries" in finding.problem and finding.entry_id == _entries(trail)[-1]["id"]
    assert late.serial in _entries(trail)[-1]["subject"]
    assert audit.checkpoint() is not None               # sealing late does not undo the finding
    assert not audit.verify().intact


def test_issue18_the_housekeeper_makes_the_checkpoint_when_the_entries_bound_is_reached(trail) -> None:
    import time

    audit = trail.audit_checkpoints
    audit.checkpoint()
    before = len(_checkpoints(trail))
    for _ in range(ENTRIES - 1):
        f.issue_person(trail)
    assert not audit.due()
    f.issue_person(trail)
    assert audit.due()
    trail.housekeeper.start()
    try:
        deadline = time.monotonic() + 20
        while len(_checkpoints(trail)) == before and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        trail.housekeeper.stop()
    assert len(_checkpoints(trail)) == before + 1 and not audit.due()
    assert audit.verify().intact


def test_issue18_a_substituted_audit_certificate_signs_no_checkpoint(trail) -> None:
    _key, cert = _attacker_certificate()
    _substitute_audit_certificate(trail, cert)
    f.issue_person(trail)
    before = len(_checkpoints(trail))
    with pytest.raises(Exception, match="not the one pinned at init"):
        trail.audit_checkpoints.checkpoint()
    assert len(_checkpoints(trail)) == before


def test_issue18_a_checkpoint_committed_but_not_exported_is_reported_then_exported_by_the_next(trail) -> None:
    lines = _export_path(trail).read_text().splitlines()
    _export_path(trail).write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")   # the crash's window
    report = trail.audit_checkpoints.verify()
    assert [fi.problem for fi in report.findings if "not in the export" in fi.problem], report.as_json()
    f.issue_person(trail)
    assert trail.audit_checkpoints.checkpoint() is not None
    assert trail.audit_checkpoints.verify().intact
    assert len(_export_path(trail).read_text().splitlines()) == len(lines) + 1


def test_issue18_a_missing_anchor_is_reported_and_not_silently_pinned_again(trail) -> None:
    trail.audit_checkpoints.anchor.path.unlink()
    report = trail.audit_checkpoints.verify()
    assert any("anchor" in fi.problem and "missing" in fi.problem for fi in report.findings)
    f.issue_person(trail)
    with pytest.raises(Exception, match="anchor .* is missing"):
        trail.audit_checkpoints.checkpoint()
    assert not trail.audit_checkpoints.anchor.path.exists()


# -- the witness ----------------------------------------------------------------------------------


class _Witness(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers["Content-Type"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def witness():
    handler = type("Witness", (_Witness,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/checkpoints", handler
    server.shutdown()
    server.server_close()


def test_issue18_each_checkpoint_reaches_the_witness_as_its_exported_line(tmp_path, witness) -> None:
    url, handler = witness
    svc, _clock = _build(tmp_path, f"sqlite:///{tmp_path / 'registry.db'}", audit_witness_url=url)
    try:
        first = svc.audit_checkpoints.checkpoint()
        f.issue_person(svc)
        second = svc.audit_checkpoints.checkpoint()
        lines = _export_path(svc).read_text().splitlines()
        assert [body.decode() for _, body in handler.received] == lines
        assert {kind for kind, _ in handler.received} == {"application/json"}
        received = [CheckpointRecord.from_line(body.decode()) for _, body in handler.received]
        assert [r.sequence for r in received] == [first.id, second.id]
        anchor = svc.audit_checkpoints.anchor.load()
        assert all(record_problem(r, anchor) is None for r in received)
    finally:
        svc.close()


def test_issue18_an_unreachable_witness_is_logged_and_the_checkpoint_still_made(tmp_path, caplog) -> None:
    from tests.support.server import free_port

    url = f"http://user:secret@127.0.0.1:{free_port()}/checkpoints"
    svc, _clock = _build(tmp_path, f"sqlite:///{tmp_path / 'registry.db'}", audit_witness_url=url)
    try:
        with caplog.at_level(logging.WARNING, logger="ca.audit_outside"):
            made = svc.audit_checkpoints.checkpoint()
        assert made is not None and len(_export_path(svc).read_text().splitlines()) == 1
        (warning,) = [r.getMessage() for r in caplog.records if "witness" in r.getMessage()]
        assert f"checkpoint {made.id}" in warning and "secret" not in warning and "***@" in warning
        assert svc.audit_checkpoints.verify().intact
    finally:
        svc.close()


# -- the command line ------------------------------------------------------------------------------


def test_issue18_cli_audit_verify_exits_1_with_one_line_for_a_truncated_home(tmp_path) -> None:
    home = prepare_home(tmp_path / "home")
    anchor, export = home.path / "audit" / "anchor.pem", home.path / "audit" / "checkpoints.jsonl"
    assert anchor.exists() and anchor.stat().st_mode & 0o777 == 0o644          # pinned by `init`
    first = json.loads(home.cli("audit", "checkpoint").stdout)
    second = json.loads(home.cli("audit", "checkpoint").stdout)
    assert second["checkpoint"] is None                          # nothing new but the first one's entry
    ok = home.cli("audit", "verify")
    assert ok.returncode == 0 and "1 exported" in ok.stdout
    assert [json.loads(line)["sequence"] for line in export.read_text().splitlines()] == [first["checkpoint"]]

    # The outside test's cut: the checkpoint and the entries it sealed go, the head is moved back.
    with sqlite3.connect(home.path / "registry.db") as db:
        db.execute("DELETE FROM audit_checkpoints")
        db.execute("DELETE FROM audit_log WHERE id > ?", (first["last_entry"] - 3,))
        last_id, last_hash = db.execute("SELECT id, entry_hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        db.execute("UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = 1", (last_id, last_hash))
    broken = home.cli("audit", "verify", check=False)
    assert broken.returncode == 1
    assert broken.stdout.count("\n") == 1 and broken.stdout.startswith(f"entry {first['last_entry']}: ")
    assert "missing from the database" in broken.stdout and broken.stderr == ""
    report = json.loads(home.cli("audit", "verify", "--json", check=False).stdout)
    assert report["intact"] is False and report["exported"] == 1
