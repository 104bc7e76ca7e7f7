"""A real Qoltanba server on loopback: ``qoltanba init`` then uvicorn with several workers.

The home is initialised with the server's own address as base URL, so the
CRL distribution points and OCSP URLs written into certificates point at it
and independent clients (openssl, pyhanko-certvalidator) fetch live.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MASTER_KEY = "22" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Home:
    path: Path
    port: int
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "api.cli", *args], env=self.env, capture_output=True,
                              text=True, check=check, timeout=timeout)

    def settings(self):  # noqa: ANN201 - api.settings.Settings
        from api.settings import Settings

        return Settings(home=self.path, base_url=self.url, master_key=MASTER_KEY,
                        database_url=self.env.get("QOLTANBA_DATABASE_URL") or None)


def prepare_home(path: Path, *, database_url: str | None = None, extra: dict[str, str] | None = None) -> Home:
    port = free_port()
    env = {**os.environ, "QOLTANBA_HOME": str(path), "QOLTANBA_BASE_URL": f"http://127.0.0.1:{port}",
           "QOLTANBA_MASTER_KEY": MASTER_KEY, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("QOLTANBA_DATABASE_URL", None)
    if database_url:
        env["QOLTANBA_DATABASE_URL"] = database_url
    env.update(extra or {})
    home = Home(path, port, env)
    home.cli("init")
    return home


@contextlib.contextmanager
def running_server(home: Home, *, workers: int = 2, log: Path | None = None,
                   log_config: Path | None = None, serve: bool = False) -> Iterator[subprocess.Popen]:
    """``log_config``: a logging dictConfig file for uvicorn (e.g. every logger at DEBUG).

    ``serve``: run ``qoltanba serve`` itself (one process, uvicorn's default logging with the access
    log), as an operator does, instead of uvicorn with ``workers``.
    """
    from tests.support.logscan import LOGS

    LOGS.append(log or home.path / "server.log")   # scanned for secrets when the session ends
    out = open(LOGS[-1], "ab")
    logging_args = ["--log-config", str(log_config)] if log_config else ["--no-access-log", "--log-level", "warning"]
    command = ([sys.executable, "-m", "api.cli", "serve", "--port", str(home.port)] if serve else
               [sys.executable, "-m", "uvicorn", "api.http.app:create_app", "--factory", "--host", "127.0.0.1",
                "--port", str(home.port), "--workers", str(workers), *logging_args])
    process = subprocess.Popen(command, env=home.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(home, process)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        out.close()


def _wait_ready(home: Home, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {home.path / 'server.log'}")
        try:
            with urllib.request.urlopen(home.url + "/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


@contextlib.contextmanager
def served_services(directory: Path) -> Iterator:
    """A fresh home served on loopback, and the in-process Services on the same home.

    Tests sign and verify in-process while independent clients (pdfsig's
    NSS, openssl) fetch the home's OCSP and CRLs from the live server.
    """
    from api.wiring import Services

    home = prepare_home(directory / "home")
    with running_server(home):
        services = Services.build(home.settings())
        try:
            yield services
        finally:
            services.close()
