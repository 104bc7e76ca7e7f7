"""How many verifications one source may have at once (issue 18, finding 9).

The sandbox runs a few workers per serving process; a verification may
hold one for up to its time limit (30 s). Without a quota, one client
sending two PDFs near that limit held both workers, and everyone else
waited, then got 503. A ``SourceQuota`` admits at most ``per_source``
verifications per source (the client address, for the public routes),
counting those waiting for a worker as well as those running, and refuses
the next at once. With the quota below the worker count, one source always
leaves a worker to the others, and no source has more than ``per_source``
places in the wait for a worker, so waiting is shared fairly between
sources.

Refusing at once rather than queueing the surplus: a queued request holds
an HTTP connection and a server thread for nothing (the source's own
verification is what it waits for), and a source that can queue any number
of requests takes the queue's places from the others. The client is told
when to try again; its earlier request answering is the real signal.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from ca.errors import QoltanbaError

# The seconds a refused source is told to wait: most verifications answer in about a second, and a client
# that retries sooner than its own running one ends is only refused again (and spends its rate limit).
RETRY_AFTER_SECONDS = 1


class VerificationQuotaExceeded(QoltanbaError):
    """The source already has its quota of verifications admitted; 429 with ``retry_after`` at the edge."""

    def __init__(self, per_source: int, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        running = "1 verification" if per_source == 1 else f"{per_source} verifications"
        super().__init__("rate-limited", f"this address already has {running} running or waiting, the most it "
                                         "may have at once; send the next when one has answered", [])
        self.retry_after = retry_after


class SourceQuota:
    """At most ``per_source`` admissions at once per source key; memory only for sources admitted now."""

    def __init__(self, per_source: int) -> None:
        if per_source < 1:
            raise ValueError("a source must be allowed at least one verification")
        self.per_source = per_source
        self._admitted: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def admit(self, source: str) -> Iterator[None]:
        """Hold one of ``source``'s places for the block, or raise ``VerificationQuotaExceeded`` at once."""
        with self._lock:
            held = self._admitted.get(source, 0)
            if held >= self.per_source:
                raise VerificationQuotaExceeded(self.per_source)
            self._admitted[source] = held + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._admitted[source] - 1
                if left:
                    self._admitted[source] = left
                else:
                    del self._admitted[source]

    def admitted(self, source: str) -> int:
        """How many verifications ``source`` has running or waiting now."""
        with self._lock:
            return self._admitted.get(source, 0)


__all__ = ["RETRY_AFTER_SECONDS", "SourceQuota", "VerificationQuotaExceeded"]
