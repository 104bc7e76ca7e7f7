"""``qoltanba backup`` and ``qoltanba restore``: the registry and the keys, in one archive with a manifest (issue 17).

What the archive holds (registry/archive.py: a gzip'd tar, ``manifest.json``
first, naming each member's SHA-256 and size):

- ``database/registry.sqlite`` (SQLite's online backup API) or
  ``database/registry.pgdump`` (``pg_dump --format=custom`` of a snapshot),
  with the Alembic revision and each table's row count in the manifest
  (registry/backup.py);
- ``home/keys/*``: the software backend's key files, as they are at rest:
  each private key encrypted under the master key (keys/software.py);
- ``audit/anchor.pem`` and ``audit/checkpoints.jsonl``: the certificates the
  audit checkpoints verify under, and the exported checkpoints (issue 18);
- ``signing-policy.json`` when one is in force.

What it does not hold, on purpose: the master key (``master.key`` or
QOLTANBA_MASTER_KEY: kept apart, or the archive would open its own keys),
``bootstrap-admin.key`` and the PKCS#11 PIN file (secrets), and keys in a
PKCS#11 token: they never leave the HSM. The manifest lists the token's key
labels instead, and ``restore`` refuses to start when the token it is
configured with lacks any of them: back the token up with its vendor's
procedure (docs/DEPLOYMENT.md).

``restore`` goes onto an empty home and an empty database only; it checks
every digest first, then that the master key opens every restored key,
restores the database, upgrades it to this release's schema, compares every
table's row count with the manifest's and verifies the audit trail
(ca/audit_verification.py). Both commands write an audit entry.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.common import DEFAULT_HOME, EXIT_BAD_INPUT, EXIT_FAILED, ActorOpt, Home, commands, emit, fail, \
    open_services

if TYPE_CHECKING:
    from api.wiring import Services

app = commands()
SQLITE, PGDUMP = "database/registry.sqlite", "database/registry.pgdump"


def _home_files(services: "Services") -> dict[str, Path]:
    """Archive name -> file, for what of the home the archive keeps."""
    s = services.settings
    files = {}
    keys = s.home / "keys"
    if keys.is_dir():
        files.update({f"home/keys/{p.name}": p for p in sorted(keys.iterdir())
                      if p.is_file() and p.suffix in (".key", ".json")})
    for name, path in (("audit/anchor.pem", s.resolved_audit_anchor_file),
                       ("audit/checkpoints.jsonl", s.resolved_audit_export_file),
                       ("signing-policy.json", services.signing_policy_path)):
        if path.is_file():
            files[name] = path
    return files


def _targets(services: "Services") -> dict[str, Path]:
    """Where each kind of member goes on the home being restored."""
    s = services.settings
    return {"home/keys/": s.home / "keys", "audit/anchor.pem": s.resolved_audit_anchor_file,
            "audit/checkpoints.jsonl": s.resolved_audit_export_file,
            "signing-policy.json": services.signing_policy_path}


def _target(targets: dict[str, Path], name: str) -> Path:
    if name.startswith("home/keys/"):
        return targets["home/keys/"] / name.removeprefix("home/keys/")
    return targets[name]


def _hsm_labels(services: "Services") -> list[str]:
    if services.settings.key_backend != "pkcs11":
        return []
    return sorted(info.label for info in services.backend.list_keys())


@app.command()
def backup(out: Annotated[Path, typer.Option("--out", help="The archive to write (.tar.gz).")],
           actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Write the registry and the home's keys into one archive, with a manifest of SHA-256 digests."""
    from registry.archive import write_archive
    from registry.backup import BackupError, dump

    if out.exists() or not out.parent.is_dir():
        fail(EXIT_BAD_INPUT, f"{out} exists already or its directory does not: the archive is never overwritten")
    with open_services(home, seal=False) as services, tempfile.TemporaryDirectory(prefix="qoltanba-backup-") as work:
        url = services.settings.resolved_database_url
        kind_file = SQLITE if url.startswith("sqlite") else PGDUMP
        dumped = Path(work) / "registry"
        try:
            info = dump(url, dumped)
        except BackupError as error:
            fail(EXIT_FAILED, str(error))
        now = services.clock.now()
        manifest = {"created_at": now.isoformat(), "database": {"kind": info.kind, "member": kind_file,
                                                                "revision": info.revision, "rows": info.rows},
                    "key_backend": services.settings.key_backend, "hsm_keys": _hsm_labels(services),
                    "master_key": "not included: restore with the same QOLTANBA_MASTER_KEY or master key file"}
        files = {kind_file: dumped, **_home_files(services)}
        sha256 = write_archive(out, files, manifest)
        with services.registry.transaction() as tx:
            tx.audit.append(at=now, actor=actor, action="registry.backed_up", subject=f"backup:{sha256[:16]}",
                            details={"sha256": sha256, "database": info.kind, "revision": info.revision,
                                     "audit_entries": info.rows.get("audit_log", 0), "files": len(files)})
    emit({"archive": out, "sha256": sha256, "database": info.kind, "revision": info.revision,
          "certificates": info.rows.get("certificates", 0), "documents": info.rows.get("documents", 0),
          "audit_entries": info.rows.get("audit_log", 0), "files": len(files)})


@app.command()
def restore(archive: Annotated[Path, typer.Argument(help="An archive written by `qoltanba backup`.")],
            actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Restore an archive onto an empty home and an empty database (QOLTANBA_DATABASE_URL), then check it."""
    from registry.archive import ArchiveError, read_archive

    with tempfile.TemporaryDirectory(prefix="qoltanba-restore-") as work:
        try:
            found = read_archive(archive, Path(work))
        except (ArchiveError, OSError) as error:
            fail(EXIT_BAD_INPUT, str(error))
        with open_services(home, migrated=False) as services:
            summary = _restore(services, found, actor)
    emit(summary)
    if not summary["audit_intact"]:
        fail(EXIT_FAILED, "restored, but the audit trail does not verify: run `qoltanba audit verify --json`")


def _restore(services: "Services", found, actor: str) -> dict:  # noqa: ANN001 - registry.archive.Archive
    from registry.backup import BackupError, restore as restore_database, row_counts

    manifest = found.manifest
    database = manifest["database"]
    targets = _targets(services)
    members = {name: path for name, path in found.members.items() if name != database["member"]}
    present = [str(_target(targets, n)) for n in members if _target(targets, n).exists()]
    if present:
        fail(EXIT_BAD_INPUT, f"the home is not empty: {present[0]} exists; restore onto an empty home")
    missing = sorted(set(manifest.get("hsm_keys") or []) - set(_hsm_labels(services)))
    if manifest.get("hsm_keys") and services.settings.key_backend != "pkcs11":
        fail(EXIT_BAD_INPUT, "the archive's keys are in a PKCS#11 token: configure QOLTANBA_KEY_BACKEND=pkcs11")
    if missing:
        fail(EXIT_BAD_INPUT, f"the PKCS#11 token lacks {len(missing)} of the archive's keys, e.g. {missing[0]}")
    written = []
    try:
        for name, path in sorted(members.items()):
            target = _target(targets, name)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copyfile(path, target)
            target.chmod(0o600)
            written.append(target)
        if services.settings.key_backend == "software":
            services.backend.verify_master()   # every key decrypted: a wrong master key stops here
        restore_database(services.settings.resolved_database_url, found.members[database["member"]],
                         database["kind"])
    except BackupError as error:
        _undo(written)
        fail(EXIT_BAD_INPUT, str(error))
    except Exception as error:  # noqa: BLE001 - a key the master key does not open, say: nothing stays written
        _undo(written)
        fail(EXIT_BAD_INPUT, f"nothing restored: {type(error).__name__}: {error}")
    counts = row_counts(services.settings.resolved_database_url)
    differ = sorted(t for t, n in database["rows"].items() if counts.get(t) != n)
    if differ:
        fail(EXIT_FAILED, f"the restored database differs from the manifest in {', '.join(differ)}")
    services.migrate()   # an archive of an earlier release: its schema brought to this one's
    report = services.audit_checkpoints.verify()
    now = services.clock.now()
    with services.registry.transaction() as tx:
        tx.audit.append(at=now, actor=actor, action="registry.restored", subject=f"backup:{found.sha256[:16]}",
                        details={"sha256": found.sha256, "created_at": manifest.get("created_at"),
                                 "revision": database["revision"], "audit_intact": report.intact})
    return {"restored": True, "home": services.settings.home.resolve(), "sha256": found.sha256,
            "created_at": manifest.get("created_at"), "database": database["kind"],
            "revision": database["revision"], "certificates": counts.get("certificates", 0),
            "documents": counts.get("documents", 0), "audit_entries": counts.get("audit_log", 0),
            "files": len(written), "audit_intact": report.intact,
            "restored_at": now.isoformat() if isinstance(now, dt.datetime) else now}


def _undo(written: list[Path]) -> None:
    for path in written:
        path.unlink(missing_ok=True)


__all__ = ["app"]
