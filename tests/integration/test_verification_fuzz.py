"""Fuzzing the verifier with mutated signed PDFs for a bounded time (issue 6 robustness).

Hypothesis mutates two of our signed contracts (B-LT and B-LTA): byte
flips, truncations, splices of one region into another, deletions, with
positions drawn both uniformly and next to the structures a verifier reads
(/ByteRange, /Contents, xref, trailer, the DSS). Each input must give a
report or ``UnverifiableInput``; any other exception, or one input taking
longer than ``PER_INPUT_SECONDS``, fails. The run stops after
``QOLTANBA_VERIFY_FUZZ_SECONDS`` (default 20) and prints how many inputs it tried.

The verifier runs in-process here, without the worker, so its own error
handling is what is tested; the worker adds the time and memory limits on
top (test_verification_robustness.py).
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signing.verification.context import UnverifiableInput
from tests.support.signing import embedded_services
from tests.support.verification import signed_contract, verifier_of

BUDGET_SECONDS = float(os.environ.get("QOLTANBA_VERIFY_FUZZ_SECONDS", "20"))
PER_INPUT_SECONDS = 20
_LANDMARKS = re.compile(rb"/ByteRange|/Contents|xref|trailer|startxref|/DSS|/OCSPs|/Certs|/AcroForm|/Fields|obj")


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    with embedded_services(tmp_path_factory.mktemp("verify-fuzz") / "home", "77" * 32) as svc:
        yield svc


@pytest.fixture(scope="module")
def seeds(services) -> list[tuple[bytes, list[int]]]:
    pdfs = [signed_contract(services, level)[0] for level in ("B-LT", "B-LTA")]
    return [(pdf, [m.start() for m in _LANDMARKS.finditer(pdf)]) for pdf in pdfs]


def _position(draw, pdf: bytes, landmarks: list[int]) -> int:
    if landmarks and draw(st.booleans()):
        return min(len(pdf) - 1, draw(st.sampled_from(landmarks)) + draw(st.integers(-8, 40)))
    return draw(st.integers(0, len(pdf) - 1))


@st.composite
def mutants(draw, seeds):  # noqa: ANN001, ANN201
    pdf, landmarks = draw(st.sampled_from(seeds))
    data = bytearray(pdf)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "flip", "truncate", "splice", "delete", "digits"]))
        at = _position(draw, bytes(data), landmarks) if data else 0
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "splice":
            source = draw(st.integers(0, len(data) - 1))
            data[at:at] = data[source:source + draw(st.integers(1, 4096))]
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 512))]
        else:   # a number that parses but lies (offsets, lengths, counts)
            data[at:at] = str(draw(st.sampled_from([0, -1, 2**31, 10**12, 99999]))).encode()
        if not data:
            break
    return bytes(data)


def _alarm(_signum, _frame):  # noqa: ANN001, ANN202
    raise TimeoutError(f"one input took longer than {PER_INPUT_SECONDS} s")


def test_mutated_signed_pdfs_get_a_report_or_a_refusal_never_an_exception(services, seeds, record_property,
                                                                           capsys):
    verifier = verifier_of(services)
    outcomes = {"report": 0, "unverifiable": 0}

    @settings(max_examples=25, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(mutants(seeds))
    def one(data: bytes) -> None:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(PER_INPUT_SECONDS)
        try:
            report = verifier.verify(data)
            outcomes["report"] += 1
            for entry in report.signatures:
                assert entry.indication.value in ("TOTAL-PASSED", "INDETERMINATE", "TOTAL-FAILED")
                assert entry.sentence
        except UnverifiableInput as error:
            outcomes["unverifiable"] += 1
            assert error.detail
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)

    deadline = time.monotonic() + BUDGET_SECONDS
    while time.monotonic() < deadline:
        one()
    tried = sum(outcomes.values())
    record_property("fuzz_inputs_tried", tried)
    with capsys.disabled():
        print(f"\nfuzz: {tried} mutated signed PDFs in {BUDGET_SECONDS:g} s: {outcomes['report']} reports, "
              f"{outcomes['unverifiable']} refused as unverifiable, no unhandled exception")
    assert tried >= 50
