"""Served workers keep to one CPU each (issue 17; api/http/workers.py): slots claimed by flock, given back
when a worker dies, and CPUs handed out slot by slot."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from api.http.workers import pin_worker

ALLOWED = sorted(os.sched_getaffinity(0))
ROOT = Path(__file__).resolve().parents[2]

# A worker stand-in: pins itself, starts a thread, prints its CPU and its thread's, then waits to be told to go.
WORKER = textwrap.dedent("""
    import os, sys, threading
    from pathlib import Path
    from api.http.workers import pin_worker
    cpu = pin_worker(Path(sys.argv[1]))
    later = []
    thread = threading.Thread(target=lambda: later.append(sorted(os.sched_getaffinity(0))))
    thread.start(); thread.join()
    print(cpu, sorted(os.sched_getaffinity(0)), later[0], flush=True)
    sys.stdin.read()
""")


def _start(directory: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-c", WORKER, str(directory)], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


@pytest.mark.skipif(len(ALLOWED) < 2, reason="one CPU: nothing to pin (the next test covers it)")
def test_workers_take_the_cpus_in_turn_and_a_dead_workers_slot_goes_to_the_next(tmp_path) -> None:
    started = [_start(tmp_path) for _ in range(len(ALLOWED) + 1)]
    try:
        for slot, (_process, line) in enumerate(started):
            cpu = ALLOWED[slot % len(ALLOWED)]
            # the CPU chosen, the process's, and a thread started after: all that one CPU
            assert line == f"{cpu} [{cpu}] [{cpu}]"
        second, _line = started[1]
        second.kill()
        second.wait()
        replacement, line = _start(tmp_path)   # the lowest free slot: the dead one's, so its CPU
        started[1] = (replacement, line)
        assert line == f"{ALLOWED[1]} [{ALLOWED[1]}] [{ALLOWED[1]}]"
    finally:
        for process, _line in started:
            process.kill()
            process.wait()


def test_one_cpu_pins_nothing(tmp_path) -> None:
    """A process allowed one CPU has nothing to choose: no slot is claimed, its affinity stays."""
    script = ("import os, sys; from pathlib import Path; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
              "from api.http.workers import pin_worker; print(pin_worker(Path(sys.argv[1])))")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "None"
    assert not list(tmp_path.iterdir())


def test_a_process_pins_once(tmp_path, monkeypatch) -> None:
    """A second call in a pinned process claims nothing more (the app factory may be called again)."""
    import api.http.workers as workers

    monkeypatch.setattr(workers, "_held", [object()])
    assert pin_worker(tmp_path / "cpus") is None
    assert not (tmp_path / "cpus").exists()


@pytest.mark.skipif(len(ALLOWED) < 2, reason="one CPU: nothing to widen")
def test_a_verification_child_of_a_pinned_worker_may_use_every_cpu(tmp_path) -> None:
    """A pinned worker's children inherit its one CPU; the verification sandbox's job widens itself again to
    every CPU the host allows (signing/verification/sandbox.py), so verifications are not squeezed onto the
    worker's core. Run as the job runs: in a process forked from a pinned one."""
    script = textwrap.dedent("""
        import multiprocessing, os, sys
        from pathlib import Path
        from api.http.workers import pin_worker
        from signing.verification import sandbox
        cpu = pin_worker(Path(sys.argv[1]))
        def child(queue):
            before = sorted(os.sched_getaffinity(0))
            sandbox._any_cpu()
            queue.put((before, sorted(os.sched_getaffinity(0))))
        queue = multiprocessing.get_context("fork").Queue()
        process = multiprocessing.get_context("fork").Process(target=child, args=(queue,))
        process.start(); print(cpu, *queue.get()); process.join()
    """)
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == f"{ALLOWED[0]} [{ALLOWED[0]}] {ALLOWED}"
