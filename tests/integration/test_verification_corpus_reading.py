"""The verification corpus, lenient reading (issue 14, items 1 and 4): files a strict parser refuses, readers open.

Each file is damaged in its signed revision and signed the way tolerant
tools sign such files (tests/support/corpus_damage.py); the verdict is
the signature's own, TOTAL-PASSED, with the report's warning that the file
was read leniently (never a silent pass); the same file with one signed byte
changed is TOTAL-FAILED / HASH_FAILURE, whatever the reading repaired:

| damage | how it is read |
|---|---|
| a hybrid-reference revision (table + /XRefStm) | pyHanko's non-strict reader |
| an update whose xref section declares a smaller /Size than the one before | pyHanko's non-strict reader |
| a classic table whose offsets miss their objects | a copy with the table repaired in place (qpdf), digests over the original |
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from signing.verification import VerificationOptions, Verifier
from tests.support import corpus_damage as damage
from tests.support import corpus_pdfs as corpus
from tests.support.corpus_pki import UTC, CorpusPki

T1 = dt.datetime(2026, 3, 1, tzinfo=UTC)
NOW = dt.datetime(2026, 12, 6, tzinfo=UTC)
LENIENT = "a strict reading refused the PDF because"


@pytest.fixture(scope="module")
def pki() -> CorpusPki:
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    return CorpusPki()


def _verify(pki, pdf: bytes, *, strict: bool = True):
    return Verifier(pki.anchors()).verify(pdf, options=VerificationOptions(at=NOW, strict=strict))


def _tampered(pdf: bytes) -> bytes:
    changed = bytearray(pdf)
    changed[changed.index(b"Microcredit contract")] ^= 0x20
    return bytes(changed)


@pytest.mark.parametrize(("damaged", "why"), [
    (damage.hybrid, "hybrid-reference file"), (damage.shrinking_size, "structure"),
], ids=["hybrid-reference", "xref-size-out-of-order"])
def test_file_only_a_lenient_reader_opens_is_verified_with_a_warning(pki, damaged, why) -> None:
    """READ_LENIENTLY: pyHanko's non-strict reader, the signature over the original bytes; tampering still fails."""
    pdf = corpus.with_lt_data(corpus.sign_lenient(damaged(corpus.base_pdf()), pki, pki.signer("LENIENT"), T1), pki,
                              T1 + dt.timedelta(hours=1), strict=False)
    report = _verify(pki, pdf)
    assert report.verdict.indication.value == "TOTAL-PASSED", report.as_json()
    (warning,) = report.warnings
    assert warning.startswith(LENIENT) and why in warning and "original bytes" in warning
    (entry,) = report.signatures
    assert entry.level == "B-LT" and entry.modification == "none"
    assert _verify(pki, _tampered(pdf)).verdict.sub_indication == "HASH_FAILURE"


def test_file_with_a_broken_xref_table_is_read_from_a_repaired_copy_and_checked_over_its_own_bytes(pki) -> None:
    """Offsets that miss their objects: neither pyHanko reader opens it; the table repaired in place, digests original."""
    sound = corpus.base_pdf()
    broken = damage.wrong_offsets(sound)
    signed = damage.sign_over_damage(sound, broken, pki, pki.signer("REPAIRED"), T1)
    sound_signed = sound + signed[len(broken):]
    pdf = damage.lt_over_damage(sound_signed, signed, pki, T1 + dt.timedelta(hours=1))
    assert pdf.startswith(broken)
    report = _verify(pki, pdf)
    assert report.verdict.indication.value == "TOTAL-PASSED", report.as_json()
    (warning,) = report.warnings
    assert warning.startswith(LENIENT) and "original bytes" in warning
    assert "cross-reference table points to places where no object begins" in warning
    (entry,) = report.signatures
    assert entry.level == "B-LT" and entry.intact and entry.valid
    assert _verify(pki, pdf, strict=False).warnings == report.warnings     # a repair is always said
    tampered = _verify(pki, _tampered(pdf))
    assert tampered.verdict.sub_indication == "HASH_FAILURE", tampered.as_json()
    assert tampered.warnings == report.warnings
