"""Preparing the home while the server already listens: ``qoltanba serve`` (start-up, issue 21).

``qoltanba serve`` used to migrate and initialise the home, import the
whole application and build its services before the server listened. Now
it hands that preparation to ``begin`` and starts the server at once: the
app factory (``api.http.app.create_app``), seeing a preparation under way,
returns the starting app (``api.http.starting``), which answers ``GET
/livez`` as soon as the server listens, runs the preparation in a worker
thread, then builds the real application and hands every request to it.
Until then any other request is answered 503 with ``Retry-After``, so
``GET /health`` still means "ready".

Whoever asks first runs the preparation, once: the starting app when the
server starts, or ``Preparation.finish`` (serve, after the server stopped)
when it never started. A failure stops the server (``stop_server``) and is
raised again by ``finish``, so ``serve`` exits as it always did: one
``error:`` line and its exit code.

Shared by the CLI and HTTP rooms, so it imports neither (import-linter).
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Preparation:
    """The work to do before the application can be built, run once by whoever asks first."""

    def __init__(self, work: Callable[[], None], stop_server: Callable[[], None]) -> None:
        self._work = work
        self._stop_server = stop_server
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._started = False
        self._failure: BaseException | None = None

    def run(self) -> None:
        """Run the work (or wait for the run under way); raises its failure."""
        with self._lock:
            first, self._started = not self._started, True
        if first:
            try:
                self._work()
            except BaseException as failure:   # noqa: BLE001 - kept for finish(), which raises it again
                self._failure = failure
            finally:
                self._done.set()
        self._done.wait()
        if self._failure is not None:
            raise self._failure

    def fail(self, failure: BaseException) -> None:
        """The server cannot serve (the preparation or the application failed): stop it, keep the reason."""
        if self._failure is None:
            self._failure = failure
        self._stop_server()

    @property
    def failed(self) -> bool:
        return self._failure is not None

    def finish(self) -> None:
        """After the server stopped: run the work if nobody did, wait for it, raise any failure."""
        global _current
        try:
            self.run()
        finally:
            if _current is self:
                _current = None   # the process serves no more; a later app is built at once


_current: Preparation | None = None


def begin(work: Callable[[], None], stop_server: Callable[[], None]) -> Preparation:
    """A preparation for the app this process is about to serve (``qoltanba serve``)."""
    global _current
    _current = Preparation(work, stop_server)
    return _current


def current() -> Preparation | None:
    """The preparation under way in this process, if ``qoltanba serve`` began one."""
    return _current


__all__ = ["Preparation", "begin", "current"]
