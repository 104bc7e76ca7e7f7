"""The verification corpus, legacy part (issue 14, items 1 and 4): plain ECDSA, adbe.pkcs7.sha1, the sunset table.

Files built here (tests/support/corpus_legacy.py) over the corpus PKI and
verified offline; each test names the EN 319 102-1 indication and
sub-indication (Table 5) and what the sentence says:

| class | verdict |
|---|---|
| plain-format ECDSA (BSI TR-03111 ecdsa-plain-*), PDF and CMS | TOTAL-PASSED; a wrong r: TOTAL-FAILED / SIG_CRYPTO_FAILURE |
| plain ECDSA with SHA-1, nothing proving it older than SHA-1's sunset | INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE |
| /adbe.pkcs7.sha1 time-stamped before SHA-1's sunset | TOTAL-PASSED, at any validation time |
| /adbe.pkcs7.sha1 without a time-stamp, validated after the sunset | INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE |
| /adbe.pkcs7.sha1 time-stamped after the sunset | INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE |
| /adbe.pkcs7.sha1 over a changed document | TOTAL-FAILED / HASH_FAILURE |
| ECDSA P-224 time-stamped after its sunset (2021-09-30, ETSI TS 119 312 V2.1.1 Table D.2) | INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE |
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from signing.verification import VerificationOptions, Verifier
from tests.support import corpus_legacy as legacy
from tests.support import corpus_pdfs as corpus
from tests.support.corpus_pki import UTC, CorpusPki

T1 = dt.datetime(2026, 3, 1, tzinfo=UTC)
NOW = dt.datetime(2026, 12, 6, tzinfo=UTC)
IN_2008 = dt.datetime(2008, 6, 1, tzinfo=UTC)
PASSED = ("TOTAL-PASSED", None)
NO_POE = ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE")
PROVEN_LATE = ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE")
CONTENT = b"Microcredit contract MK-2026/778, detached"


@pytest.fixture(scope="module")
def pki() -> CorpusPki:
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    return CorpusPki()


def _verify(pki, data: bytes, at: dt.datetime = NOW, detached: bytes | None = None):
    return Verifier(pki.anchors()).verify(data, detached=detached, options=VerificationOptions(at=at))


def _verdict(entry) -> tuple[str, str | None]:
    return entry.indication.value, entry.verdict.sub_indication


def _tampered(pdf: bytes) -> bytes:
    changed = bytearray(pdf)
    changed[changed.index(b"Microcredit contract")] ^= 0x20
    return bytes(changed)


def _plain_pdf(pki, holder, at: dt.datetime, digest: str = "sha256", **kwargs) -> bytes:
    signed = corpus.sign(corpus.base_pdf(), pki, holder, at, md=digest,
                         signer=legacy.PlainEcdsaSigner(holder, digest, **kwargs))
    return corpus.with_lt_data(signed, pki, at + dt.timedelta(hours=1))


@pytest.mark.parametrize(("kind", "digest", "name", "size"), [
    ("p256", "sha256", "ecdsa-plain-SHA256", 64), ("p384", "sha384", "ecdsa-plain-SHA384", 96),
    ("p256", "sha3_256", "ecdsa-plain-SHA3-256", 64)])
def test_plain_ecdsa_pdf_signature_is_verified_cryptographically(pki, kind, digest, name, size) -> None:
    """BSI TR-03111 plain ECDSA (r || s) in PAdES: TOTAL-PASSED, not "algorithm not supported"; changes still caught."""
    holder = pki.signer(f"PLAIN {kind} {digest}", kind)
    pdf = _plain_pdf(pki, holder, T1, digest)
    assert len(legacy.signature_value(pdf)) == size        # r || s, not a DER SEQUENCE
    (entry,) = _verify(pki, pdf).signatures
    assert _verdict(entry) == PASSED and entry.signature_algorithm == name, entry.as_json()
    assert entry.intact and entry.valid and ": valid." in entry.sentence
    (changed,) = _verify(pki, _tampered(pdf)).signatures
    assert _verdict(changed) == ("TOTAL-FAILED", "HASH_FAILURE")


def test_plain_ecdsa_pdf_signature_with_a_wrong_value_is_sig_crypto_failure(pki) -> None:
    """A wrong r, or a DER value under a plain OID: the signature does not verify (TOTAL-FAILED / SIG_CRYPTO_FAILURE)."""
    holder = pki.signer("PLAIN WRONG", "p256")
    for broken in (_plain_pdf(pki, holder, T1, corrupt=True), _plain_pdf(pki, holder, T1, der=True)):
        (entry,) = _verify(pki, broken).signatures
        assert _verdict(entry) == ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE"), entry.as_json()
        assert entry.intact and not entry.valid and "NOT valid" in entry.sentence


def test_plain_ecdsa_detached_cms_is_verified(pki) -> None:
    """Plain ECDSA in a detached CMS (.p7s): TOTAL-PASSED over the right content, HASH_FAILURE or SIG_CRYPTO_FAILURE else."""
    holder = pki.signer("PLAIN CMS", "p256")
    good = legacy.plain_ecdsa_cms(CONTENT, pki, legacy.PlainEcdsaSigner(holder), T1)
    (entry,) = _verify(pki, good, detached=CONTENT).signatures
    assert _verdict(entry) == PASSED and entry.signature_algorithm == "ecdsa-plain-SHA256", entry.as_json()
    (other,) = _verify(pki, good, detached=CONTENT + b".").signatures
    assert _verdict(other) == ("TOTAL-FAILED", "HASH_FAILURE")
    wrong = legacy.plain_ecdsa_cms(CONTENT, pki, legacy.PlainEcdsaSigner(holder, corrupt=True), T1)
    (entry,) = _verify(pki, wrong, detached=CONTENT).signatures
    assert _verdict(entry) == ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE"), entry.as_json()


def test_plain_ecdsa_with_sha1_is_judged_by_the_sunset_table(pki) -> None:
    """ecdsa-plain-SHA1 unstamped: TOTAL-PASSED in 2008, CRYPTO_CONSTRAINTS_FAILURE_NO_POE today (the digest the OID names)."""
    holder = pki.signer("PLAIN SHA1", "p256")
    signed = corpus.sign(corpus.base_pdf(), pki, holder, IN_2008, md="sha1", timestamp=False,
                         signer=legacy.PlainEcdsaSigner(holder, "sha1"))
    pdf = corpus.with_lt_data(signed, pki, IN_2008)
    (entry,) = _verify(pki, pdf).signatures
    assert _verdict(entry) == NO_POE and entry.signature_algorithm == "ecdsa-plain-SHA1", entry.as_json()
    assert "SHA1" in entry.sentence and "2012-07-31" in entry.sentence
    (earlier,) = _verify(pki, pdf, IN_2008 + dt.timedelta(days=1)).signatures
    assert _verdict(earlier) == PASSED, earlier.as_json()


def test_adbe_pkcs7_sha1_time_stamped_before_the_sunset_passes_then_and_now(pki) -> None:
    """ISO 32000-1 §12.8.3.3 /adbe.pkcs7.sha1, time-stamped in 2008: TOTAL-PASSED in 2008 and today (§5.6.2.5)."""
    pdf = corpus.with_lt_data(legacy.sign_sha1_subfilter(corpus.base_pdf(), pki, pki.signer("SHA1 SUBFILTER"),
                                                         IN_2008), pki, IN_2008 + dt.timedelta(hours=1))
    assert b"/SubFilter /adbe.pkcs7.sha1" in pdf
    for at in (IN_2008 + dt.timedelta(days=30), NOW):
        (entry,) = _verify(pki, pdf, at).signatures
        assert _verdict(entry) == PASSED and entry.digest_algorithm == "sha1", entry.as_json()
        assert "time-stamped 2008-06-01" in entry.sentence and ": valid." in entry.sentence
    (changed,) = _verify(pki, _tampered(pdf)).signatures
    assert _verdict(changed) == ("TOTAL-FAILED", "HASH_FAILURE"), changed.as_json()


def test_adbe_pkcs7_sha1_reports_sha1_weakness_never_format_failure(pki) -> None:
    """Unstamped: CRYPTO_CONSTRAINTS_FAILURE_NO_POE today, TOTAL-PASSED before the sunset; stamped in 2015: ..._FAILURE."""
    unstamped = corpus.with_lt_data(legacy.sign_sha1_subfilter(corpus.base_pdf(), pki, pki.signer("SHA1 SF BARE"),
                                                               IN_2008, timestamp=False), pki, IN_2008)
    (entry,) = _verify(pki, unstamped).signatures
    assert _verdict(entry) == NO_POE and entry.intact and entry.valid, entry.as_json()
    assert "nothing proves" in entry.sentence and "2012-07-31" in entry.sentence
    (earlier,) = _verify(pki, unstamped, IN_2008 + dt.timedelta(days=1)).signatures
    assert _verdict(earlier) == PASSED, earlier.as_json()
    late = dt.datetime(2015, 1, 1, tzinfo=UTC)
    stamped_late = corpus.with_lt_data(legacy.sign_sha1_subfilter(corpus.base_pdf(), pki, pki.signer("SHA1 SF LATE"),
                                                                  late), pki, late + dt.timedelta(hours=1))
    (entry,) = _verify(pki, stamped_late).signatures
    assert _verdict(entry) == PROVEN_LATE, entry.as_json()
    assert "its time-stamp shows it was made after that date" in entry.sentence


def test_ecdsa_p224_is_relied_on_until_its_corrected_sunset(pki) -> None:
    """ECDSA on a 224-bit curve: Table D.2 says < 2021-10-01 (this table said 2025-12-31 before it was checked)."""
    holder = pki.signer("P224", "p224")
    early = dt.datetime(2020, 6, 1, tzinfo=UTC)
    late = dt.datetime(2024, 6, 1, tzinfo=UTC)
    for stamped, expected in ((early, PASSED), (late, PROVEN_LATE)):
        pdf = corpus.with_lt_data(corpus.sign(corpus.base_pdf(), pki, holder, stamped), pki,
                                  stamped + dt.timedelta(hours=1))
        (entry,) = _verify(pki, pdf).signatures
        assert _verdict(entry) == expected, entry.as_json()
    assert "224 bits" in entry.sentence and "2021-09-30" in entry.sentence and "Table D.2" in entry.sentence
