"""The suite's temporary files in memory (tmpfs) when the machine has room for them (issue 21: test time).

Every test writes a home (key files, a SQLite registry), servers write logs,
tools write temp files: a full run creates tens of thousands of files and
deletes them again. On ext4, once many inodes were recently deleted nearby,
creating a file cost about 0.5 ms of CPU (measured on this project's 2-core
machine: 2 000 small files in /tmp took 1.08 s, in /dev/shm 0.02 s), a
minute of the suite's CPU. /dev/shm (tmpfs) has no such cost. A run's
temporary files take about 0.5 GB; pytest keeps those of its last three
runs, so memory is used only when it has ``ROOM`` free; otherwise, and with
``QOLTANBA_TEST_TMPDIR=disk``, the system's temp dir as before.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

MEMORY = Path("/dev/shm")
ROOM = 4 << 30
CHOICE = "QOLTANBA_TEST_TMPDIR"


def has_room(path: Path = MEMORY, room: int = ROOM) -> bool:
    """``path`` is a writable directory with at least ``room`` bytes free."""
    try:
        free = os.statvfs(path)
    except OSError:
        return False
    return free.f_bavail * free.f_frsize >= room and os.access(path, os.W_OK | os.X_OK)


def use_memory_for_temp_files() -> Path | None:
    """Point TMPDIR (this process's and its children's) into memory when there is room; the directory or None."""
    if os.environ.get(CHOICE, "").strip().lower() == "disk" or not has_room():
        return None
    directory = MEMORY / f"qoltanba-tests-{os.getuid()}"
    directory.mkdir(mode=0o700, exist_ok=True)
    os.environ["TMPDIR"] = str(directory)
    tempfile.tempdir = None   # read TMPDIR again
    return directory
