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

import json
import sqlite3

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select, update

from ca.audit_records import CheckpointRecord
from ca.audit_verification import record_problem
from tests.support import audit_attacker as a
from tests.support.server import prepare_home


@pytest.fixture
def trail(tmp_path, database_url):
    """The honest history of tests/support/audit_attacker.py, on SQLite and PostgreSQL."""
    svc = a.honest_history(tmp_path, database_url)
    yield svc
    svc.close()



# -- the matrix ---------------------------------------------------------------------------------


def edit_an_entry(svc) -> tuple[int, str]:
    target = a.checkpoints(svc)[1]["last_entry_id"] - 1      # sealed by the second checkpoint
    with svc.database.engine.begin() as c:
        c.execute(update(a.LOG).where(a.LOG.c.id == target).values(actor="mallory"))
    return target, "changed"


def delete_an_entry(svc) -> tuple[int, str]:
    target = a.checkpoints(svc)[1]["last_entry_id"] - 2
    with svc.database.engine.begin() as c:
        c.execute(delete(a.LOG).where(a.LOG.c.id == target))
    return target, "missing"


def swap_two_entries(svc) -> tuple[int, str]:
    rows = a.entries(svc)
    first, second = rows[2], rows[7]
    with svc.database.engine.begin() as c:
        for target, source in ((first, second), (second, first)):
            c.execute(update(a.LOG).where(a.LOG.c.id == target["id"]).values(
                **{k: source[k] for k in ("at", "actor", "action", "subject", "details", "prev_hash", "entry_hash")}))
    return first["id"], ""


def truncate_the_tail(svc) -> tuple[int, str]:
    """The newest entries go, the head is moved to the new end; the checkpoints stay."""
    sealed = a.checkpoints(svc)[-1]["last_entry_id"]
    with svc.database.engine.begin() as c:
        c.execute(delete(a.LOG).where(a.LOG.c.id >= sealed - 1))
    with svc.database.engine.begin() as c:
        a.fix_head(c, [dict(r._mapping) for r in c.execute(select(a.LOG).order_by(a.LOG.c.id))])
    return sealed, "removed"


def truncate_with_checkpoint_deletion(svc) -> tuple[int, str]:
    """The outside test's first miss: cut back to an older checkpoint, delete the later ones, fix the head."""
    checkpoints = a.checkpoints(svc)
    keep_until = checkpoints[-3]["last_entry_id"]
    with svc.database.engine.begin() as c:
        c.execute(delete(a.LOG).where(a.LOG.c.id > keep_until))
        c.execute(delete(a.CHECKPOINTS).where(a.CHECKPOINTS.c.id > checkpoints[-3]["id"]))
    with svc.database.engine.begin() as c:
        a.fix_head(c, [dict(r._mapping) for r in c.execute(select(a.LOG).order_by(a.LOG.c.id))])
    return checkpoints[-2]["last_entry_id"], "missing from the database"


def rewrite_the_chain_and_delete_all_checkpoints(svc) -> tuple[int, str]:
    """The outside test's second miss: every hash recomputed, checkpoints and their entries gone."""
    sealed = a.checkpoints(svc)[0]["last_entry_id"]
    a.rewrite(svc, a.hide, keep=a.without_checkpoint_entries)
    a.delete_checkpoints(svc)
    return sealed, "missing from the database"


def substitute_the_checkpoint_certificate(svc) -> tuple[int, str]:
    """A checkpoint over a rewritten chain, signed by the attacker's key under a certificate they put in the
    database, time-stamped by our own (public) TSA, and appended to the export as well."""
    rows = a.rewrite(svc, a.hide, keep=a.without_checkpoint_entries)
    a.delete_checkpoints(svc)
    key, cert = a.attacker_certificate()
    serial = a.substitute_audit_certificate(svc, cert)
    (forged,) = a.forge_checkpoints(svc, key, serial, [(rows[-1]["id"], rows[-1]["entry_hash"], svc.clock.now())])
    # What the check before issue 18 did: the certificate found in the database verifies the forgery.
    assert cert.public_key().verify(forged.signature, forged.statement, ec.ECDSA(hashes.SHA256())) is None
    with open(a.export_path(svc), "a", encoding="utf-8") as export:
        export.write(forged.line() + "\n")
    return forged.last_entry, "not signed by the audit certificate pinned at init"


def replace_the_exported_copy(svc) -> tuple[int, str]:
    """The chain rewritten, every checkpoint deleted, and the export rewritten to match: its lines re-sealed
    over the new hashes with the attacker's own key (the old signatures cannot cover them)."""
    old = a.checkpoints(svc)
    rows = a.rewrite(svc, a.hide, keep=a.without_checkpoint_entries)
    a.delete_checkpoints(svc)
    key, cert = a.attacker_certificate()
    serial = a.substitute_audit_certificate(svc, cert)
    by_id = {r["id"]: r for r in rows}
    seals = [(min(cp["last_entry_id"], rows[-1]["id"]), None, cp["created_at"]) for cp in old]
    seals = [(n, by_id[n]["entry_hash"], at) for n, _, at in seals]
    forged = a.forge_checkpoints(svc, key, serial, seals)
    a.export_path(svc).write_text("".join(r.line() + "\n" for r in forged), encoding="utf-8")
    return forged[0].last_entry, "not signed by the audit certificate pinned at init"


def replace_the_exported_copy_keeping_its_signatures(svc) -> tuple[int, str]:
    """As above, but the export's lines keep our genuine signatures and only their hashes are rewritten."""
    rows = a.rewrite(svc, a.hide, keep=a.without_checkpoint_entries)
    a.delete_checkpoints(svc)
    by_id = {r["id"]: r for r in rows}
    lines = []
    for line in a.export_path(svc).read_text().splitlines():
        body = json.loads(line)
        body["last_entry"] = min(body["last_entry"], rows[-1]["id"])
        body["last_hash"] = by_id[body["last_entry"]]["entry_hash"]
        lines.append(json.dumps(body) + "\n")
    a.export_path(svc).write_text("".join(lines), encoding="utf-8")
    return None, "the export was altered"


def replace_the_exported_copy_with_nothing(svc) -> tuple[int, str]:
    """The chain rewritten, checkpoints deleted in the database and the export emptied: the bound remains."""
    a.rewrite(svc, a.hide, keep=a.without_checkpoint_entries)
    a.delete_checkpoints(svc)
    a.export_path(svc).write_text("", encoding="utf-8")
    return None, "no checkpoint seals entries"


def replace_the_exported_copy_with_nothing_and_squash_the_times(svc) -> tuple[int, str]:
    """As above, with every entry's time set to one instant so no time bound is passed: the count is."""
    at = a.entries(svc)[0]["at"]

    def squash(rows: list[dict]) -> None:
        a.hide(rows)
        for row in rows:
            row["at"] = at

    a.rewrite(svc, squash, keep=a.without_checkpoint_entries)
    a.delete_checkpoints(svc)
    a.export_path(svc).unlink()
    return None, f"more than {2 * a.ENTRIES}"


CASES = [edit_an_entry, delete_an_entry, swap_two_entries, truncate_the_tail, truncate_with_checkpoint_deletion,
         rewrite_the_chain_and_delete_all_checkpoints, substitute_the_checkpoint_certificate,
         replace_the_exported_copy, replace_the_exported_copy_keeping_its_signatures,
         replace_the_exported_copy_with_nothing, replace_the_exported_copy_with_nothing_and_squash_the_times]


def test_issue18_the_honest_history_is_intact_with_checkpoints_at_the_bound_and_all_exported(trail) -> None:
    report = trail.audit_checkpoints.verify()
    assert report.intact, report.as_json()
    checkpoints = a.checkpoints(trail)
    exported = [CheckpointRecord.from_line(line) for line in a.export_path(trail).read_text().splitlines()]
    assert len(checkpoints) >= 3 and report.checkpoints == report.exported == len(exported) == len(checkpoints)
    assert [r.sequence for r in exported] == [cp["id"] for cp in checkpoints]
    anchor = trail.audit_checkpoints.anchor.load()
    assert all(record_problem(r, anchor) is None for r in exported)     # each line verifies on its own
    ends = [0] + [cp["last_entry_id"] for cp in checkpoints]
    logged = a.entries(trail)
    runs = [sum(1 for e in logged if low < e["id"] <= high and e["action"] != "audit.checkpoint")
            for low, high in zip(ends, ends[1:])]
    assert max(runs[1:]) <= a.ENTRIES                                   # the entries bound held after init's


@pytest.mark.parametrize("tamper", CASES, ids=[c.__name__ for c in CASES])
def test_issue18_tamper_matrix_every_case_is_caught(trail, tamper) -> None:
    entry, phrase = tamper(trail)
    report = trail.audit_checkpoints.verify()
    assert not report.intact, f"{tamper.__name__} went unnoticed"
    problems = [finding.problem for finding in report.findings]
    assert any(phrase in problem for problem in problems), problems
    if entry is not None:
        assert entry in [finding.entry_id for finding in report.findings], report.as_json()


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
