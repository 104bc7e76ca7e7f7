"""The application as ``qoltanba serve`` runs it: each worker process on a CPU of its own (issue 17).

A worker is one Python process: its request threads share one interpreter
lock, so it computes on one core at a time whatever it is given. Left to the
scheduler, its threads still move between the cores, each taking the lock
where the last one let it go, and the interpreter's working set follows them
from one core's cache to the other's. On this project's 2-core machine one
worker then spent about 20 % more CPU a complete MFO flow (141.5 ms against
118.6 ms) and completed 7.0 flows a second against 8.1 pinned
(benchmarks/RESULTS.md, "load.py", 2026-12-07 evening).

So each served worker claims a slot, the lowest one free, by holding an
exclusive ``flock`` on ``<home>/run/cpus/slot-N`` for its whole life, and
keeps to CPU ``N mod (the CPUs it may use)``. The kernel lets the lock go
when the process ends, however it ends, so the worker the supervisor starts
in a dead one's place takes its slot and its CPU. Four workers on two CPUs
share them two and two. With one CPU, or ``QOLTANBA_CPU_AFFINITY=false``
(a host whose cores other services need, a container with a CPU quota in
place of a CPU set), nothing is pinned.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("qoltanba.workers")

_SLOTS_PER_CPU = 16      # more workers than this on each CPU are not pinned: nothing would be gained
_held: list[IO[str]] = []   # the claimed slot's open file: its lock lasts as long as the process


def pin_worker(directory: Path) -> int | None:
    """Keep this process's threads, and those it starts later, to one CPU; returns it, or None if none."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):   # not Linux: nothing to pin with
        return None
    if len(allowed) < 2 or _held:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:   # a home that cannot be used: the start-up says so (api/start_up.py); nothing is pinned
        return None
    for slot in range(_SLOTS_PER_CPU * len(allowed)):
        try:
            handle = open(directory / f"slot-{slot}", "a")  # noqa: SIM115 - held open for the process's life
        except OSError:
            return None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        _held.append(handle)
        cpu = allowed[slot % len(allowed)]
        _set_for_every_thread(cpu)
        log.info("worker %d keeps to CPU %d (slot %d)", os.getpid(), cpu, slot)
        return cpu
    return None


def _set_for_every_thread(cpu: int) -> None:
    # sched_setaffinity(0) sets the calling thread's; threads made later inherit it, those made before
    # (the server's own) are set one by one.
    for task in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(task), {cpu})
        except (ProcessLookupError, OSError):   # a thread that ended meanwhile
            continue


def served_app() -> Any:
    """uvicorn's factory under ``qoltanba serve``: the worker pinned (unless the settings say not), then the app."""
    from api.http.app import create_app
    from api.settings import Settings

    settings = Settings()
    if settings.cpu_affinity:
        pin_worker(settings.home / "run" / "cpus")
    return create_app()
