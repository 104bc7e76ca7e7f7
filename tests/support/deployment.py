"""Qoltanba deployed as deploy/ says, on loopback: production mode, PostgreSQL, SoftHSM2, nginx in front (issue 17).

- the workers: the command and environment of ``deploy/systemd/qoltanba.service``
  (``ExecStart``, ``Environment=``), ``${VAR}`` expanded as systemd does, the
  installed ``qoltanba`` script replaced by this interpreter's ``-m api.cli``;
- nginx: the Debian package's binary with ``deploy/nginx/qoltanba.conf.in``
  rendered by ``envsubst`` exactly as docs/DEPLOYMENT.md says, included by a
  minimal main configuration (pid, logs and temporary files in the test's
  directory);
- the SMS gateway and the identity provider production mode asks for: a
  loopback HTTP receiver keeping every message, and an EC key whose public
  half the service trusts (``assertion`` signs as that provider).

Used by tests/integration/test_workers_nginx.py and benchmarks/load.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.server import Home, free_port, prepare_home

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "qoltanba.service"
SITE = ROOT / "deploy" / "nginx" / "qoltanba.conf.in"
PROVIDER = "tsoid-test"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def render_site(values: dict[str, str]) -> str:
    """deploy/nginx/qoltanba.conf.in through envsubst, naming only our variables (as the docs do)."""
    names = " ".join(f"${{{name}}}" for name in values)
    text = subprocess.run(["envsubst", names], input=SITE.read_text(), env={**os.environ, **values},
                          capture_output=True, text=True, check=True).stdout
    left = re.findall(r"\$\{QOLTANBA_[A-Z_]+\}", text)
    assert not left, f"deploy/nginx/qoltanba.conf.in has placeholders the deployment does not set: {left}"
    return text


def unit_command(values: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The unit's ExecStart (``${VAR}`` from ``values``) and its Environment= lines."""
    environment: dict[str, str] = {}
    exec_start = None
    for line in UNIT.read_text().splitlines():
        if line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            environment[name] = value
        elif line.startswith("ExecStart="):
            exec_start = line.removeprefix("ExecStart=")
    assert exec_start, "deploy/systemd/qoltanba.service has no ExecStart"
    argv = [re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], arg) for arg in shlex.split(exec_start)]
    assert argv[0].endswith("/qoltanba"), argv
    return [sys.executable, "-m", "api.cli", *argv[1:]], environment


def newest_code(messages: list[dict], phone: str, after: int = 0) -> str | None:
    """The one-time code of the newest message to ``phone`` from index ``after`` on (``{"to", "text"}``)."""
    for message in reversed(messages[after:]):
        if message["to"] == phone:
            found = re.search(r"\b(\d{6})\b", message["text"])
            if found:
                return found.group(1)
    return None


class _Gateway(BaseHTTPRequestHandler):
    messages: list[dict]

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.messages.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@dataclass
class Deployment:
    home: Home
    directory: Path
    app_port: int
    nginx_port: int
    workers: int
    messages: list[dict] = field(default_factory=list)
    provider_key: object = None

    @property
    def url(self) -> str:
        """Through nginx."""
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def app_url(self) -> str:
        """The workers' own port, nginx bypassed."""
        return f"http://127.0.0.1:{self.app_port}"

    @property
    def public(self) -> Path:
        return self.home.path / "public"

    def admin_key(self) -> str:
        return (self.home.path / "bootstrap-admin.key").read_text().strip()

    def code_for(self, phone: str, after: int = 0) -> str:
        """The newest one-time code the gateway carried to ``phone`` (its message from index ``after`` on)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            code = self.code_now(phone, after)
            if code is not None:
                return code
            time.sleep(0.01)
        raise AssertionError(f"no code reached {phone}")

    def code_now(self, phone: str, after: int = 0) -> str | None:
        """``code_for`` without waiting: None while no such message has come (benchmarks/flow_driver.py polls)."""
        return newest_code(self.messages, phone, after)

    def assertion(self, *, iin: str, challenge: str, movements, at) -> str:  # noqa: ANN001
        """The identity provider's signed answer for a liveness check (the provider's key the service trusts)."""
        from signing.factors.biometrics import BiometricProviderSimulator

        return BiometricProviderSimulator(PROVIDER, self.provider_key).assertion(
            iin=iin, challenge=challenge, movements=movements, at=at)

    def worker_pids(self) -> set[int]:
        """The processes that hold connections on the workers' port (as ``ss`` sees them)."""
        out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{self.app_port} )"],
                             capture_output=True, text=True, check=True).stdout
        return {int(pid) for pid in re.findall(r"pid=(\d+)", out)}

    def worker_of(self, local_port: int) -> int | None:
        """The worker serving the connection whose client end is ``local_port``."""
        out = subprocess.run(["ss", "-tnpH", "state", "established",
                              f"( sport = :{self.app_port} and dport = :{local_port} )"],
                             capture_output=True, text=True, check=True).stdout
        found = re.search(r"pid=(\d+)", out)
        return int(found.group(1)) if found else None


def _wait_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}: {log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}: {log.read_text(errors='replace')[-3000:]}")


def _wait_workers(log: Path, workers: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if text.count("Application startup complete") >= workers:
            return
        if process.poll() is not None:
            raise RuntimeError(f"qoltanba serve exited with {process.returncode}: {text[-3000:]}")
        time.sleep(0.2)
    raise RuntimeError(f"the workers did not start: {log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def deployed(directory: Path, database_url: str, *, workers: int = 2, extra: dict[str, str] | None = None,
             nginx_workers: int = 1) -> Iterator[Deployment]:
    """Initialise a production home on ``database_url`` and a fresh SoftHSM2 token, then serve it as deploy/ says."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.support.softhsm import softhsm_token
    from tests.support.tools import skip_or_fail

    nginx = nginx_binary()
    if nginx is None or shutil.which("envsubst") is None:
        skip_or_fail("nginx (Debian package nginx or nginx-light) and envsubst (gettext-base) are needed")
    directory.mkdir(parents=True, exist_ok=True)
    token = softhsm_token(directory)   # sets SOFTHSM2_CONF for this process and the ones it starts
    pin_file = directory / "pkcs11.pin"
    pin_file.write_text(token.pin)
    pin_file.chmod(0o600)
    provider_key = ec.generate_private_key(ec.SECP256R1())
    provider_file = directory / "provider.pem"
    provider_file.write_bytes(provider_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    messages: list[dict] = []
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), type("Gateway", (_Gateway,), {"messages": messages}))
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    nginx_port = free_port()
    values = {"QOLTANBA_WORKERS": str(workers)}
    argv, unit_env = unit_command(values)
    settings = {
        "QOLTANBA_MODE": "production", "QOLTANBA_KEY_BACKEND": "pkcs11",
        "QOLTANBA_PKCS11_MODULE": token.module_path, "QOLTANBA_PKCS11_TOKEN_LABEL": token.label,
        "QOLTANBA_PKCS11_PIN_FILE": str(pin_file), "QOLTANBA_WORKERS": str(workers),
        "QOLTANBA_SMS_GATEWAY_URL": f"http://127.0.0.1:{gateway.server_port}/sms",
        "QOLTANBA_BIOMETRIC_PROVIDER": PROVIDER, "QOLTANBA_BIOMETRIC_PROVIDER_KEY_FILE": str(provider_file),
        "QOLTANBA_BIOMETRIC_PROVIDER_URL": "https://biometrics.example.kz/liveness",
        # The certificates name the public address (nginx's), as QOLTANBA_BASE_URL does in production.
        "QOLTANBA_BASE_URL": f"http://ca.qoltanba.test:{nginx_port}", **(extra or {})}
    home = prepare_home(directory / "home", database_url=database_url, extra=settings)
    app_port = home.port
    env = {**home.env, **unit_env, "PROMETHEUS_MULTIPROC_DIR": str(directory / "metrics")}
    (directory / "metrics").mkdir(exist_ok=True)
    home = Home(home.path, app_port, env)
    serve_log = directory / "serve.log"
    from tests.support.logscan import LOGS

    LOGS.append(serve_log)   # scanned for secrets when the session ends
    with open(serve_log, "ab") as out:
        serve = subprocess.Popen([*argv, "--host", "127.0.0.1", "--port", str(app_port)], env=env, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    proxy = None
    try:
        _wait_workers(serve_log, workers, serve)
        site = render_site({"QOLTANBA_LISTEN": f"127.0.0.1:{nginx_port}",
                            "QOLTANBA_SERVER_NAME": "ca.qoltanba.test",
                            "QOLTANBA_PUBLIC_DIR": str(home.path / "public"),
                            "QOLTANBA_UPSTREAM_SERVERS": f"server 127.0.0.1:{app_port};"})
        conf = directory / "nginx"
        conf.mkdir(exist_ok=True)
        (conf / "qoltanba.conf").write_text(site)
        user = "user root root;\n" if os.geteuid() == 0 else ""   # the test's files are the test user's
        temp = " ".join(f"{kind}_temp_path {conf / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                         "uwsgi", "scgi"))
        (conf / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes {nginx_workers};\npid {conf / 'nginx.pid'};\n"
            f"error_log {conf / 'error.log'} warn;\nevents {{ worker_connections 4096; }}\n"
            f"http {{\n  access_log {conf / 'access.log'};\n  {temp}\n  include {conf / 'qoltanba.conf'};\n}}\n")
        nginx_log = conf / "nginx.out"
        with open(nginx_log, "ab") as out:
            proxy = subprocess.Popen([nginx, "-p", str(conf), "-c", str(conf / "nginx.conf"), "-e",
                                      str(conf / "error.log")], stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _wait_port(nginx_port, proxy, nginx_log)
        yield Deployment(home, directory, app_port, nginx_port, workers, messages, provider_key)
    finally:
        if proxy is not None:
            _stop(proxy)
        _stop(serve)
        gateway.shutdown()
        gateway.server_close()


__all__ = ["Deployment", "deployed", "nginx_binary", "render_site", "unit_command"]
