"""scripts/lockcheck.py, run by `make test` (issue 22): the lock files must match pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "lockcheck.py", tmp_path / "scripts")
    for name in ("pyproject.toml", "requirements.lock", "requirements-dev.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def check(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(project / "scripts" / "lockcheck.py")], capture_output=True,
                          text=True, timeout=60)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_issue22_the_committed_locks_match_pyproject(project: Path) -> None:
    done = check(project)
    assert done.returncode == 0, done.stderr
    assert "match pyproject.toml" in done.stdout


def test_issue22_a_requirement_added_to_pyproject_needs_make_lock(project: Path) -> None:
    edit(project / "pyproject.toml", '"argon2-cffi>=23.1",', '"argon2-cffi>=23.1",\n    "rich>=13",')
    done = check(project)
    assert done.returncode == 2
    assert "requirements.lock was locked for other requirements than pyproject.toml's" in done.stderr
    assert "make lock" in done.stderr


def test_issue22_a_pin_outside_its_range_or_without_hash_or_unlike_the_dev_lock_is_named(project: Path) -> None:
    lock = project / "requirements.lock"
    text = lock.read_text()
    pin = next(line for line in text.splitlines() if line.startswith("fastapi=="))
    edit(lock, pin, "fastapi==0.100.0 \\")
    done = check(project)
    assert done.returncode == 2
    assert "pins fastapi==0.100.0, outside pyproject.toml's fastapi>=0.110" in done.stderr
    assert "requirements.lock pins fastapi==0.100.0 but requirements-dev.lock" in done.stderr


def test_issue22_the_runtime_lock_carries_no_test_tool(project: Path) -> None:
    dev = (project / "requirements-dev.lock").read_text().splitlines()
    start = next(i for i, line in enumerate(dev) if line.startswith("pytest=="))
    end = next(i for i in range(start + 1, len(dev)) if not dev[i].startswith(" "))
    with (project / "requirements.lock").open("a") as lock:
        lock.write("\n".join(dev[start:end]) + "\n")
    done = check(project)
    assert done.returncode == 2
    assert "requirements.lock carries the test tool pytest" in done.stderr


def test_issue22_the_runtime_lock_is_what_make_install_uses_and_has_no_test_tools() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes --no-deps" in makefile and "-r requirements.lock" in makefile
    runtime = (ROOT / "requirements.lock").read_text()
    for tool in ("pytest==", "pytest-xdist==", "schemathesis==", "hypothesis=="):
        assert f"\n{tool}" not in runtime
