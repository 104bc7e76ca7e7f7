"""What keeps the audit log honest from outside the database (issue 18).

Someone who can write every row of the registry can delete checkpoints
with the entries they seal, or rewrite the chain and drop every checkpoint.
So each checkpoint also leaves the database:

- ``CheckpointExport``: an append-only JSON-lines file in the home (opened
  in append mode under an exclusive lock, fsync'd), one line per
  checkpoint that verifies on its own with the anchor;
- ``Witness``: optionally, an HTTP POST of the same line to a service
  someone else runs (best effort: a failure is logged, never fatal);
- ``AuditAnchor``: the audit and TSA certificates fixed at ``init``,
  written once to a file in the home. Verification checks every
  checkpoint against it, never against a certificate found in the
  database, which an insider could have replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import logging
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.audit_records import CheckpointRecord
from keys.files import fsync_dir

log = logging.getLogger(__name__)

_URL_USERINFO = re.compile(r"(://)[^/@]*@")


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


@dataclass(frozen=True)
class Anchor:
    audit: x509.Certificate
    tsa: x509.Certificate


class AuditAnchor:
    """The certificates checkpoints must be signed and time-stamped under, pinned at ``init``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path.exists()

    def pin(self, audit: x509.Certificate, tsa: x509.Certificate) -> bool:
        """Write the anchor unless one exists (it is never replaced); True when written now."""
        if self.path.exists():
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = ("# Qoltanba audit anchor (issue 18): written once at init, never rewritten by the service.\n"
                "# `qoltanba audit verify` accepts only checkpoints signed by the first certificate and\n"
                "# time-stamped under the second. Keep a copy outside this machine.\n")
        for label, cert in (("audit", audit), ("tsa", tsa)):
            text += (f"# {label}: {cert.subject.rfc4514_string()} sha256={fingerprint(cert)}\n"
                     + cert.public_bytes(serialization.Encoding.PEM).decode())
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(text)
                handle.flush()
                os.fchmod(handle.fileno(), 0o644)   # public certificates, whatever the umask
                os.fsync(handle.fileno())
            # A hard link fails when the name exists: two processes pinning at once cannot replace each other.
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                return False
        finally:
            tmp.unlink(missing_ok=True)
        fsync_dir(self.path.parent)
        return True

    def load(self) -> Anchor | None:
        """The pinned certificates; None when no anchor was written; ValueError when it is unreadable."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise ValueError(f"cannot read the audit anchor {self.path}: {error.strerror or error}") from error
        try:
            certificates = x509.load_pem_x509_certificates(data)
        except ValueError as error:
            raise ValueError(f"the audit anchor {self.path} holds no certificate") from error
        if len(certificates) != 2:
            raise ValueError(f"the audit anchor {self.path} must hold the audit and the TSA certificate")
        return Anchor(audit=certificates[0], tsa=certificates[1])


class CheckpointExport:
    """The append-only file of exported checkpoints, one JSON line each."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, records: list[CheckpointRecord]) -> list[CheckpointRecord]:
        """Append the records whose sequence the file lacks; returns those written.

        The exclusive lock makes reading what is there and appending one
        step for every process of this host; the file is only ever opened
        for appending, and fsync'd before the call returns.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                present = {r.sequence for r in self.read()[0]}
                fresh = [r for r in records if r.sequence not in present]
                if fresh:
                    handle.write("".join(r.line() + "\n" for r in fresh))
                    handle.flush()
                    os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        if created:
            fsync_dir(self.path.parent)
        return fresh

    def read(self) -> tuple[list[CheckpointRecord], list[str]]:
        """(the records, oldest line first; a problem per line that is not one). A missing file is empty."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return [], []
        except (OSError, UnicodeDecodeError) as error:
            return [], [f"the checkpoint export {self.path} cannot be read: {error}"]
        records, problems = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(CheckpointRecord.from_line(line))
            except ValueError as error:
                problems.append(f"line {number} of the checkpoint export {self.path} is not a checkpoint: {error}")
        if text and not text.endswith("\n"):
            problems.append(f"the checkpoint export {self.path} ends in a partial line")
        return records, problems


class Witness:
    """Posts each checkpoint's line to a URL someone outside the centre keeps (best effort)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("the audit witness URL must be http(s)")
        self.url = url
        self.timeout = timeout

    @property
    def shown_url(self) -> str:
        """The URL for logs: credentials in it are masked."""
        return _URL_USERINFO.sub(r"\1***@", self.url)

    def send(self, record: CheckpointRecord) -> bool:
        request = urllib.request.Request(self.url, data=record.line().encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with contextlib.closing(urllib.request.urlopen(request, timeout=self.timeout)) as response:  # noqa: S310
                if 200 <= response.status < 300:
                    return True
                problem = f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code}"
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
            # Never the exception's text alone: an invalid URL's message would repeat its credentials.
            problem = type(error).__name__ + (f": {error.reason}" if isinstance(error, urllib.error.URLError)
                                              and not isinstance(error.reason, str) else "")
        log.warning("audit witness %s did not take checkpoint %d: %s", self.shown_url, record.sequence, problem)
        return False
