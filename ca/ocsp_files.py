"""Pre-signed OCSP answers as files a plain web server serves (issue 17, item 1).

RFC 6960 appendix A.1: an OCSP GET is ``{url}/{url-encoding of base-64
encoding of the DER OCSPRequest}``. For a request the responder answered
and keeps (``OCSPResponder._store``), the answer is written to
``<directory>/<centre>/<standard base64 of the request>``, so nginx finds
it at the request's own path (``try_files $uri``: nginx decodes ``%2B``,
``%2F`` and ``%3D`` before looking; a ``/`` inside the base64 is a
sub-directory, which is where the path's ``/`` leads too) and only a miss
reaches the application, which signs, keeps and writes the answer. A
request whose base64 ends in ``/`` (its GET path ends in ``/``, where nginx
looks for a directory) gets no file: the application answers it each time.

Each file is written atomically (a temporary name, then ``rename``), so a
reader gets the old answer or the new one, never half of one.

Revocation, from any process on any host: every file about a certificate
is listed in an index (``<index>/<centre id>-<serial>/<sha256 of the
request>`` holding the file's path), written before the file. Each serving
process applies every revocation it sees (``OCSPResponder.revoked``: its
own listener call or its watch of the registry's revocation sequence,
every 0.2 s), and ``forget`` removes every file the index names for that
certificate, whichever process wrote it: nginx then asks the application,
which answers "revoked". Files are also removed when half their validity
has passed (``sweep``, the housekeeper's), when the responder would have
signed them again anyway.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


class OCSPFiles:
    """The directory a web server serves at ``/ocsp/``, and the index of its files by certificate."""

    def __init__(self, directory: Path, index: Path) -> None:
        self.directory = directory
        self.index = index

    @classmethod
    def beside(cls, directory: Path) -> "OCSPFiles":
        """The served directory, its index beside it (``<directory>-index``: not under what is served)."""
        return cls(directory, directory.with_name(directory.name + "-index"))

    def relative_path(self, code: str, request: bytes) -> str:
        return f"{code}/{base64.b64encode(request).decode()}"

    def path_of(self, code: str, request: bytes) -> Path:
        return self.directory / self.relative_path(code, request)

    def write(self, code: str, request: bytes, der: bytes, certs: Iterable[tuple[int, str]]) -> bool:
        """The answer to exactly these request bytes, at the request's GET path; False when it cannot be."""
        relative = self.relative_path(code, request)
        if relative.endswith("/"):
            # A base64 ending in "/" is a GET path ending in "/", where nginx's try_files looks for a directory:
            # no file could be served there, so those requests are the application's to answer, every time.
            return False
        name = hashlib.sha256(request).hexdigest()
        try:
            for centre_id, serial in certs:   # the index first: a revocation seen meanwhile finds the file
                _atomic_write(self.index / f"{centre_id}-{serial}" / name, relative.encode())
            _atomic_write(self.directory / relative, der)
        except OSError as error:   # a name too long, a path component that is a file: nginx asks the app
            log.debug("OCSP answer not written as a file: %s", error.strerror)
            return False
        return True

    def forget(self, centre_id: int, serial: str) -> int:
        """Remove every file about this certificate, whoever wrote it; returns how many index entries."""
        folder = self.index / f"{centre_id}-{serial}"
        try:
            entries = list(folder.iterdir())
        except FileNotFoundError:
            return 0
        for entry in entries:
            try:
                relative = entry.read_text()
            except FileNotFoundError:
                continue   # another process forgot it first
            target = (self.directory / relative).resolve()
            if target.is_relative_to(self.directory.resolve()):
                target.unlink(missing_ok=True)
            entry.unlink(missing_ok=True)
        return len(entries)

    def sweep(self, older_than: dt.timedelta) -> int:
        """Remove answers written longer ago than ``older_than`` (and index entries twice that old)."""
        now = time.time()
        removed = 0
        for root, limit in ((self.directory, older_than), (self.index, older_than * 2)):
            cutoff = now - limit.total_seconds()
            for folder, _dirs, files in os.walk(root):
                for name in files:
                    path = Path(folder) / name
                    try:
                        if path.stat().st_mtime < cutoff:
                            path.unlink()
                            removed += root is self.directory
                    except FileNotFoundError:
                        continue
        return removed


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{os.getpid()}.{threading.get_ident()}.{time.monotonic_ns()}.tmp"
    with open(tmp, "wb") as file:
        file.write(data)
    os.replace(tmp, path)


__all__ = ["OCSPFiles"]
