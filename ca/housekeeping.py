"""The serving process's own duties, on one daemon thread: what concerns this process's memory only.

Every ``poll`` seconds: apply revocations other processes committed to this
process's OCSP cache (the cross-process "within a second" guarantee). For a
few seconds after it saw another process's revocation, each poll also brings
this host's CRL files up to the newest committed CRLs (``exporter``; issue 17:
workers on several hosts, each host's nginx serving its own files). Every
``sweep`` seconds: remove this host's OCSP answer files half their validity
old (ca/ocsp_files.py). Besides, each of ``duties`` at its own interval (the
summary of the rejected credentials this process counted, ca/auth_failures.py).

Work to be done once for the whole installation (CRL publication, audit
checkpoints, expiry, retention) is not here but in the shared job queue
(ca/jobs.py, issue 17 item 2), so N workers do it once, not N times.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from ca.publication import CRLPublisher
from ca.responder import OCSPResponder

log = logging.getLogger(__name__)


class Housekeeper:
    def __init__(self, responder: OCSPResponder, *, poll: float = 0.2, sweep: float = 60.0,
                 duties: Sequence[tuple[Callable[[], object], float]] = (),
                 exporter: CRLPublisher | None = None) -> None:
        if poll <= 0 or sweep <= 0 or any(every <= 0 for _, every in duties):
            raise ValueError("housekeeping intervals must be positive")
        self.duties = tuple(duties)
        self.exporter = exporter
        self.export_window = 3.0   # seconds of CRL file checks after another process's revocation
        self.responder = responder
        self.poll = poll
        self.sweep = sweep
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.responder.start_watching()
        self._thread = threading.Thread(target=self._run, name="qoltanba-housekeeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        next_sweep = time.monotonic() + self.sweep
        next_duty = [time.monotonic() + every for _, every in self.duties]
        export_until = 0.0
        while not self._stop.wait(self.poll):
            if self._safely(self.responder.watch):
                # Another process (maybe on another host) revoked: its CRLs follow the revocation's commit;
                # this host's files are brought up to date for the next few seconds' polls (issue 17).
                export_until = time.monotonic() + self.export_window
            if self.exporter is not None and time.monotonic() < export_until:
                self._safely(self.exporter.export_latest)
            if time.monotonic() >= next_sweep:
                self._safely(self.responder.sweep_files)
                next_sweep = time.monotonic() + self.sweep
            for index, (duty, every) in enumerate(self.duties):
                if time.monotonic() >= next_duty[index]:
                    self._safely(duty)
                    next_duty[index] = time.monotonic() + every

    @staticmethod
    def _safely(step) -> object:  # noqa: ANN001 - a bound method
        try:
            return step()
        except Exception:  # noqa: BLE001 - one failed round must not end the thread
            log.exception("housekeeping step %s failed", getattr(step, "__name__", step))
            return None
