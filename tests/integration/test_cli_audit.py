"""`qoltanba audit verify` and `audit checkpoint` on a home (issue 8)."""

from __future__ import annotations

import json
import sqlite3

from tests.support.server import prepare_home


def test_audit_verify_exit_codes_and_the_entry_it_names(tmp_path) -> None:
    home = prepare_home(tmp_path / "home")
    made = json.loads(home.cli("audit", "checkpoint").stdout)
    assert made["checkpoint"] == 1 and made["last_entry"] > 1
    ok = home.cli("audit", "verify")
    assert ok.returncode == 0 and "intact" in ok.stdout
    with sqlite3.connect(home.path / "registry.db") as db:
        db.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
    broken = home.cli("audit", "verify", "--json", check=False)
    assert broken.returncode == 1
    report = json.loads(broken.stdout)
    assert report["intact"] is False and report["findings"][0]["entry"] == 2
    human = home.cli("audit", "verify", check=False)
    assert human.returncode == 1 and human.stdout.startswith("entry 2:")
