"""Issue 18: the bound on unsealed entries, the export's repair, the anchor and the witness.

The same honest history as the tamper matrix (tests/support/audit_attacker.py),
on SQLite and PostgreSQL; the witness is a real HTTP server on loopback.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ca.audit_records import CheckpointRecord
from ca.audit_verification import record_problem
from tests.support import audit_attacker as a
from tests.support import factories as f
from tests.support.server import free_port


@pytest.fixture
def trail(tmp_path, database_url):
    """The honest history of tests/support/audit_attacker.py, on SQLite and PostgreSQL."""
    svc = a.honest_history(tmp_path, database_url)
    yield svc
    svc.close()



def test_issue18_an_entry_written_long_after_a_checkpoint_fell_due_is_reported_a_quiet_outage_is_not(
        trail) -> None:
    """The bound on the tail: relative to the entries, not to the time `verify` runs."""
    audit = trail.audit_checkpoints
    assert audit.checkpoint() is not None and audit.checkpoint() is None
    trail.clock.advance(dt.timedelta(hours=3))          # nothing written: no checkpoint is due
    f.issue_person(trail)
    assert audit.verify().intact and not audit.due()
    trail.clock.advance(dt.timedelta(minutes=a.MINUTES, seconds=a.GRACE_SECONDS - 1))
    assert audit.due()
    f.issue_person(trail)                               # due, late, yet within the grace
    assert audit.verify().intact
    trail.clock.advance(dt.timedelta(seconds=2))
    late = f.issue_person(trail)                        # past the grace: no checkpoint was made in time
    (finding,) = audit.verify().findings
    assert "no checkpoint seals entries" in finding.problem and finding.entry_id == a.entries(trail)[-1]["id"]
    assert late.serial in a.entries(trail)[-1]["subject"]
    assert audit.checkpoint() is not None               # sealing late does not undo the finding
    assert not audit.verify().intact


def test_issue18_the_scheduled_job_makes_the_checkpoint_when_the_entries_bound_is_reached(trail) -> None:
    """The checkpoint is a scheduled job of the shared queue (issue 17, item 2), run by this process's
    dispatcher, as it was by its housekeeper before."""
    audit = trail.audit_checkpoints
    audit.checkpoint()
    before = len(a.checkpoints(trail))
    for _ in range(a.ENTRIES - 1):
        f.issue_person(trail)
    assert not audit.due()
    f.issue_person(trail)
    assert audit.due()
    trail.dispatcher.start()
    try:
        deadline = time.monotonic() + 20
        while len(a.checkpoints(trail)) == before and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        trail.dispatcher.stop()
    assert len(a.checkpoints(trail)) == before + 1 and not audit.due()
    assert audit.verify().intact


def test_issue18_a_substituted_audit_certificate_signs_no_checkpoint(trail) -> None:
    _key, cert = a.attacker_certificate()
    a.substitute_audit_certificate(trail, cert)
    f.issue_person(trail)
    before = len(a.checkpoints(trail))
    with pytest.raises(Exception, match="not the one pinned at init"):
        trail.audit_checkpoints.checkpoint()
    assert len(a.checkpoints(trail)) == before


def test_issue18_a_checkpoint_committed_but_not_exported_is_reported_then_exported_by_the_next(trail) -> None:
    lines = a.export_path(trail).read_text().splitlines()
    a.export_path(trail).write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")   # the crash's window
    report = trail.audit_checkpoints.verify()
    assert [fi.problem for fi in report.findings if "not in the export" in fi.problem], report.as_json()
    f.issue_person(trail)
    assert trail.audit_checkpoints.checkpoint() is not None
    assert trail.audit_checkpoints.verify().intact
    assert len(a.export_path(trail).read_text().splitlines()) == len(lines) + 1


def test_issue18_a_missing_anchor_is_reported_and_not_silently_pinned_again(trail) -> None:
    trail.audit_checkpoints.anchor.path.unlink()
    report = trail.audit_checkpoints.verify()
    assert any("anchor" in fi.problem and "missing" in fi.problem for fi in report.findings)
    f.issue_person(trail)
    with pytest.raises(Exception, match="anchor .* is missing"):
        trail.audit_checkpoints.checkpoint()
    with pytest.raises(Exception, match="anchor .* is missing while checkpoints were exported"):
        trail.audit_checkpoints.pin_anchor()                 # what `init` and `serve` try, and warn about
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
    svc, _clock = a.build(tmp_path, f"sqlite:///{tmp_path / 'registry.db'}", audit_witness_url=url)
    try:
        first = svc.audit_checkpoints.checkpoint()
        f.issue_person(svc)
        second = svc.audit_checkpoints.checkpoint()
        lines = a.export_path(svc).read_text().splitlines()
        assert [body.decode() for _, body in handler.received] == lines
        assert {kind for kind, _ in handler.received} == {"application/json"}
        received = [CheckpointRecord.from_line(body.decode()) for _, body in handler.received]
        assert [r.sequence for r in received] == [first.id, second.id]
        anchor = svc.audit_checkpoints.anchor.load()
        assert all(record_problem(r, anchor) is None for r in received)
    finally:
        svc.close()


def test_issue18_an_unreachable_witness_is_logged_and_the_checkpoint_still_made(tmp_path, caplog) -> None:
    url = f"http://user:secret@127.0.0.1:{free_port()}/checkpoints"
    svc, _clock = a.build(tmp_path, f"sqlite:///{tmp_path / 'registry.db'}", audit_witness_url=url)
    try:
        with caplog.at_level(logging.WARNING, logger="ca.audit_outside"):
            made = svc.audit_checkpoints.checkpoint()
        assert made is not None and len(a.export_path(svc).read_text().splitlines()) == 1
        (warning,) = [r.getMessage() for r in caplog.records if "witness" in r.getMessage()]
        assert f"checkpoint {made.id}" in warning and "secret" not in warning and "***@" in warning
        assert svc.audit_checkpoints.verify().intact
    finally:
        svc.close()


def test_issue18_checkpoints_from_before_issue_18_verify_and_are_all_exported_with_the_next(services) -> None:
    """An upgraded home: a checkpoint in the old statement format (no sequence, no link), no anchor, no export."""
    import hashlib

    from sqlalchemy import select

    from ca.audit_checkpoints import AUDIT_HOLDER
    from ca.audit_records import statement_bytes
    from keys import sign_tbs

    f.issue_person(services)
    audit = services.audit_checkpoints
    with services.registry.transaction(readonly=True) as tx:
        last_id, last_hash = tx.audit.head()
    now = services.clock.now()
    statement = statement_bytes(last_id, last_hash, now)          # issue 8's format
    row = services.hierarchy.service_certificate(AUDIT_HOLDER)
    _alg, signature = sign_tbs(services.backend, row.key_handle, statement, "sha256")
    token = services.tsa.stamp(hashlib.sha256(statement).digest(), "sha256")
    with services.database.engine.begin() as c:
        c.execute(a.CHECKPOINTS.insert().values(
            id=1, last_entry_id=last_id, last_hash=last_hash, created_at=now, statement=statement,
            signature=signature, signer_serial=row.serial, hash_name="sha256", time_stamp=token))
    assert not audit.anchor.exists() and audit.pin_anchor() is True   # `init` or `serve` after the upgrade
    assert not audit.verify().intact                                  # not exported yet
    f.issue_person(services)
    assert audit.checkpoint().id == 2
    assert [r.sequence for r in audit.export.read()[0]] == [1, 2]
    assert audit.verify().intact
    with services.database.engine.begin() as c:
        assert json.loads(c.execute(select(a.CHECKPOINTS.c.statement).where(a.CHECKPOINTS.c.id == 2))
                          .scalar_one())["previous"] == hashlib.sha256(statement).hexdigest()
