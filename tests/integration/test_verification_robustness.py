"""Hostile input gets an answer, never a crash or a hang (issue 6).

Through the worker process the service uses: loops, nesting, bombs,
truncations, non-PDF bytes and oversized files each end in a report or in
one ``UnverifiableInput`` sentence, within the time limit.
"""

from __future__ import annotations

import time

import pytest

from signing.verification import VerificationLimits
from signing.verification.context import TrustAnchors, UnverifiableInput
from signing.verification.sandbox import SandboxedVerifier, SandboxLimits, start_worker
from tests.support.hostile_pdfs import HOSTILE, huge_array
from tests.support.pdfs import BAD_INPUTS
from tests.support.signing import embedded_services
from tests.support.verification import anchors_of, signed_contract


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    with embedded_services(tmp_path_factory.mktemp("verify-robust") / "home", "66" * 32) as svc:
        yield svc


@pytest.fixture(scope="module")
def signed(services) -> bytes:
    return signed_contract(services, "B-LT")[0]


@pytest.fixture(scope="module")
def sandbox(services) -> SandboxedVerifier:
    anchors = anchors_of(services)
    return SandboxedVerifier(lambda: anchors, VerificationLimits(max_bytes=4 * 1024 * 1024),
                             SandboxLimits(timeout_seconds=20, memory_bytes=768 * 1024 * 1024))


def _inputs(signed: bytes) -> dict[str, bytes]:
    inputs = {name: make() for name, make in HOSTILE.items() if name != "huge-array"}
    inputs.update({f"bad-{name}": make() for name, (make, _reason) in BAD_INPUTS.items()})
    inputs.update({"signed-truncated": signed[: len(signed) // 2],
                   "signed-without-trailer": signed[: signed.rindex(b"startxref")],
                   "signed-xref-shifted": signed.replace(b"startxref\n", b"startxref\n1", 1),
                   "non-pdf-bytes": bytes(range(256)) * 64, "empty": b"",
                   "pdf-header-only": b"%PDF-1.7\n", "cms-garbage": b"\x30\x82\xff\xff" + bytes(64)})
    return inputs


def test_every_hostile_input_gets_a_report_or_one_sentence_in_time(sandbox, signed) -> None:
    answers = {}
    for name, data in _inputs(signed).items():
        started = time.monotonic()
        try:
            report = sandbox.verify(data)
            answers[name] = f"{report['indication']}/{report['sub_indication']}"
        except UnverifiableInput as error:
            assert error.detail and "\n" not in error.detail
            answers[name] = "unverifiable"
        assert time.monotonic() - started < 20, name
    # Nothing here is a valid signed document.
    assert "TOTAL-PASSED/None" not in answers.values(), answers
    assert answers["garbage-signature"] == "TOTAL-FAILED/FORMAT_FAILURE"
    assert answers["decompression-bomb"] == answers["page-tree-loop"] == "unverifiable"


def test_a_parse_that_runs_too_long_is_stopped_at_the_time_limit(services) -> None:
    quick = SandboxedVerifier(TrustAnchors, VerificationLimits(), SandboxLimits(timeout_seconds=1.5))
    started = time.monotonic()
    with pytest.raises(UnverifiableInput, match="longer than 1.5 seconds"):
        quick.verify(huge_array())
    assert time.monotonic() - started < 6


def test_a_verification_over_the_memory_limit_is_stopped(monkeypatch) -> None:
    """The worker's address-space limit (RLIMIT_AS) turns a runaway allocation into an answer."""
    from signing.verification import Verifier

    def greedy(self, data, **kwargs):  # noqa: ANN001, ANN202 - stands in for a parser gone wrong
        hoard = [bytearray(64 * 1024 * 1024) for _ in range(64)]
        return hoard

    monkeypatch.setattr(Verifier, "verify", greedy)
    # fork: the child inherits the patched method; the limit counts from what it already maps.
    tight = SandboxedVerifier(TrustAnchors, VerificationLimits(), SandboxLimits(memory_bytes=256 * 1024 * 1024),
                              start_method="fork")
    with pytest.raises(UnverifiableInput, match="more memory"):
        tight.verify(b"%PDF-1.7 anything")


def test_a_worker_forked_from_a_big_process_still_verifies(sandbox, signed, services) -> None:
    """The memory limit is on top of what the worker inherits: a parent that maps more than the limit
    (a long test session, a server with many threads) must not leave its forked worker without room to
    grow its stack, which was a segfault instead of a report."""
    import mmap

    reserved = mmap.mmap(-1, 1536 * 1024 * 1024)       # mapped, never touched: address space, not memory
    try:
        forked = SandboxedVerifier(lambda: anchors_of(services), VerificationLimits(),
                                   SandboxLimits(memory_bytes=512 * 1024 * 1024), start_method="fork")
        report = forked.verify(signed)
    finally:
        reserved.close()
    assert report["indication"] == "TOTAL-PASSED", report


def test_an_input_over_the_size_limit_is_refused_before_it_is_parsed(services, signed) -> None:
    small = SandboxedVerifier(TrustAnchors, VerificationLimits(max_bytes=16 * 1024))
    with pytest.raises(UnverifiableInput, match="over the limit of 16384"):
        small.verify(signed)


# -- the command line's early worker (start-up, issue 21): forked before its job, the same verdict and limits ----

def _without_time(report: dict) -> dict:
    return {key: value for key, value in report.items() if key != "validation_time"}


def test_an_early_worker_gives_the_report_a_worker_forked_at_once_gives(signed, services) -> None:
    anchors = anchors_of(services)
    early = SandboxedVerifier(lambda: anchors, VerificationLimits(), start_method="fork", early=start_worker())
    at_once = SandboxedVerifier(lambda: anchors, VerificationLimits(), start_method="fork")
    first = early.verify(signed)
    assert first["indication"] == "TOTAL-PASSED", first
    assert _without_time(first) == _without_time(at_once.verify(signed))
    assert early.early is None   # used once; the next verification forks its own worker
    assert _without_time(early.verify(signed)) == _without_time(first)


def test_an_early_worker_is_held_to_the_time_limit() -> None:
    quick = SandboxedVerifier(TrustAnchors, VerificationLimits(), SandboxLimits(timeout_seconds=1.5),
                              start_method="fork", early=start_worker())
    started = time.monotonic()
    with pytest.raises(UnverifiableInput, match="longer than 1.5 seconds"):
        quick.verify(huge_array())
    assert time.monotonic() - started < 6


def test_an_early_worker_is_held_to_the_memory_limit(monkeypatch) -> None:
    from signing.verification import Verifier

    def greedy(self, data, **kwargs):  # noqa: ANN001, ANN202 - stands in for a parser gone wrong
        return [bytearray(64 * 1024 * 1024) for _ in range(64)]

    monkeypatch.setattr(Verifier, "verify", greedy)   # before the fork: the worker inherits it
    tight = SandboxedVerifier(TrustAnchors, VerificationLimits(), SandboxLimits(memory_bytes=256 * 1024 * 1024),
                              start_method="fork", early=start_worker())
    with pytest.raises(UnverifiableInput, match="more memory"):
        tight.verify(b"%PDF-1.7 anything")


def test_an_early_worker_whose_caller_gives_up_before_a_job_exits() -> None:
    worker = start_worker()
    worker.connection.close()   # the command failed on its settings, say: no job comes
    worker.process.join(30)
    assert worker.process.exitcode == 0
