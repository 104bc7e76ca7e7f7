"""The verification sentences, said from the report's JSON: English as the API has always said it, and in kk/ru."""

from __future__ import annotations

import datetime as dt

from signing.verification.report import (
    CertificateView,
    RevocationView,
    SignatureReport,
    SignerView,
    TimeStampView,
    Verdict,
    VerificationReport,
)
from signing.verification.words import say_document, say_signature, signature_sentence

AT = dt.datetime(2026, 12, 6, 20, 30, tzinfo=dt.timezone.utc)
ROOT = CertificateView("CN=QOLTANBA ROOT CA", "CN=QOLTANBA ROOT CA", "01", "ab" * 32)


def _signer(iin: str | None = "850101300123", organisation: str | None = None, bin_: str | None = None):
    return SignerView("SARSENBAYEVA AIGERIM", iin, bin_, organisation, (), ROOT, (), (), True)


def _report(verdict: Verdict, **changes) -> SignatureReport:
    values = dict(kind="signature", field="Client-Signature", intact=True, valid=True, verdict=verdict,
                  modification="none", coverage="entire_file", level="B-LT", signer=_signer(), trust_anchor=ROOT,
                  best_signature_time=AT, revocation=RevocationView("good", AT, "document"),
                  timestamp=TimeStampView("QOLTANBA TSA", AT, "1", None, True, True, True))
    values.update(changes)
    return SignatureReport(**values)


def test_english_sentences_are_the_apis_words_exactly() -> None:
    passed = _report(Verdict.passed())
    assert signature_sentence(passed) == (
        "Signature 'Client-Signature' by SARSENBAYEVA AIGERIM (IIN 850101300123), time-stamped 2026-12-06 "
        "20:30:00 UTC: valid. The certificate chains to CN=QOLTANBA ROOT CA and was not revoked at that time.")
    seal = _report(Verdict.failed("HASH_FAILURE", "the digest over the signed bytes does not match"),
                   field="MFO-Seal", signer=_signer(None, "QOLTANBA MFO", "190340000017"),
                   best_signature_time=None, claimed_signing_time=AT, modification="form_filling")
    assert signature_sentence(seal) == (
        "Signature 'MFO-Seal' by SARSENBAYEVA AIGERIM (QOLTANBA MFO, BIN 190340000017), claimed 2026-12-06 "
        "20:30:00 UTC: NOT valid, because the signed content was changed after signing. Note: form fields were "
        "filled in or signatures added after it.")
    stamp = _report(Verdict.indeterminate("TRY_LATER", "no revocation data"), kind="document_timestamp", field=None,
                    signer=None, coverage="entire_revision")
    assert signature_sentence(stamp) == (
        "Document time-stamp by an unidentified signer at 2026-12-06 20:30:00 UTC: cannot be confirmed, because the "
        "certificate's revocation status is not known: the document carries no revocation data for that time and "
        "none was fetched. Only validation data or time-stamps were added after it.")
    report = VerificationReport("pdf", (passed, seal), AT, "00" * 32, 10)
    assert report.as_json()["sentence"] == "The document is NOT valid: 1 of 2 signatures did not pass ('MFO-Seal')."
    assert VerificationReport("pdf", (passed, passed), AT, "00" * 32, 10).sentence() == "All 2 signatures valid."
    assert VerificationReport("pdf", (), AT, "00" * 32, 10).sentence() == (
        "The document cannot be confirmed as signed: it carries no signature.")


def test_the_pages_say_the_sentences_in_kazakh_and_russian_with_almaty_time() -> None:
    from api.pages.i18n import Language

    passed = _report(Verdict.passed()).as_json()
    kk, ru = Language("kk"), Language("ru")
    said = say_signature(passed, kk.voice)
    assert said.startswith("Қолтаңба 'Client-Signature', қол қойған: SARSENBAYEVA AIGERIM (ЖСН 850101300123)")
    assert "2026\u202fж. 7 желтоқсан, 01:30:00 (UTC+5)" in said and said.endswith("кері қайтарып алынбаған.")
    assert say_signature(passed, ru.voice).endswith("на тот момент оно не было отозвано.")
    failed = _report(Verdict.failed("HASH_FAILURE", "x")).as_json()
    assert "НЕДЕЙСТВИТЕЛЬНА, так как подписанное содержимое изменено после подписания" in say_signature(failed,
                                                                                                         ru.voice)
    # Russian plural forms: "из 2 подписей", "из 21 подписи".
    two = {"indication": "TOTAL-FAILED", "signatures": [failed, passed]}
    assert say_document(two, ru.voice) == ("Документ НЕДЕЙСТВИТЕЛЕН: не пройдена проверка 1 из 2 подписей "
                                           "('Client-Signature').")
    many = {"indication": "TOTAL-FAILED", "signatures": [failed] + [passed] * 20}
    assert "1 из 21 подписи" in say_document(many, ru.voice)
    assert say_document(two, Language("en").voice) == say_document(two)
