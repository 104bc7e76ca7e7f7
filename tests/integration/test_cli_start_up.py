"""The command line starts without the application (issue 21, item 7): ``qoltanba --help`` imports no domain code.

Each command group's module is imported only when it is used
(api/cli/lazy.py); the root lists them from a table of summaries, which
must stay what each command says of itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.main import get_command

from api import start_up
from tests.support import golden
from tests.support.server import free_port

HEAVY = ("alembic", "sqlalchemy", "pyhanko", "fastapi", "uvicorn", "starlette", "registry", "signing", "ca", "keys",
         "api.wiring", "api.http")

LOADED = """
import json, sys
sys.argv = ["qoltanba", *sys.argv[1:]]
from api.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


# What ``qoltanba verify`` reads a home without (issue 21): the ORM, Alembic, the services and everything that signs,
# issues or serves. It reads the trust store through registry.readonly and verifies in the sandbox.
VERIFY_NEVER = ("alembic", "sqlalchemy", "fastapi", "uvicorn", "starlette", "api.wiring", "api.http",
                "registry.models", "registry.repositories", "registry.db", "registry.audit", "keys.pkcs11",
                "keys.signer", "keys.carrier", "signing.documents", "signing.pades", "signing.requests",
                "signing.factors", "signing.policies", "signing.stamps", "signing.webhooks", "ca.bootstrap",
                "ca.issuance", "ca.tsa", "ca.responder", "ca.publication", "ca.revocation", "ca.people",
                "ca.access", "ca.audit_checkpoints",
                # ... and pyHanko: the worker, forked first, imports the verifier while this process reads the home
                "pyhanko", "signing.verification.verifier", "signing.verification.context",
                "signing.verification.pdf", "signing.verification.cms")


def _modules_after(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, text=True, timeout=60,
                          check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_help_imports_no_domain_code_nor_the_heavy_libraries() -> None:
    loaded = _modules_after("--help")
    assert [m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY)] == []
    assert not [m for m in loaded if m.startswith("api.cli.") and m not in ("api.cli.lazy",)]


def test_a_group_imports_only_its_own_module_for_its_help() -> None:
    loaded = _modules_after("audit", "--help")
    assert "api.cli.audit" in loaded
    assert not {"api.cli.cert", "api.cli.sign", "api.wiring", "sqlalchemy", "pyhanko"} & set(loaded)


def test_the_roots_summaries_are_the_commands_own() -> None:
    from api import cli

    root = get_command(cli.app)
    for entry in cli.COMMANDS:
        command = entry.load()
        assert command.name == entry.name
        assert command.get_short_help_str(200) == entry.stub().get_short_help_str(200), entry.name
        assert root.get_command(None, entry.name).name == entry.name   # type: ignore[arg-type]


def test_the_approval_statuses_named_for_the_help_are_the_registrys() -> None:
    from api.cli.approvals import STATUSES
    from ca.approvals import STATUSES as KEPT

    assert STATUSES == KEPT


def test_verify_reads_the_home_without_the_orm_alembic_or_the_services(tmp_path: Path) -> None:
    home = golden.prepare(tmp_path, f"sqlite:///{tmp_path / 'home' / 'registry.db'}")   # an initialised home
    pdf = tmp_path / "notes.pdf"
    pdf.write_bytes(b"%PDF-1.7\n not signed \n%%EOF")   # read, sent to the worker, found unreadable: exit 2
    loaded = _modules_after("verify", str(pdf), "--json", "--home", str(home))
    assert {"registry.readonly", "ca.hierarchy", "signing.verification.trust_store",
            "signing.verification.sandbox"} <= set(loaded)   # the home's trust store was read, the worker ran
    assert [m for m in loaded if m in VERIFY_NEVER or m.startswith(tuple(f"{n}." for n in VERIFY_NEVER))] == []


# -- serve: the server listens before the application is imported -------------------------------------

STARTING = """
import json, sys
from api import start_up
start_up.begin(lambda: None, stop_server=lambda: None)
from api.http.app import create_app
app = create_app()
print(json.dumps([type(app).__name__, sorted(sys.modules)]))
"""
SERVE_NEVER = ("fastapi", "starlette", "sqlalchemy", "alembic", "pyhanko", "api.wiring", "api.http.routes",
               "api.http.deps", "api.http.problems", "registry", "signing", "ca.access", "ca.hierarchy")


def test_under_serve_the_app_factory_returns_the_starting_app_without_fastapi_or_the_services() -> None:
    done = subprocess.run([sys.executable, "-c", STARTING], capture_output=True, text=True, timeout=60, check=True)
    kind, loaded = json.loads(done.stdout.splitlines()[-1])
    assert kind == "StartingApp"
    assert [m for m in loaded if m in SERVE_NEVER or m.startswith(tuple(f"{n}." for n in SERVE_NEVER))] == []


def _wait_until(condition, seconds: float = 60) -> None:  # noqa: ANN001 - a callable
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_starting_app_answers_livez_at_once_and_every_other_route_once_the_home_is_ready(services) -> None:
    from fastapi.testclient import TestClient

    from api.http.app import create_app
    from api.http.problems import TITLES
    from api.http.starting import StartingApp

    go, stopped = threading.Event(), []
    preparation = start_up.Preparation(lambda: go.wait(60), stop_server=lambda: stopped.append(True))
    app = StartingApp(lambda: create_app(services=services), preparation)
    with TestClient(app) as client:
        livez = client.get("/livez")
        assert (livez.status_code, livez.json(), livez.headers["content-type"]) == \
            (200, {"status": "alive"}, "application/json")
        for path in ("/health", "/ca"):
            early = client.get(path)
            assert (early.status_code, early.headers["retry-after"]) == (503, "1")
            assert early.headers["content-type"] == "application/problem+json"
            assert early.json() == {"type": "urn:qoltanba:problem:unavailable", "title": TITLES["unavailable"],
                                    "status": 503, "code": "unavailable", "instance": path,
                                    "detail": "the service is starting; try again in a moment"}
        assert app.app is None
        go.set()
        _wait_until(lambda: app.app is not None)
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/ca").status_code == 200
        assert client.get("/livez").json() == {"status": "alive"}   # the real application's (issue 17)
        housekeeper = services.housekeeper._thread   # noqa: SLF001 - the real application's lifespan started it
        assert housekeeper is not None and housekeeper.is_alive()
    assert not housekeeper.is_alive()   # and stopped it when the server stopped
    assert not stopped
    preparation.finish()   # ran once, no failure


def test_a_failed_preparation_stops_the_server_builds_nothing_and_is_raised_by_finish() -> None:
    from fastapi.testclient import TestClient

    from api.http.starting import StartingApp

    stopped, built = [], []

    def work() -> None:
        raise RuntimeError("disk on fire")

    preparation = start_up.Preparation(work, stop_server=lambda: stopped.append(True))
    app = StartingApp(lambda: built.append(True), preparation)
    with TestClient(app) as client:
        _wait_until(lambda: stopped)
        assert client.get("/health").status_code == 503
        assert client.get("/livez").status_code == 200
    assert built == [] and preparation.failed
    with pytest.raises(RuntimeError, match="disk on fire"):
        preparation.finish()


def _serve(home: Path, port: int, tmp_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QOLTANBA_")}
    env.update(QOLTANBA_HOME=str(home), QOLTANBA_MASTER_KEY=golden.MASTER_KEY, QOLTANBA_PORT=str(port))
    return subprocess.Popen([sys.executable, "-m", "api.cli", "serve"], env=env, stdout=open(tmp_path / "out", "wb"),
                            stderr=open(tmp_path / "err", "wb"), start_new_session=True)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_serve_listens_answers_livez_then_serves_the_prepared_home(tmp_path: Path) -> None:
    home = golden.prepare(tmp_path, f"sqlite:///{tmp_path / 'home' / 'registry.db'}")
    port = free_port()
    process = _serve(home, port, tmp_path)
    try:
        livez: list = []

        def answered() -> bool:
            assert process.poll() is None, (tmp_path / "err").read_text()
            with contextlib.suppress(OSError):
                livez.append(_get(f"http://127.0.0.1:{port}/livez"))
            return bool(livez)

        _wait_until(answered)
        assert livez[0] == (200, b'{"status":"alive"}')
        _wait_until(lambda: _get(f"http://127.0.0.1:{port}/health")[0] == 200)
        status, body = _get(f"http://127.0.0.1:{port}/ca")
        assert status == 200 and b"national" in body
        # The preparation's line (beside uvicorn's access log): the bootstrap administrator's key it wrote.
        [prepared] = [json.loads(line) for line in (tmp_path / "out").read_text().splitlines() if line[:1] == "{"]
        assert prepared["bootstrap_key_file"] == str(home.resolve() / "bootstrap-admin.key")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_serve_whose_home_cannot_be_prepared_stops_and_exits_2_with_the_reason(tmp_path: Path) -> None:
    home = tmp_path / "a-file"
    home.write_text("not a directory")
    process = _serve(home, free_port(), tmp_path)
    assert process.wait(timeout=120) == 2
    errors = [line for line in (tmp_path / "err").read_text().splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and f"cannot use home {home}" in errors[0], (tmp_path / "err").read_text()
    assert "Traceback" not in (tmp_path / "err").read_text()
