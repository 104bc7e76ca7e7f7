"""``qoltanba backup`` / ``qoltanba restore`` round trip on SQLite and PostgreSQL (issue 17, item 4).

A home is made with ``qoltanba init`` and filled: certificates issued (one
with a key the service holds), a loan document signed by its client and
sealed, a revocation, an API key, their audit entries and a signed audit
checkpoint. ``qoltanba backup`` writes the archive; ``qoltanba restore``
puts it onto an empty home and an empty database (another SQLite file,
another PostgreSQL database). Then every certificate, document version and
audit entry is the same, byte for byte and hash for hash; ``qoltanba audit
verify`` passes; the restored service starts (/readyz 200) and signs: a
time-stamp over HTTP, and a new document signed with the restored client
key and sealed. Refusals change nothing: a damaged archive, a target that is
not empty, a master key that does not open the keys.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile

import httpx
import pytest

from api.settings import Settings
from ca.revocation import RevocationRequest
from api.wiring import Services
from tests.support import factories as f
from tests.support.server import MASTER_KEY, Home, free_port, prepare_home, running_server
from tests.support.signing import TENANT, client_with_held_key, sign_client_and_seal, upload


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request, tmp_path):
    """(source database URL or None for the home's SQLite, target database URL)."""
    if request.param == "sqlite":
        yield None, f"sqlite:///{tmp_path / 'restored' / 'registry.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    made = [server.create_unique_database(prefix) for prefix in ("backup_source", "backup_target")]
    yield made[0][1], made[1][1]
    for name, _url in made:
        server.drop_database(name)


def _services(path, url: str | None, master: str = MASTER_KEY) -> Services:
    return Services.build(Settings(home=path, master_key=master, database_url=url))


def _fill(services: Services) -> dict:
    issued = [f.issue_person(services) for _ in range(3)]
    services.revocations.revoke(RevocationRequest(serial=issued[0].serial, actor="test", reason="key-compromise"))
    holder = client_with_held_key(services)
    document = upload(services, holder.iin)
    sign_client_and_seal(services, holder, document.id, level="B-T")
    services.audit_checkpoints.checkpoint(actor="test")
    return {"holder": holder}


def _snapshot(services: Services) -> dict:
    with services.registry.transaction(readonly=True) as tx:
        entries = tx.audit.entries(after_id=0, limit=100_000)
        audit = [(e.id, e.action, e.entry_hash) for e in entries]
    certificates = sorted((c.serial, hashlib.sha256(c.der).hexdigest()) for c in _certificates(services))
    return {"audit": audit, "certificates": certificates, "documents": _documents(services)}


def _certificates(services: Services) -> list:
    from registry import CertificateRow

    with services.registry.transaction(readonly=True) as tx:
        return list(tx.session.query(CertificateRow).all())


def _documents(services: Services) -> list:
    from registry import DocumentRow, DocumentVersionRow

    with services.registry.transaction(readonly=True) as tx:
        rows = tx.session.query(DocumentRow.public_id, DocumentVersionRow.number, DocumentVersionRow.sha256) \
            .join(DocumentVersionRow, DocumentVersionRow.document_id == DocumentRow.id).all()
    return sorted(tuple(r) for r in rows)


def test_backup_and_restore_round_trip(tmp_path, urls) -> None:
    source_url, target_url = urls
    home = prepare_home(tmp_path / "home", database_url=source_url)
    services = _services(home.path, source_url)
    try:
        filled = _fill(services)
        before = _snapshot(services)
    finally:
        services.close()
    assert len(before["certificates"]) >= 10 and len(before["documents"]) == 3 and len(before["audit"]) >= 20
    archive = tmp_path / "qoltanba-backup.tar.gz"
    done = home.cli("backup", "--out", str(archive))
    made = json.loads(done.stdout)
    assert made["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert made["documents"] == 1 and made["audit_entries"] == len(before["audit"])
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names[0] == "manifest.json" and set(manifest["files"]) == set(names[1:])
    assert any(n.startswith("home/keys/") and n.endswith(".key") for n in names)
    assert "audit/anchor.pem" in names and "audit/checkpoints.jsonl" in names
    # The master key and the bootstrap administrator's key never go into the archive; the keys go in encrypted.
    raw = b"".join(tar_member for tar_member in _members(archive))
    assert MASTER_KEY.encode() not in raw and b"PRIVATE KEY-----\n" not in raw.replace(b"ENCRYPTED PRIVATE", b"")

    restored = Home(tmp_path / "restored", free_port(), {**home.env, "QOLTANBA_HOME": str(tmp_path / "restored"),
                                                         "QOLTANBA_DATABASE_URL": target_url})
    out = restored.cli("restore", str(archive))
    summary = json.loads(out.stdout)
    assert summary["restored"] and summary["audit_intact"] and summary["sha256"] == made["sha256"]
    verified = restored.cli("audit", "verify")
    assert verified.stdout.startswith("audit log intact"), verified.stdout

    services = _services(restored.path, target_url)
    try:
        after = _snapshot(services)
        assert after["certificates"] == before["certificates"]
        assert after["documents"] == before["documents"]
        assert after["audit"][:len(before["audit"])] == before["audit"]
        assert [a for _i, a, _h in after["audit"][len(before["audit"]):]] == ["registry.restored"]
        # It signs: the restored client key (software, encrypted at rest) and the seal, on a new document.
        holder = filled["holder"]
        document = upload(services, holder.iin)
        first, second = sign_client_and_seal(services, holder, document.id, level="B-T")
        assert first.signatory == "client" and second.signatory == "seal"
    finally:
        services.close()
    with running_server(restored, workers=1):
        assert httpx.get(restored.url + "/readyz", timeout=30).status_code == 200
        query = _tsq(b"restored and signing")
        answer = httpx.post(restored.url + "/tsa", content=query, headers={"Content-Type":
                                                                           "application/timestamp-query"}, timeout=30)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/timestamp-reply"


def _members(archive) -> list[bytes]:
    with tarfile.open(archive) as tar:
        return [tar.extractfile(m).read() for m in tar.getmembers()]


def _tsq(data: bytes) -> bytes:
    from asn1crypto import algos, tsp

    return tsp.TimeStampReq({"version": "v1", "message_imprint": {
        "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "hashed_message": hashlib.sha256(data).digest()}, "cert_req": True}).dump()


def test_restore_refuses_and_changes_nothing(tmp_path) -> None:
    home = prepare_home(tmp_path / "home")
    archive = tmp_path / "backup.tar.gz"
    home.cli("backup", "--out", str(archive))
    # The archive is never overwritten.
    again = home.cli("backup", "--out", str(archive), check=False)
    assert again.returncode == 2 and again.stderr.startswith("error: ") and len(again.stderr.splitlines()) == 1

    def target(name: str, **env: str) -> Home:
        path = tmp_path / name
        return Home(path, free_port(), {**home.env, "QOLTANBA_HOME": str(path),
                                        "QOLTANBA_DATABASE_URL": f"sqlite:///{path / 'registry.db'}", **env})

    # A damaged archive: one byte of a member changed, the manifest left as it was.
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as tar, tarfile.open(damaged, "w:gz") as out:
        for member in tar.getmembers():
            content = bytearray(tar.extractfile(member).read())
            if member.name == "audit/anchor.pem":
                content[40] ^= 1
            out.addfile(member, io.BytesIO(bytes(content)))
    first = target("a")
    refused = first.cli("restore", str(damaged), check=False)
    assert refused.returncode == 2 and "audit/anchor.pem: its SHA-256 is not the manifest's" in refused.stderr
    assert not first.path.exists() or not any(first.path.rglob("*")), "a damaged archive wrote something"
    # A master key that does not open the keys: nothing stays written, the database stays empty.
    wrong = target("b", QOLTANBA_MASTER_KEY="33" * 32)
    refused = wrong.cli("restore", str(archive), check=False)
    assert refused.returncode == 2 and "MasterKeyMismatch" in refused.stderr, refused.stderr
    assert not list((wrong.path / "keys").glob("*")) and not (wrong.path / "audit" / "anchor.pem").exists()
    database = wrong.path / "registry.db"
    assert not database.exists() or sqlite3.connect(database).execute("SELECT name FROM sqlite_master").fetchall() \
        == [], "the database was written"
    # A target that is not empty: the first home itself.
    onto_live = home.cli("restore", str(archive), check=False)
    assert onto_live.returncode == 2 and "not empty" in onto_live.stderr
