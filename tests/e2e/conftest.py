"""The pages in a real browser: Debian's headless Chromium driven by Playwright (issue 20).

One server and one browser for the whole e2e run: the real app under
uvicorn on a loopback port, over a copy of the test process's initialised
home (tests/support/golden.py, SQLite) whose base URL is that port, so the
QR codes on the stamps it makes lead to it. The test process holds the same
``Services`` the server runs on, to sign contracts for the pages to check.

Chromium comes from Debian (``chromium``, scripts/sysdeps.sh) and Playwright
from the dev extra; Playwright drives it by ``executable_path`` and downloads
no browser. Without either the tests skip with a one-line reason, and fail
under ``QOLTANBA_REQUIRE_INTEROP=1`` (tests/support/tools.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import tools

HERE = Path(__file__).resolve().parent
AXE = HERE / "vendor" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"   # axe-core 4.14.1 (vendor/README.md)
SCREENSHOTS = HERE.parents[1] / "docs" / "screenshots"
LANGUAGES = ("kk", "ru", "en")


@dataclass
class Site:
    url: str
    services: object   # api.wiring.Services, the server's own
    home: Path
    database_url: str = ""
    ncalayer_port: int = 0   # where the Sign page looks for NCALayer (tests/e2e/test_sign_page.py's simulator)


class ShiftedClock:
    """The real time moved by an offset the tests change: the server's clock.

    It starts eight hours back (the home is made at that moment, tests/support/golden.py), so a signing
    request's two-hour review window (LOAN-5) is passed by ``advance`` while everything signed stays in the
    past for the validators that use the real time (``qoltanba verify``, pyHanko).
    """

    def __init__(self, offset: dt.timedelta) -> None:
        self.offset = offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + self.offset

    def advance(self, delta: dt.timedelta) -> None:
        self.offset += delta


START = -dt.timedelta(hours=8)
# The e2e server's signing policy: DOMAIN.md's rules, but a request lives 3 hours (more than the 2-hour review
# window), so the Sign page's "expired" state is reached by moving the clock a little.
POLICY = '{"request_ttl_hours": 3}'


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = tools.find_tool("chromium")
    if path is None:
        tools.skip_or_fail("Debian's chromium is not installed (make sysdeps installs it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        tools.skip_or_fail("playwright is not installed (make install-dev installs it)")
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator:
    """One Chromium per test module, stopped after it.

    Playwright's sync API keeps an asyncio loop running in this thread while
    it lives; stopping it at the module's end leaves the worker's thread free
    for the asyncio.run() of the tests that follow on the same xdist worker.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
        chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def serving(directory: Path, **settings: object) -> Iterator[Site]:
    """The real app under uvicorn on a loopback port over a copy of the initialised home, its clock START behind
    the real time; ``settings``: more of ``Settings``' fields (a second server of a module, another set-up)."""
    import uvicorn

    from api.http.app import create_app
    from api.settings import Settings
    from api.wiring import Services
    from tests.support import golden
    from tests.support.server import free_port

    database_url = f"sqlite:///{directory / 'registry.db'}"
    home = golden.prepare(directory, database_url, clock_offset=START)
    policy = directory / "signing-policy.json"
    policy.write_text(POLICY)
    port, ncalayer_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    # The browser makes many requests from one address: the buckets are wide, the limits themselves are
    # tested in tests/integration/test_limits.py.
    settings = Settings(home=home, database_url=database_url, master_key=golden.MASTER_KEY, base_url=url,
                        public_burst=10_000, verify_burst=1_000, verify_rate_per_minute=1_000, client_rate_burst=1_000,
                        signing_policy_file=policy, ncalayer_url=f"ws://127.0.0.1:{ncalayer_port}",
                        **settings)
    services = Services.build(settings, ShiftedClock(START))
    server = uvicorn.Server(uvicorn.Config(create_app(services=services), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the e2e server did not start")
        time.sleep(0.05)
    try:
        yield Site(url, services, home, database_url, ncalayer_port)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        services.close()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    with serving(tmp_path_factory.mktemp("e2e")) as served:
        yield served


@pytest.fixture(scope="session")
def contract(site: Site):
    """(final PDF, client, document) of a contract the client signed and the MFO sealed, B-LT."""
    from tests.support.verification import signed_contract

    return signed_contract(site.services, "B-LT")


@pytest.fixture(scope="session")
def axe_source() -> str:
    data = AXE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, "tests/e2e/vendor/axe.min.js is not the vendored file"
    return data.decode()


def serious_violations(page, axe_source: str, *, under_csp: bool = False) -> list[str]:  # noqa: ANN001 - Page
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules and best practices).

    ``under_csp``: the page's Content-Security-Policy is in force (a context without ``bypass_csp``), so axe is
    evaluated through Playwright's DevTools channel instead of an inline script tag the policy would block.
    """
    if under_csp:
        page.evaluate("source => (0, eval)(source)", axe_source)
    else:
        page.add_script_tag(content=axe_source)
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                          ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))")
    return [f"{v['id']} ({v['impact']}): {v['nodes'][:3]}" for v in found if v["impact"] in ("serious", "critical")]


def screenshot(page, name: str) -> Path:  # noqa: ANN001 - playwright Page
    """A full-page PNG of the page as it is now.

    Into docs/screenshots/ (committed; README's "Pages" links them) when
    ``QOLTANBA_SCREENSHOTS=1`` (``make screenshots``); otherwise into a
    temporary folder, so a test run leaves the working tree as it was.
    """
    folder = SCREENSHOTS if os.environ.get("QOLTANBA_SCREENSHOTS") == "1" else \
        Path(tempfile.gettempdir()) / "qoltanba-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
