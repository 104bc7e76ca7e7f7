"""The verification corpus (issue 14, items 1 and 4): every real-world class of file, built here, with its verdict.

Each file is written revision by revision with pyHanko over a PKI of the
test's own (tests/support/corpus_pki.py, corpus_pdfs.py) and verified
offline; each test states the indication and sub-indication ETSI EN 319
102-1 gives (Table 5) and the reason the report's sentence says:

| class | verdict |
|---|---|
| form filling, annotations, signature maintenance after a signature | TOTAL-PASSED, the change named |
| shadow replace / hide / hide-and-replace, incremental saving attack | INDETERMINATE / SIG_CONSTRAINTS_FAILURE |
| signature wrapping attack | TOTAL-FAILED / FORMAT_FAILURE |
| a change a certification level (DocMDP P=1/2/3) forbids | TOTAL-FAILED / FORMAT_FAILURE |
| SHA-1 proven (time-stamped) before its sunset, any validation time | TOTAL-PASSED |
| SHA-1 with no proof it is older than the sunset, validated after it | INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE |
| SHA-1 time-stamped after the sunset | INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE |
| Ed25519, Ed448 | TOTAL-PASSED |
| several B-LT signatures; two LTA extensions | TOTAL-PASSED, each signature and time-stamp |
| a file only a lenient reader opens | TOTAL-PASSED with a warning |
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from pyhanko.sign.fields import MDPPerm

from signing.verification import VerificationOptions, Verifier
from signing.verification import words
from tests.support import corpus_pdfs as corpus
from tests.support.corpus_pki import UTC, CorpusPki

T1 = dt.datetime(2026, 3, 1, tzinfo=UTC)
NOW = dt.datetime(2026, 12, 6, tzinfo=UTC)
BEFORE_SUNSET = dt.datetime(2008, 6, 1, tzinfo=UTC)
PASSED = ("TOTAL-PASSED", None)
SHADOW = ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE")
LOCKED = ("TOTAL-FAILED", "FORMAT_FAILURE")


@pytest.fixture(scope="module")
def pki() -> CorpusPki:
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)   # pyHanko logs every refused change at ERROR
    return CorpusPki()


@pytest.fixture(scope="module")
def signed_lt(pki) -> bytes:
    """One approval signature, time-stamped at T1, with the CRLs in the DSS (B-LT)."""
    return corpus.with_lt_data(corpus.sign(corpus.base_pdf(), pki, pki.signer("ALICE"), T1), pki,
                               T1 + dt.timedelta(hours=1))


def _verify(pki, pdf: bytes, at: dt.datetime = NOW, *, strict: bool = True):
    return Verifier(pki.anchors()).verify(pdf, options=VerificationOptions(at=at, strict=strict))


def _verdict(entry) -> tuple[str, str | None]:
    return entry.indication.value, entry.verdict.sub_indication


def test_validation_data_form_filling_and_annotations_after_a_signature_are_named_and_pass(pki, signed_lt) -> None:
    """Signature maintenance, form filling and annotations (ISO 32000-1 §12.8.2.2) leave the signature TOTAL-PASSED."""
    for pdf, modification, note in ((signed_lt, "none", "Only validation data or time-stamps were added"),
                                    (corpus.fill_field(signed_lt), "form_filling", "form fields were filled in"),
                                    (corpus.add_comment(signed_lt), "annotations", "annotations (comments) were added")):
        (entry,) = _verify(pki, pdf).signatures
        assert _verdict(entry) == PASSED, entry.as_json()
        assert entry.modification == modification and note in entry.sentence and entry.level == "B-LT"


@pytest.mark.parametrize(("attack", "said"), [
    (corpus.shadow_replace, words.REPLACED_PAGE_CONTENT),
    (corpus.shadow_replace_page_contents, words.REPLACED_PAGE_CONTENT),
    (corpus.shadow_replace_font, words.REPLACED_RESOURCES),
    (corpus.shadow_hide, words.REPLACED_ANNOTATION_APPEARANCE),
    (corpus.incremental_saving_attack, words.UNREVISED_TAIL),
], ids=["replace-object", "replace-page", "hide-and-replace-font", "hide-overlay", "incremental-saving"])
def test_shadow_and_incremental_saving_attacks_are_flagged_with_what_was_replaced(pki, signed_lt, attack, said) -> None:
    """Shadow attacks (NDSS 2021) and ISA (CCS 2019): INDETERMINATE / SIG_CONSTRAINTS_FAILURE naming the replacement."""
    (entry,) = _verify(pki, attack(signed_lt)).signatures
    assert _verdict(entry) == SHADOW, entry.as_json()
    assert entry.intact and entry.valid and entry.modification == "other"
    assert said in entry.verdict.reason and said in entry.sentence and "cannot be confirmed" in entry.sentence


def test_signature_wrapping_attack_is_total_failed_format_failure(pki) -> None:
    """SWA (CCS 2019): an object smuggled into the unsigned /Contents gap breaks the signature's format."""
    signed = corpus.sign(corpus.base_pdf(), pki, pki.signer("WRAPPED"), T1)
    (entry,) = _verify(pki, corpus.signature_wrapping_attack(signed)).signatures
    assert _verdict(entry) == LOCKED and "NOT valid" in entry.sentence


@pytest.mark.parametrize(("permission", "change", "expected"), [
    (MDPPerm.NO_CHANGES, None, PASSED), (MDPPerm.NO_CHANGES, corpus.fill_field, LOCKED),
    (MDPPerm.NO_CHANGES, corpus.add_comment, LOCKED),
    (MDPPerm.FILL_FORMS, corpus.fill_field, PASSED), (MDPPerm.FILL_FORMS, corpus.add_comment, LOCKED),
    (MDPPerm.ANNOTATE, corpus.fill_field, PASSED), (MDPPerm.ANNOTATE, corpus.add_comment, PASSED),
    (MDPPerm.ANNOTATE, corpus.shadow_replace, LOCKED),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_certification_level_is_honoured(pki, permission, change, expected) -> None:
    """DocMDP /P 1, 2, 3 (ISO 32000-1 §12.8.2.2): a change the level forbids fails the certification signature."""
    certified = corpus.with_lt_data(corpus.sign(corpus.base_pdf(), pki, pki.signer("CERTIFIER"), T1,
                                                certify=permission), pki, T1 + dt.timedelta(hours=1))
    (entry,) = _verify(pki, change(certified) if change else certified).signatures
    assert _verdict(entry) == expected, entry.as_json()
    if expected == LOCKED:
        assert "NOT valid" in entry.sentence


def test_several_lt_signatures_and_two_archive_time_stamps_each_pass(pki, signed_lt) -> None:
    """EN 319 102-1 §5.6 (validation of long-term signatures): each signature and each document time-stamp."""
    two = corpus.with_lt_data(corpus.sign(signed_lt, pki, pki.signer("BOB", "p256"), T1 + dt.timedelta(days=1),
                                          field="Signature2"), pki, T1 + dt.timedelta(days=1, hours=1))
    report = _verify(pki, two)
    assert [(_verdict(e), e.level) for e in report.signatures] == [(PASSED, "B-LT"), (PASSED, "B-LT")]
    first = corpus.doc_timestamp(two, pki, T1 + dt.timedelta(days=2))
    second = corpus.doc_timestamp(corpus.with_lt_data(first, pki, dt.datetime(2030, 1, 1, tzinfo=UTC)), pki,
                                  dt.datetime(2030, 1, 2, tzinfo=UTC))
    for at in (NOW, dt.datetime(2045, 1, 1, tzinfo=UTC)):
        report = _verify(pki, second, at)
        assert [e.kind for e in report.signatures] == ["signature", "signature", "document_timestamp",
                                                       "document_timestamp"]
        assert all(_verdict(e) == PASSED for e in report.signatures), report.as_json()
        assert [e.level for e in report.signatures[:2]] == ["B-LTA", "B-LTA"]


@pytest.mark.parametrize("kind", ["rsa", "p256"])
def test_sha1_signature_passes_before_its_sunset_and_after_it_with_a_proof_of_existence(pki, kind) -> None:
    """SHA-1 (sunset 2012-07-31, algorithms.py): time-stamped in 2008, it passes in 2008 and today (§5.6.2.5)."""
    pdf = corpus.with_lt_data(corpus.sign(corpus.base_pdf(), pki, pki.signer(f"SHA1 {kind}", kind), BEFORE_SUNSET,
                                          md="sha1"), pki, BEFORE_SUNSET + dt.timedelta(hours=1))
    for at in (BEFORE_SUNSET + dt.timedelta(days=30), NOW):
        (entry,) = _verify(pki, pdf, at).signatures
        assert _verdict(entry) == PASSED and entry.digest_algorithm == "sha1", entry.as_json()


def test_sha1_signature_without_proof_of_existence_is_crypto_constraints_failure_no_poe(pki) -> None:
    """Validated after SHA-1's sunset with nothing proving it older: INDETERMINATE, never "unreadable"."""
    holder = pki.signer("SHA1 UNSTAMPED")
    pdf = corpus.with_lt_data(corpus.sign(corpus.base_pdf(), pki, holder, BEFORE_SUNSET, md="sha1", timestamp=False),
                              pki, BEFORE_SUNSET)
    (entry,) = _verify(pki, pdf).signatures
    assert _verdict(entry) == ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"), entry.as_json()
    assert entry.intact and entry.valid
    assert "SHA1" in entry.sentence and "2012-07-31" in entry.sentence and "nothing proves" in entry.sentence
    (earlier,) = _verify(pki, pdf, BEFORE_SUNSET + dt.timedelta(days=1)).signatures
    assert _verdict(earlier) == PASSED, earlier.as_json()


def test_sha1_signature_time_stamped_after_its_sunset_is_crypto_constraints_failure(pki) -> None:
    """A SHA-256 time-stamp of 2015 proves the SHA-1 signature was made after the sunset (EN 319 102-1 Table 5)."""
    late = dt.datetime(2015, 1, 1, tzinfo=UTC)
    pdf = corpus.with_lt_data(corpus.sign(corpus.base_pdf(), pki, pki.signer("SHA1 LATE"), late, md="sha1"), pki,
                              late + dt.timedelta(hours=1))
    (entry,) = _verify(pki, pdf).signatures
    assert _verdict(entry) == ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE"), entry.as_json()
    assert "its time-stamp shows it was made after that date" in entry.sentence


@pytest.mark.parametrize(("kind", "md"), [("ed25519", "sha512"), ("ed448", "shake256")])
def test_edwards_curve_signatures_are_checked_and_pass(pki, kind, md) -> None:
    """Ed25519 and Ed448 (RFC 8419): checked cryptographically like any other signature."""
    holder = pki.signer(f"EDWARDS {kind}", kind)
    pdf = corpus.with_lt_data(corpus.sign(corpus.base_pdf(), pki, holder, T1, md=md), pki, T1 + dt.timedelta(hours=1))
    (entry,) = _verify(pki, pdf).signatures
    assert _verdict(entry) == PASSED, entry.as_json()
    broken = bytearray(pdf)
    broken[broken.index(b"Microcredit contract")] ^= 0x20
    (entry,) = _verify(pki, bytes(broken)).signatures
    assert _verdict(entry) == ("TOTAL-FAILED", "HASH_FAILURE")


def test_file_only_a_lenient_reader_opens_passes_with_a_warning(pki) -> None:
    """A wrong startxref in the signed revision: read leniently, the signature checked over the original bytes."""
    damaged = corpus.with_wrong_startxref(corpus.base_pdf())
    pdf = corpus.with_lt_data(corpus.sign_lenient(damaged, pki, pki.signer("TOLERANT"), T1), pki,
                              T1 + dt.timedelta(hours=1), strict=False)
    report = _verify(pki, pdf)
    assert report.verdict.indication.value == "TOTAL-PASSED", report.as_json()
    (warning,) = report.warnings
    assert warning.startswith("a strict reading refused the PDF because") and "original bytes" in warning
    assert _verify(pki, pdf, strict=False).warnings == ()
    tampered = bytearray(pdf)
    tampered[tampered.index(b"Microcredit contract")] ^= 0x20
    assert _verify(pki, bytes(tampered)).verdict.sub_indication == "HASH_FAILURE"
