"""Verification workers made faster, not weaker (issue 14, worker rate; issue 21, start-up).

A worker's answer is read as JSON text, never unpickled; the fork server's
workers are forked ahead of their job, each still verifies once under the
same limits; a worker prepares the verifier without pyHanko's signing side,
which a process that signs still gets whole; ``qoltanba verify`` forks its
worker before anything else. The limits themselves are held by
tests/integration/test_verification_robustness.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from signing.verification import VerificationLimits, sandbox
from signing.verification.context import TrustAnchors, UnverifiableInput
from signing.verification.sandbox import SandboxedVerifier, SandboxLimits
from tests.support.hostile_pdfs import huge_array
from tests.support.signing import embedded_services
from tests.support.verification import anchors_of, signed_contract

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    with embedded_services(tmp_path_factory.mktemp("verify-workers") / "home", "67" * 32) as svc:
        yield svc


@pytest.fixture(scope="module")
def signed(services) -> bytes:
    return signed_contract(services, "B-LT")[0]


def _without_time(report: dict) -> dict:
    return {key: value for key, value in report.items() if key != "validation_time"}


def test_a_workers_report_is_plain_json(services, signed) -> None:
    """The field name is a str, not pyHanko's TextStringObject (whose pickle carried the document along)."""
    report = SandboxedVerifier(lambda: anchors_of(services), VerificationLimits(), start_method="fork").verify(signed)
    assert report["indication"] == "TOTAL-PASSED", report
    assert [type(s["field"]) for s in report["signatures"]] == [str, str]
    assert json.loads(json.dumps(report)) == report


def _pickling_job(connection, job) -> None:  # noqa: ANN001 - what a worker gone wrong would send
    connection.send(("report", {"indication": "TOTAL-PASSED", "signatures": []}))
    connection.close()


def test_a_workers_answer_is_never_unpickled(monkeypatch) -> None:
    """A worker that parsed hostile input may be anyone's: a pickle from it is refused, not loaded."""
    monkeypatch.setattr(sandbox, "run_job", _pickling_job)   # fork: the worker runs the patched job
    forked = SandboxedVerifier(TrustAnchors, VerificationLimits(), start_method="fork")
    with pytest.raises(UnverifiableInput, match="stopped without an answer"):
        forked.verify(b"%PDF-1.7 anything")


def test_the_fork_servers_workers_are_forked_ahead_and_each_verifies_once(services, signed) -> None:
    ahead = SandboxedVerifier(lambda: anchors_of(services), VerificationLimits(), SandboxLimits(workers=2))
    try:
        first = ahead.verify(signed)
        assert first["indication"] == "TOTAL-PASSED", first
        waiting = list(ahead._spares)  # noqa: SLF001 - the workers forked ahead
        assert len(waiting) == 1 and waiting[0].process.is_alive()
        second = ahead.verify(signed)
        assert _without_time(second) == _without_time(first)
        # The worker that waited verified the second job and is gone; the next one waits in its place.
        waiting[0].process.join(10)
        assert waiting[0].process.exitcode is not None
        assert len(ahead._spares) == 1 and ahead._spares[0] is not waiting[0]  # noqa: SLF001
        # A job the waiting worker cannot finish in time is stopped, as a worker forked at once would be.
        quick = SandboxedVerifier(TrustAnchors, VerificationLimits(), SandboxLimits(timeout_seconds=1.5))

        for _ in range(2):   # the first forks its worker at once, the second takes the one forked ahead
            started = time.monotonic()
            with pytest.raises(UnverifiableInput, match="longer than 1.5 seconds"):
                quick.verify(huge_array())
            assert time.monotonic() - started < 6
        quick.close()
    finally:
        spares = list(ahead._spares)  # noqa: SLF001
        ahead.close()
    for spare in spares:   # closed: a worker without a job exits
        spare.process.join(10)
        assert spare.process.exitcode == 0


PREPARED = """
import json, sys
from signing.verification.preload import prepare
prepare()
loaded = set(sys.modules)
from pyhanko.sign import SimpleSigner   # a process that goes on to sign gets the whole package
print(json.dumps([sorted(m for m in loaded if m.startswith(("aiohttp", "pyhanko.sign.signers",
                                                             "pyhanko.sign.timestamps"))),
                  "signing.verification.verifier" in loaded, SimpleSigner.__module__]))
"""


def test_a_prepared_worker_has_the_verifier_without_pyhankos_signing_side() -> None:
    done = subprocess.run([sys.executable, "-c", PREPARED], capture_output=True, text=True, timeout=120, check=True)
    signing_side, verifier, signer = json.loads(done.stdout.splitlines()[-1])
    assert signing_side == [] and verifier
    assert signer == "pyhanko.sign.signers.pdf_cms"


FORKED_FIRST = """
import json, sys
sys.argv = ["qoltanba", *sys.argv[1:]]
import api.cli
from signing.verification import early
print(json.dumps([len(early._at_start), early._at_start[0].process.is_alive() if early._at_start else None]))
"""


@pytest.mark.parametrize(("args", "forked"), [(["verify", "contract.pdf"], True), (["--help"], False),
                                               (["cert", "verify"], False)])
def test_qoltanba_verify_forks_its_worker_before_anything_else(args, forked) -> None:
    done = subprocess.run([sys.executable, "-c", FORKED_FIRST, *args], capture_output=True, text=True, timeout=120,
                          check=True)
    count, alive = json.loads(done.stdout.splitlines()[-1])
    assert (count, alive) == ((1, True) if forked else (0, None))


WARMED = """
import gc, json
from signing.verification import warm
print(json.dumps([warm.WARMED, gc.get_freeze_count() > 1000, "signing.verification.verifier" in __import__("sys").modules]))
"""


def test_the_fork_server_verifies_the_sample_once_and_freezes_before_it_forks() -> None:
    """The fork server's preload (warm.py) verifies its sample to TOTAL-PASSED: the passing path is what it warms."""
    done = subprocess.run([sys.executable, "-c", WARMED], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == ["TOTAL-PASSED", True, True]


def test_a_worker_that_answered_exits_by_itself_and_is_reaped_later(services, signed) -> None:
    """The answer does not wait for the worker's exit; the worker exits at once (code 0, not killed)."""
    for method in ("forkserver", "fork"):
        verifier = SandboxedVerifier(lambda: anchors_of(services), VerificationLimits(), start_method=method)
        assert verifier.verify(signed)["indication"] == "TOTAL-PASSED"
        answered = [process for process, _ in verifier._exiting]  # noqa: SLF001 - reaped later, not waited for
        assert len(answered) == 1
        answered[0].join(10)
        assert answered[0].exitcode == 0
        verifier.verify(signed)   # each verification first reaps those that answered before
        assert answered[0] not in [process for process, _ in verifier._exiting]  # noqa: SLF001
        verifier.close()
        assert verifier._exiting == []  # noqa: SLF001


CALLER = """
import sys
if __name__ != "__main__":   # a worker re-running its caller's main script (runpy, as "__mp_main__")
    open(sys.argv[1] if len(sys.argv) > 1 else {marker!r}, "a").write(__name__ + "\\n")
if __name__ == "__main__":
    from signing.verification import VerificationLimits
    from signing.verification.context import TrustAnchors, UnverifiableInput
    from signing.verification.sandbox import SandboxedVerifier

    verifier = SandboxedVerifier(TrustAnchors, VerificationLimits())
    for _ in range(3):
        try:
            verifier.verify(b"%PDF-1.7 not really")
        except UnverifiableInput as refused:
            print(refused.detail)
    verifier.close()
"""


def test_the_fork_servers_workers_do_not_run_their_callers_main_script_again(tmp_path) -> None:
    """Python 3.11's fork server never preloads ``__main__``; without warm.py each worker re-ran the caller's script."""
    marker, script = tmp_path / "reran", tmp_path / "caller.py"
    script.write_text(CALLER.format(marker=str(marker)))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True,
                          cwd=str(tmp_path), env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert len(done.stdout.splitlines()) == 3, done.stdout + done.stderr   # three verifications, each refused
    assert not marker.exists(), marker.read_text()
