"""What the borrower reads outside a page, in kk, ru and en: the SMS with the code, the stamp's labels (issue 20)."""

from __future__ import annotations

import datetime as dt

import pytest

from api.catalogues import say
from signing.factors.sms import code_text
from signing.stamps.content import StampContent, StampLabels
from signing.stamps.layout import stamp_lines

SMS = {"kk": ("шарт", "қол қою коды", "мин жарамды", "Ешкімге айтпаңыз"),
       "ru": ("договор", "код для подписания", "Действует 5 мин", "Никому не сообщайте"),
       "en": ("contract", "is your code to sign", "Valid 5 min", "Do not share it")}
STAMP = {"kk": ("ЖСН 850101300123", "Сериялық № 0A1B", "(Алматы, UTC+5)", "Қарыз алушы"),
         "ru": ("ИИН 850101300123", "Серийный № 0A1B", "(Алматы, UTC+5)", "Заёмщик"),
         "en": ("IIN 850101300123", "Serial 0A1B", "(Almaty, UTC+5)", "Client")}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_sms_with_the_signing_code_is_in_the_borrowers_language(language) -> None:
    text = code_text(say, language, code="482913", kind="contract", number="MK-2026/1", digest="1a2b3c4d",
                     minutes=5)
    assert "482913" in text and "MK-2026/1" in text and "1a2b3c4d" in text
    for words in SMS[language]:
        assert words in text, text


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_stamps_labels_and_role_are_in_the_borrowers_language(language) -> None:
    from signing.stamps.content import ROLES

    content = StampContent(signer_name="СӘРСЕНБАЕВА ӘЙГЕРІМ", serial=0x0A1B, iin="850101300123",
                           signed_at=dt.datetime(2026, 12, 7, 6, 30, tzinfo=dt.timezone.utc),
                           role=say(language, ROLES["Client"]), verify_url="https://q.kz/verify/1",
                           labels=StampLabels.said(say, language))
    lines = stamp_lines(content)
    assert lines[1] == STAMP[language][0] and lines[2] == STAMP[language][1]
    assert lines[3] == "2026-12-07 11:30:00 " + STAMP[language][2] and lines[4] == STAMP[language][3]


def test_without_a_language_the_stamp_keeps_its_english_labels() -> None:
    assert StampLabels.said(say, None) == StampLabels()
    assert (StampLabels().iin, StampLabels().serial, StampLabels().zone) == ("IIN", "Serial", "Asia/Almaty")
