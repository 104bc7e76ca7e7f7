"""Workers forked before their job is known (start-up, issue 21).

A worker from here prepares itself (signing/verification/preload.py: the
verifier, without pyHanko's signing side), then waits on its pipe for one
job and runs it as a worker forked at once would (``sandbox.run_job``:
the same limits, set when the job arrives). Its caller closing the pipe
without a job lets it exit.

The command line forks its worker first of all (``fork_at_start``, called
by ``api.cli.main`` when the command is ``verify``, before typer, the
settings or anything of ours is imported): the worker imports the verifier
while the command parses its arguments, reads its settings and the home's
trust store. Forked that early, it inherits nothing but the interpreter.
This module imports nothing of the project at its top, so forking costs the
command line only ``multiprocessing``.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EarlyWorker:
    """A worker forked before its job was known, for one verification."""

    process: Any
    connection: Any


def _waiting_child(connection, callers_end) -> None:  # noqa: ANN001 - multiprocessing Connections
    """In the worker: prepare now, then wait for the job and run it as a worker forked at once does."""
    if callers_end is not None:
        callers_end.close()   # inherited by a fork; kept open, the worker would never see its caller go
    from signing.verification.preload import prepare

    prepare()   # the command line's early worker imports here, while its caller reads the trust store
    from signing.verification.sandbox import run_job

    try:
        job = connection.recv()
    except (EOFError, OSError):   # the caller stopped before it had a job (bad input): nothing to do
        connection.close()
        return
    run_job(connection, job)


def waiting_worker(context, forked: bool) -> EarlyWorker:  # noqa: ANN001 - a multiprocessing context
    """Start a worker that waits for its job; ``forked``: plain fork (it inherits our end of the pipe too)."""
    ours, theirs = context.Pipe(duplex=True)
    # A forked worker inherits our end too and closes it; a fork server's child receives only its own.
    process = context.Process(target=_waiting_child, args=(theirs, ours if forked else None), daemon=True)
    process.start()
    theirs.close()
    return EarlyWorker(process, ours)


def start_worker() -> EarlyWorker:
    """Fork one worker now (``fork``: a single-threaded caller, the command line); hand it to ``SandboxedVerifier``."""
    return waiting_worker(multiprocessing.get_context("fork"), forked=True)


_at_start: list[EarlyWorker] = []


def fork_at_start() -> None:
    """The command line, before it imports anything else: fork the worker its verification will use."""
    if not _at_start:
        _at_start.append(start_worker())


def take_worker() -> EarlyWorker:
    """The worker ``fork_at_start`` forked, or one forked now."""
    return _at_start.pop() if _at_start else start_worker()


__all__ = ["EarlyWorker", "fork_at_start", "start_worker", "take_worker", "waiting_worker"]
