"""One client address cannot hold every verification worker (issue 18, finding 9).

Two PDFs near the sandbox's time limit used to occupy both workers and give
everyone else 503. Now an address has at most ``QOLTANBA_VERIFY_PER_ADDRESS``
verifications admitted (running or waiting for a worker) at once; past it,
429 with Retry-After at once, so with two workers another address always
finds one. The slow input is real: one array of millions of numbers, which
pyHanko's parser reads for longer than the lowered time limit, so its worker
is held until the limit kills it.

The TestClients stand for two client addresses (``client=``), as the ASGI
server reports them; that is the address the rate limiter and the quota key
on (api/http/rate_limit.py: forwarded headers only through the server's own
``--proxy-headers`` rule).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.hostile_pdfs import huge_array
from tests.support.verification import signed_contract

PROBLEM = "application/problem+json"
HOG, OTHER = ("203.0.113.7", 40001), ("198.51.100.9", 40002)
TIMEOUT = 8        # seconds; the huge array needs about twice that (7 s for half as many numbers, idle box)


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    from api.wiring import Services
    from api.settings import Settings

    settings = Settings(home=tmp_path_factory.mktemp("verify-quota") / "home", master_key="47" * 32,
                        verify_workers=2, verify_timeout_seconds=TIMEOUT)
    svc = Services.build(settings)
    svc.migrate()
    svc.bootstrap.initialise()
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def app(services):
    from api.http.app import create_app

    return create_app(services=services)


def _live_descendants() -> int:
    """Processes below this one that are not zombies: the fork server and the verification workers it forks."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    below, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - below
        below |= frontier
    return len(below)


def _wait_for(condition, seconds: float = 10) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the slow verification never started"
        time.sleep(0.05)


class Call(threading.Thread):
    """One request in a thread of its own; ``answer`` and ``done`` (monotonic) when it returned."""

    def __init__(self, request, *args, **kwargs) -> None:  # noqa: ANN001
        super().__init__(daemon=True)
        self.request, self.args, self.kwargs = request, args, kwargs
        self.answer, self.done = None, None
        self.start()

    def run(self) -> None:
        self.answer = self.request(*self.args, **self.kwargs)
        self.done = time.monotonic()


def test_one_address_with_slow_pdfs_holds_one_worker_and_another_address_still_verifies(services, app) -> None:
    """issue 18, finding 9: with 2 workers, an address whose slow PDFs would hold both gets 429 with
    Retry-After for every verification past its one, while another address's POST /verify and
    GET /verify/{id} answer 200 before the slow one has even finished."""
    pdf, _client, document = signed_contract(services, "B-LT")
    slow = huge_array(3_000_000)
    hog, other = TestClient(app, client=HOG), TestClient(app, client=OTHER)
    # The fork server starts with the first verification; afterwards a worker is forked in milliseconds.
    assert other.post("/verify", files={"file": ("warm.txt", b"not a pdf")}).status_code == 422
    # Its worker answered and exits by itself, unwaited for (sandbox.py): counted once it is gone.
    services.verifier._reap(wait=5)  # noqa: SLF001
    idle = _live_descendants()

    began = time.monotonic()
    first = Call(hog.post, "/verify", files={"file": ("slow-1.pdf", slow)})
    _wait_for(lambda: _live_descendants() > idle)
    extras = [Call(hog.post, "/verify", files={"file": ("slow-2.pdf", slow)}),
              Call(hog.get, f"/verify/{document.id}")]
    for extra in extras:
        extra.join(5)
    report = Call(other.post, "/verify", files={"file": ("contract.pdf", pdf)})
    report.join(2 * TIMEOUT)
    card = Call(other.get, f"/verify/{document.id}")
    for call in (first, *extras, report, card):
        call.join(4 * TIMEOUT)

    refused = [extra.answer for extra in extras]
    assert [a.status_code for a in refused] == [429, 429], [a.text for a in refused]
    for answer in refused:
        assert answer.headers["content-type"] == PROBLEM and answer.json()["code"] == "rate-limited"
        assert 1 <= int(answer.headers["Retry-After"]) <= TIMEOUT
        assert "verification" in answer.json()["detail"]
    assert all(extra.done - began < TIMEOUT / 2 for extra in extras), "refused at once, not after waiting"

    assert report.answer.status_code == 200, report.answer.text
    assert report.answer.json()["indication"] == "TOTAL-PASSED"
    assert card.answer.status_code == 200 and card.answer.json()["indication"] == "TOTAL-PASSED", card.answer.text
    # The other address did not wait for the hog's worker to come free.
    assert report.done < first.done and card.done < first.done

    # The slow one ran until the limit stopped it; then the address may verify again.
    assert first.answer.status_code == 422 and "longer than" in first.answer.json()["detail"], first.answer.text
    assert first.done - began >= TIMEOUT - 1
    assert hog.post("/verify", files={"file": ("contract.pdf", pdf)}).json()["indication"] == "TOTAL-PASSED"
