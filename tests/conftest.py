"""Suite-wide fixtures.

Keep this file to fixture definitions; put the machinery in tests/support/.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support import tools
from tests.support.postgres import PostgresServer, PostgresUnavailable

if TYPE_CHECKING:
    from api.wiring import Services

_POSTGRES_FIXTURES = {"postgres_server", "postgres_url"}
_SUITE_LOG = pytest.StashKey[tuple]()
_LOG_DIR = "QOLTANBA_SUITE_LOG_DIR"


def pytest_configure(config: pytest.Config) -> None:
    # Every record the suite logs also goes to one file per process, scanned for secrets at the
    # end (tests/support/logscan.py). The handler takes whatever level each logger already has.
    # Under pytest-xdist each worker lists its logs (its own and its servers') in the directory
    # the controller made; the controller scans them all when the last worker is done.
    import logging
    import tempfile
    from pathlib import Path

    from tests.support.logscan import LOGS
    from tests.support.memory import use_memory_for_temp_files

    if not hasattr(config, "workerinput"):
        # Temporary files in memory when there is room (tests/support/memory.py); the workers inherit TMPDIR.
        use_memory_for_temp_files()
        os.environ[_LOG_DIR] = tempfile.mkdtemp(prefix="qoltanba-suite-logs-")
    handle, name = tempfile.mkstemp(prefix="qoltanba-suite-", suffix=".log", dir=os.environ[_LOG_DIR])
    os.close(handle)
    handler = logging.FileHandler(name, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger().addHandler(handler)
    config.stash[_SUITE_LOG] = (handler, Path(name))
    LOGS.append(Path(name))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import logging
    import shutil
    from pathlib import Path

    from tests.support.logscan import LOGS, scan

    handler, _ = session.config.stash.get(_SUITE_LOG, (None, None))
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()
    directory = Path(os.environ[_LOG_DIR])
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is not None:
        (directory / f"manifest-{workerinput['workerid']}").write_text("\n".join(map(str, LOGS)))
        return
    paths = list(LOGS)
    for manifest in directory.glob("manifest-*"):
        paths += [Path(line) for line in manifest.read_text().splitlines() if line]
    found = scan(paths)
    if found:
        print(f"\nsecrets found in the logs written during the suite (kept in {directory}):\n  "
              + "\n  ".join(found))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        shutil.rmtree(directory, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from tests.support.ordering import longest_modules_first

    # The longest modules first, so both cores stay busy to the end (tests/support/ordering.py).
    longest_modules_first(items)
    # Tests using the PostgreSQL fixtures get the ``postgres`` marker, so
    # ``-m "not postgres"`` deselects them.
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database_url") == "postgresql"
        if on_postgres or _POSTGRES_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # QOLTANBA_REPEAT="name_a,name_b:20" runs the tests of those names 20 times each inside the
    # run (issue 22: a flaky test shown steady amid the full suite's load).
    spec = os.environ.get("QOLTANBA_REPEAT", "")
    names, _, count = spec.rpartition(":")
    if names and metafunc.function.__name__ in names.split(","):
        metafunc.fixturenames.append("repeat_index")
        metafunc.parametrize("repeat_index", range(int(count)), ids=lambda i: f"repeat{i}")


# --- external tools --------------------------------------------------------


@pytest.fixture
def require_tool() -> Callable[..., str]:
    """``require_tool("openssl")`` -> path; skips (fails under CI) if missing."""
    return tools.require_tool


# --- PostgreSQL --------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Throwaway PostgreSQL server for the whole session (see tests/support/postgres.py).

    Attributes ``host``, ``port``, ``user``; ``create_database(name) -> url``.
    """
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as exc:
        tools.skip_or_fail(str(exc))
    with server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, uniquely named database, dropped after the test."""
    name, url = postgres_server.create_unique_database(request.node.name)
    yield url
    postgres_server.drop_database(name)


# --- the service, on both databases ------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """Each test using it runs twice: on SQLite and on the throwaway PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    if "services" in request.fixturenames:
        # The services fixture makes this database as a copy of the initialised template (golden.prepare):
        # only its name is chosen here, and it is dropped after the test, as postgres_url's would be.
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = server.unique_name(request.node.name)
        request.addfinalizer(lambda: server.drop_database(name))
        return server.url(name)
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def services(tmp_path, database_url: str, request: pytest.FixtureRequest) -> Iterator["Services"]:
    """An initialised hierarchy: migrated registry, software keys, three centres.

    A copy of the test process's initialised home (tests/support/golden.py), not made anew.
    """
    yield from initialised_services(tmp_path, database_url, request)


def initialised_services(tmp_path, database_url: str, request: pytest.FixtureRequest,
                         clock_offset=None) -> Iterator["Services"]:  # noqa: ANN001
    """Services over a copy of an initialised home; with ``clock_offset`` a clock frozen that far from now."""
    import datetime as dt

    from api.wiring import Services
    from api.settings import Settings
    from ca.clock import FrozenClock
    from tests.support import golden

    server = None if database_url.startswith("sqlite") else request.getfixturevalue("postgres_server")
    home = golden.prepare(tmp_path, database_url, clock_offset=clock_offset, postgres_server=server)
    clock = None
    if clock_offset is not None:
        clock = FrozenClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + clock_offset)
    svc = Services.build(Settings(home=home, database_url=database_url, master_key=golden.MASTER_KEY), clock)
    yield svc
    svc.close()


@pytest.fixture
def admin_key(services) -> str:
    from ca.access import AccessService

    return AccessService(services.registry, services.clock).create_key("admin", "administrator", by="test").key


@pytest.fixture
def http(services, admin_key):
    """The app through httpx (in-process ASGI transport), with an administrator's key."""
    from fastapi.testclient import TestClient

    from api.http.app import create_app

    with TestClient(create_app(services=services), headers={"X-API-Key": admin_key}) as client:
        yield client
