"""Verification in a child process with a time and memory limit, for hostile input.

A PDF is a graph an attacker draws: object loops, deep nesting, streams
that decompress a thousandfold, cross-reference tables that send the parser
round in circles. pyHanko's decode limits and strict reader stop most of
it; the child process stops the rest. Each verification runs in a fresh
process with an address-space limit (RLIMIT_AS) and a CPU-time limit
(RLIMIT_CPU), and is killed when it overruns its wall-clock time. A crash,
an exhausted limit or a timeout becomes an ``UnverifiableInput`` with one
sentence saying which.

Children come from a fork server that has imported pyHanko and the
verification modules once (``forkserver`` start method; its preload is
signing/verification/preload.py), so a child starts in a few milliseconds
and inherits no threads, locks or database connections of the serving
process. Each verification forks the next one's worker ahead (at most
``workers`` wait), which waits for its one job on a pipe: a verification
does not wait for a fork. A worker verifies once and exits, as before.
Its answer comes back as JSON text, never a pickle: the caller does not
unpickle what a process that parsed hostile input sends. A single-threaded caller (the command
line) may use plain ``fork``, and may fork its one worker early
(``start_worker``, before it reads its settings): the worker imports the
verifier while the caller reads the settings and the trust store, then
waits for its job on the pipe and runs it exactly as a worker forked at
once would, under the same limits, set when the job arrives (start-up,
issue 21). Forked before the caller opened anything, it inherits less.

At most ``workers`` children run at once; a request that cannot get a slot
within ``queue_seconds`` is refused as busy, so a flood of uploads cannot
fork the host to death (the HTTP route also rate-limits per client). A
verification naming its ``source`` (the HTTP routes: the client address)
is admitted only within that source's quota of ``per_source`` running or
waiting (signing/verification/quota.py), so one source cannot hold every
worker (issue 18, finding 9).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from ca.errors import Problem, QoltanbaError
from signing.verification.early import EarlyWorker, start_worker, waiting_worker
from signing.verification.inputs import (
    TrustAnchors,
    UnverifiableInput,
    VerificationLimits,
    VerificationOptions,
    check_size,
)
from signing.verification.quota import SourceQuota
from signing.verification.words import OUR_FAULT

log = logging.getLogger(__name__)
MiB = 1024 * 1024
# How long a worker that answered may take to exit before it is killed (it has nothing left to do but exit).
EXIT_GRACE_SECONDS = 1.0


class VerificationBusy(QoltanbaError):
    def __init__(self) -> None:
        super().__init__("unavailable", "every verification worker is busy; try again in a few seconds", [])


@dataclass(frozen=True)
class SandboxLimits:
    timeout_seconds: float = 30.0
    memory_bytes: int = 1024 * MiB
    workers: int = 2
    queue_seconds: float = 10.0
    per_source: int = 1

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0 or self.queue_seconds < 0:
            raise ValueError("the verification timeout must be positive")
        if self.memory_bytes < 256 * MiB:
            raise ValueError("a verification worker needs at least 256 MiB of address space")
        if self.workers < 1:
            raise ValueError("at least one verification worker")
        # Below the worker count, one source always leaves a worker to the others; one worker is the
        # exception that cannot keep that promise (and a quota of one is the least there is).
        if not 1 <= self.per_source <= max(1, self.workers - 1):
            raise ValueError("a source's verifications at once must be at least 1 and below the worker count")


@dataclass(frozen=True)
class _Job:
    data: bytes
    detached: bytes | None
    options: VerificationOptions
    anchors: tuple[bytes, ...]
    limits: VerificationLimits
    memory_bytes: int
    cpu_seconds: int


def _mapped_bytes() -> int:
    """The process's virtual size now (Linux /proc/self/statm), 0 where it cannot be read."""
    import resource

    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _any_cpu() -> None:
    """A served worker keeps to one CPU (api/http/workers.py) and its children inherit that; a verification
    is a process of its own, so it may run on any CPU the host gives (the kernel keeps to a cpuset's)."""
    try:
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
    except (AttributeError, OSError):   # not Linux, or no such CPU allowed: stay where we are
        pass


def run_job(connection, job: _Job) -> None:  # noqa: ANN001 - multiprocessing Connection
    """In the child: limit ourselves, verify, send back ("report", json) or ("unverifiable", reason)."""
    import resource

    try:
        # The limit counts from what the worker already maps: a forked child inherits its parent's address
        # space (libraries, the stacks reserved for every thread the parent ever had), and a cap below that
        # would leave no room even for the stack to grow — a segfault, not a refusal.
        limit = _mapped_bytes() + job.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (job.cpu_seconds, job.cpu_seconds + 1))
    except (ValueError, OSError) as exc:  # pragma: no cover - a platform without these limits
        log.warning("verification worker runs without resource limits: %s", exc)
    _any_cpu()
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    try:
        from signing.verification.verifier import Verifier   # imported already: preloaded, or by an early worker

        verifier = Verifier(TrustAnchors.from_der(job.anchors), job.limits)
        report = verifier.verify(job.data, detached=job.detached, options=job.options)
        answer: tuple[str, Any] = ("report", report.as_json())
    except UnverifiableInput as exc:
        # The problems travel too: a refused container lists every reason (asic.py's ContainerRefused).
        answer = ("unverifiable", (exc.detail, [(p.field, p.message) for p in exc.problems]) if exc.problems
                  else exc.detail)
    except MemoryError:
        answer = ("unverifiable", "the input needs more memory than a verification may use")
    except BaseException as exc:  # noqa: BLE001 - the child's last word, whatever happened
        # Whatever reaches here is a bug of ours (the verifier turns the
        # parsers' failures into UnverifiableInput): log it, answer anyway.
        log.error("verification failed unexpectedly", exc_info=exc)
        answer = ("unverifiable", OUR_FAULT)
    try:
        # JSON text, not a pickle: the caller never unpickles what a worker that parsed hostile input says.
        connection.send_bytes(json.dumps(answer).encode())
    finally:
        connection.close()
        _leave()


def _leave() -> None:
    """The worker's end once it has answered: its output flushed, then gone at once.

    No interpreter or multiprocessing teardown: a worker holds nothing to save, and its caller, which has
    the answer already, neither waits for it nor needs it (sandbox.py reaps it later).
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):   # pragma: no cover - a closed or absent stream
            pass
    os._exit(0)


def _dismiss(spares: list[EarlyWorker]) -> None:
    """Let waiting workers go: with our end of its pipe closed, a worker that has no job exits."""
    while spares:
        spare = spares.pop()
        spare.connection.close()
        spare.process.join(0)


def _refusal(value: Any) -> UnverifiableInput:
    """The child's refusal: a sentence, or a sentence and its problems (field, message).

    It came as JSON, so the pair is a list; anything else of another shape is a worker gone wrong.
    """
    if isinstance(value, str):
        return UnverifiableInput(value)
    try:
        detail, problems = value
        refused = UnverifiableInput(str(detail))
        refused.problems = [Problem(str(field), str(message)) for field, message in problems]
    except (TypeError, ValueError):
        return UnverifiableInput(OUR_FAULT)
    return refused


class SandboxedVerifier:
    """``Verifier.verify`` in a limited child process; answers the report as JSON."""

    def __init__(self, anchors_source, limits: VerificationLimits | None = None,  # noqa: ANN001
                 sandbox: SandboxLimits | None = None, start_method: str = "forkserver",
                 early: EarlyWorker | None = None) -> None:
        """``anchors_source()`` returns the trust anchors to use, asked once per verification.

        ``early``: a worker ``start_worker`` forked already, used for the first verification.
        """
        self.anchors_source = anchors_source
        self.limits = limits or VerificationLimits()
        self.sandbox = sandbox or SandboxLimits()
        self.context = multiprocessing.get_context(start_method)
        self.early = early
        # Fork server only: workers forked ahead, each waiting for one job (a fork-mode caller's state would
        # be copied at the wrong time). At most ``workers`` wait; each verification forks the next one.
        self._spares: list[EarlyWorker] = []
        self._spares_lock = threading.Lock()
        # Workers that answered and are exiting on their own, with when they answered: reaped later.
        self._exiting: list[tuple[Any, float]] = []
        self._ahead = start_method == "forkserver"
        if self._ahead:
            # The server imports the main module and the verifier once (signing/verification/preload.py), so a
            # child neither re-imports the main module nor pays for pyHanko's signing side.
            # It then verifies a sample once and freezes what it holds (signing/verification/warm.py), so each
            # child starts with what a first verification builds, not cold.
            self.context.set_forkserver_preload(["__main__", "signing.verification.warm"])
            weakref.finalize(self, _dismiss, self._spares)
        self._slots = threading.BoundedSemaphore(self.sandbox.workers)
        self.quota = SourceQuota(self.sandbox.per_source)

    def verify(self, data: bytes, *, detached: bytes | None = None, options: VerificationOptions | None = None,
               extra_anchors: TrustAnchors | None = None, source: str | None = None) -> dict[str, Any]:
        """The report as JSON; ``source`` (a client address) is held to its quota, ``None`` (the CLI) is not.

        Raises ``VerificationQuotaExceeded`` at once past the source's quota, ``VerificationBusy`` when no
        worker came free in time, ``UnverifiableInput`` when the input cannot be verified.
        """
        # The size is checked here too, so an oversized upload is never copied to a child.
        check_size(self.limits, data, detached)
        if source is None:
            return self._verify(data, detached, options, extra_anchors)
        with self.quota.admit(source):
            return self._verify(data, detached, options, extra_anchors)

    def _verify(self, data: bytes, detached: bytes | None, options: VerificationOptions | None,
                extra_anchors: TrustAnchors | None) -> dict[str, Any]:
        anchors: TrustAnchors = self.anchors_source()
        if extra_anchors is not None:
            anchors = anchors.plus(extra_anchors)
        job = _Job(bytes(data), detached, options or VerificationOptions(), anchors.der(), self.limits,
                   self.sandbox.memory_bytes, int(self.sandbox.timeout_seconds) + 1)
        if not self._slots.acquire(timeout=self.sandbox.queue_seconds):
            raise VerificationBusy()
        try:
            kind, value = self._run(job)
        finally:
            self._slots.release()
        if kind != "report":
            raise _refusal(value)
        return value

    def close(self) -> None:
        """Let the workers waiting for a job go (a later verification forks again); reap those that answered."""
        with self._spares_lock:
            _dismiss(self._spares)
        self._reap(wait=EXIT_GRACE_SECONDS)

    def _reap(self, wait: float = 0.0) -> None:
        """Collect the exits of workers that answered; one still running ``EXIT_GRACE_SECONDS`` after is killed.

        ``wait`` 0 only polls (each verification starts with that); ``close`` waits a little, then kills.
        """
        with self._spares_lock:
            exiting, self._exiting = self._exiting, []
        left = []
        for process, answered in exiting:
            process.join(wait)
            if process.exitcode is None and (wait or time.monotonic() - answered > EXIT_GRACE_SECONDS):
                process.kill()
                process.join(wait)
            if process.exitcode is None:
                left.append((process, answered))
        with self._spares_lock:
            self._exiting.extend(left)

    def _waiting(self) -> EarlyWorker:
        """A worker forked ahead and waiting for its job, or one forked now."""
        with self._spares_lock:
            while self._spares:
                spare = self._spares.pop()
                if spare.process.is_alive():
                    return spare
                spare.connection.close()
                spare.process.join(0)
        return waiting_worker(self.context, forked=False)

    def _fork_ahead(self) -> None:
        """Fork the next verification's worker while this one verifies (the fork server does the work)."""
        with self._spares_lock:
            if len(self._spares) >= self.sandbox.workers:
                return
        spare = waiting_worker(self.context, forked=False)
        with self._spares_lock:
            self._spares.append(spare)

    def _run(self, job: _Job) -> tuple[str, Any]:
        self._reap()
        if self.early is not None or self._ahead:
            if self.early is not None:
                worker, self.early = self.early, None
            else:
                worker = self._waiting()
            process, receiver = worker.process, worker.connection
            try:
                receiver.send(job)
            except (BrokenPipeError, OSError):   # the worker died before its job: say so as for any
                receiver.close()
                process.join(1)
                return "unverifiable", ("the verification worker stopped without an answer (exit code "
                                        f"{process.exitcode}); the input exhausts its limits")
        else:
            receiver, sender = self.context.Pipe(duplex=False)
            process = self.context.Process(target=run_job, args=(sender, job), daemon=True)
            process.start()
            sender.close()
        started = time.monotonic()
        answered = False
        try:
            if self._ahead:
                try:
                    self._fork_ahead()
                except OSError as error:   # the next verification forks its own worker instead
                    log.warning("could not fork a verification worker ahead: %s", error)
            if not receiver.poll(max(0.0, self.sandbox.timeout_seconds - (time.monotonic() - started))):
                return "unverifiable", (f"the verification took longer than {self.sandbox.timeout_seconds:g} "
                                        "seconds and was stopped")
            try:
                kind, value = json.loads(receiver.recv_bytes())
                answered = True
                return kind, value
            except (EOFError, OSError, ValueError, TypeError):
                process.join(1)
                return "unverifiable", ("the verification worker stopped without an answer (exit code "
                                        f"{process.exitcode}); the input exhausts its limits")
        finally:
            receiver.close()
            if answered:   # it exits by itself at once (``_leave``): the answer does not wait for that
                with self._spares_lock:
                    self._exiting.append((process, time.monotonic()))
            else:
                if process.is_alive():
                    process.kill()
                process.join(5)


__all__ = ["EarlyWorker", "SandboxLimits", "SandboxedVerifier", "VerificationBusy", "run_job", "start_worker"]
