"""`qoltanba keys rotate-master` re-encrypts every software key; the old master key opens none (issue 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _cli(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QOLTANBA_")}
    env.update(QOLTANBA_HOME=str(home), PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True,
                          check=check, timeout=120)


def test_rotate_master_re_encrypts_every_key_and_the_service_keeps_working(tmp_path) -> None:
    home = tmp_path / "home"
    _cli(home, "init")
    old = (home / "master.key").read_text()
    new_file = tmp_path / "new.key"
    new_file.write_text("ab" * 32 + "\n")
    rotated = json.loads(_cli(home, "keys", "rotate-master", "--new-key-file", str(new_file)).stdout)
    assert rotated["keys"] >= 8  # three CAs, OCSP responders, TSA, MFO seal, audit
    assert (home / "master.key").read_text().strip() == "ab" * 32
    assert oct((home / "master.key").stat().st_mode & 0o777) == "0o600"
    # The CAs still sign with the new master key ...
    assert _cli(home, "crl", "--ca", "national", "--out", str(tmp_path / "n.crl"), "--new").returncode == 0
    # ... and no key file opens under the old one any more.
    from keys import MasterKeyMismatch, SoftwareKeyBackend
    from keys.master import decode_master_key

    backend = SoftwareKeyBackend(home / "keys", decode_master_key(old, "old"))
    key_ids = sorted(p.stem for p in (home / "keys").glob("*.key"))
    assert len(key_ids) == rotated["keys"]
    for key_id in key_ids:
        with pytest.raises(MasterKeyMismatch):
            backend.sign(f"soft:{key_id}", b"x", "sha256")
    verified = _cli(home, "audit", "verify", "--json")
    assert json.loads(verified.stdout)["intact"] is True


def test_rotate_master_refuses_a_short_key_and_changes_nothing(tmp_path) -> None:
    home = tmp_path / "home"
    _cli(home, "init")
    before = (home / "master.key").read_text()
    short = tmp_path / "short.key"
    short.write_text("abcd\n")
    result = _cli(home, "keys", "rotate-master", "--new-key-file", str(short), check=False)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert (home / "master.key").read_text() == before
