"""Several real Qoltanba servers over one PostgreSQL registry and one home, each its own process (issue 17).

Each server is ``uvicorn api.http.app:create_app --factory`` with one process
on its own loopback port, so a test chooses which worker receives each
request and can SIGKILL one of them. They share what a multi-host deployment
shares: the database and the home's keys (the master key, the software keys).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    home: Path
    database_url: str
    master_key: str
    extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from tests.support.logscan import LOGS

        env = {**os.environ, "QOLTANBA_HOME": str(self.home), "QOLTANBA_DATABASE_URL": self.database_url,
               "QOLTANBA_MASTER_KEY": self.master_key, "QOLTANBA_BASE_URL": self.url, "PYTHONPATH": str(ROOT),
               **self.extra}
        log = self.home.parent / f"worker-{self.port}.log"
        LOGS.append(log)   # scanned for secrets when the session ends
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "api.http.app:create_app", "--factory", "--host", "127.0.0.1",
                 "--port", str(self.port), "--no-access-log", "--log-level", "warning"],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"worker {self.port} exited; see {self.home.parent}/worker-{self.port}.log")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.url + "/health", timeout=1) as response:
                    if response.status == 200:
                        return
            time.sleep(0.1)
        raise RuntimeError(f"worker {self.port} did not become ready")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no lifespan shutdown, no cleanup; what it held in the registry stays as it was."""
        if self.alive:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.alive:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        sent = urllib.request.Request(self.url + path, data=body, method=method,
                                      headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(sent, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def start_workers(count: int, home: Path, database_url: str, master_key: str,
                  extra: dict[str, str] | None = None) -> list[Worker]:
    workers = [Worker(home, database_url, master_key, dict(extra or {})) for _ in range(count)]
    for worker in workers:
        worker.start()   # all at once: they start side by side, as under a process manager
    try:
        for worker in workers:
            worker.wait_ready()
    except Exception:
        for worker in workers:
            worker.stop()
        raise
    return workers


def owner_of_connection(peer_port: int, workers: list[Worker]) -> Worker | None:
    """The worker whose process holds the TCP connection from local port ``peer_port`` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == peer_port:
                    inodes.add(fields[9])
    for worker in workers:
        if not worker.alive:
            continue
        fds = Path(f"/proc/{worker.process.pid}/fd")
        for fd in fds.iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return worker
    return None


def issue_stamp_publish(home: str, database_url: str, master_key: str, start_at: float,
                        rounds: int) -> tuple[list[str], list[int], list[int]]:
    """In a process of its own: ``rounds`` times issue a certificate, time-stamp a digest, publish the national
    CRLs; returns (certificate serials, TSA serials, CRL numbers). Starts at ``start_at`` (wall time), so the
    processes run side by side."""
    import hashlib

    from asn1crypto import cms

    from api.settings import Settings
    from api.wiring import Services
    from tests.support import factories

    services = Services.build(Settings(home=Path(home), database_url=database_url, master_key=master_key))
    try:
        services.tsa.certificate   # bound before the start line, as a serving process is
        time.sleep(max(0.0, start_at - time.time()))
        serials, stamps, crls = [], [], []
        for n in range(rounds):
            serials.append(factories.issue_person(services).serial)
            token = cms.ContentInfo.load(services.tsa.stamp(hashlib.sha256(f"{os.getpid()}-{n}".encode()).digest()))
            stamps.append(token["content"]["encap_content_info"]["content"].parsed["serial_number"].native)
            crls += [crl.number for crl in services.publisher.publish("national")]
        return serials, stamps, crls
    finally:
        services.close()
