"""The Verify page, the QR code's page and the landing page in headless Chromium, in kk, ru and en (issue 20).

Each test opens its own browser context (its own cookies and language) on
the one server and browser of the run (conftest.py). Screenshots of every
page in every language go to docs/screenshots/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import LANGUAGES, screenshot, serious_violations

# What each language says, as its catalogue has it (api/pages/locale/*/LC_MESSAGES/messages.po).
SAYS = {
    "kk": {"title": "Қол қойылған құжатты тексеру", "valid": "Жарамды", "not_valid": "ЖАРАМСЫЗ",
           "all_valid": "Барлық қолтаңбалар жарамды (2).", "found": "Қол қойылған құжат табылды",
           "non_pdf": "Бұл файлды тексеру мүмкін емес", "too_large": "Файл тым үлкен", "empty": "Тексеру үшін",
           "iin": "ЖСН", "timezone": "(UTC+5)"},
    "ru": {"title": "Проверка подписанного документа", "valid": "Действительна", "not_valid": "НЕДЕЙСТВИТЕЛЬНА",
           "all_valid": "Все подписи действительны (2).", "found": "Подписанный документ найден",
           "non_pdf": "Этот файл невозможно проверить", "too_large": "Файл слишком большой",
           "empty": "Выберите подписанный PDF", "iin": "ИИН", "timezone": "(UTC+5)"},
    "en": {"title": "Verify a signed document", "valid": "Valid", "not_valid": "NOT valid",
           "all_valid": "All 2 signatures valid.", "found": "Signed document found",
           "non_pdf": "This file cannot be verified", "too_large": "The file is too large",
           "empty": "Choose the signed PDF", "iin": "IIN", "timezone": "(UTC+5)"},
}


def _open(browser, language: str | None, **options):  # noqa: ANN001, ANN202 - playwright objects
    """A fresh context whose browser asks for ``language`` first (Accept-Language), and its page."""
    context = browser.new_context(locale=language or "de-DE", **options)
    return context, context.new_page()


@pytest.mark.parametrize("language", LANGUAGES)
def test_verify_a_sealed_contract_shows_green_cards_and_a_changed_byte_a_red_card(browser, site, contract, tmp_path,
                                                                                   language) -> None:
    from tests.support.verification import tampered

    pdf, client, _document = contract
    context, page = _open(browser, language)
    try:
        page.goto(site.url + "/verify")
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator("h1").inner_text() == SAYS[language]["title"]
        page.set_input_files("#file", files=[{"name": "contract.pdf", "mimeType": "application/pdf", "buffer": pdf}])
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name={"kk": "Тексеру", "ru": "Проверить", "en": "Verify"}[language]).click()
        assert navigation.value.status == 200
        cards = page.locator("li.card")
        assert cards.count() == 2
        assert page.locator("li.card.card--passed").count() == 2
        assert set(cards.evaluate_all("cs => cs.map(c => c.dataset.indication)")) == {"TOTAL-PASSED"}
        assert page.locator(".result__sentence").inner_text() == SAYS[language]["all_valid"]
        first = cards.first.inner_text()
        assert SAYS[language]["valid"] in first and SAYS[language]["timezone"] in first
        # The IIN is masked on the page: its last four digits only.
        assert client.iin not in page.content() and "********" + client.iin[-4:] in first
        assert SAYS[language]["iin"] in first
        screenshot(page, f"verify-passed-{language}")
        with page.expect_download() as download:
            page.locator("a[download]").click()
        report = json.loads(Path(download.value.path()).read_text())
        assert report["indication"] == "TOTAL-PASSED" and len(report["signatures"]) == 2
        # The download is the API's report: English sentences, the full IIN the uploaded file carries.
        assert report["sentence"] == "All 2 signatures valid."

        page.set_input_files("#file", files=[{"name": "changed.pdf", "mimeType": "application/pdf",
                                               "buffer": tampered(pdf)}])
        with page.expect_navigation():
            page.locator("form.upload button[type=submit]").click()
        failed = page.locator("li.card.card--failed")
        assert failed.count() >= 1 and page.locator("li.card.card--passed").count() == 0
        assert SAYS[language]["not_valid"] in failed.first.inner_text()
        assert "HASH_FAILURE" in failed.first.inner_text()
        screenshot(page, f"verify-failed-{language}")
    finally:
        context.close()


def test_language_is_guessed_from_accept_language_then_kazakh_and_the_switch_is_remembered(browser, site) -> None:
    context, page = _open(browser, None)        # the browser asks for German: we have none, so Kazakh
    try:
        page.goto(site.url + "/")
        assert page.locator("html").get_attribute("lang") == "kk"
        page.get_by_role("link", name="Русский").click()
        page.wait_for_load_state()
        assert page.url == site.url + "/" and page.locator("html").get_attribute("lang") == "ru"
        page.get_by_role("link", name="Проверить документ").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == SAYS["ru"]["title"]
        assert page.locator(".langs a[aria-current=true]").inner_text() == "Русский"
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        assert cookies["qoltanba_lang"] == "ru"
        # The cookie outranks Accept-Language from then on, on every page.
        page.goto(site.url + "/verify/" + "0" * 32)
        assert page.locator("html").get_attribute("lang") == "ru"
        page.get_by_role("link", name="English").click()
        page.wait_for_load_state()
        assert page.url.endswith("/verify/" + "0" * 32) and page.locator("html").get_attribute("lang") == "en"
    finally:
        context.close()
    context, page = _open(browser, "ru-RU")      # Accept-Language: ru-RU is the first guess
    try:
        page.goto(site.url + "/")
        assert page.locator("html").get_attribute("lang") == "ru"
    finally:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_qr_code_on_the_stamp_leads_to_the_document_found_in_the_visitors_language(browser, site, contract,
                                                                                       tmp_path, language) -> None:
    from tests.support.pdf_judges import qr_codes_on_page

    pdf, client, document = contract
    path = tmp_path / "contract.pdf"
    path.write_bytes(pdf)
    links = set(qr_codes_on_page(path, 2, tmp_path))
    assert links == {f"{site.url}/verify/{document.id}"}
    context, page = _open(browser, language)
    try:
        answer = page.goto(links.pop())
        assert answer.status == 200
        assert page.locator("h1").inner_text() == SAYS[language]["found"]
        assert page.locator(".result__sentence").inner_text() == SAYS[language]["all_valid"]
        assert page.locator("li.card.card--passed").count() == 2
        text = page.content()
        assert document.id in text and "TOTAL-PASSED" in text
        for secret in (client.iin, client.serial, document.metadata.contract_number):
            assert secret not in text
        screenshot(page, f"document-{language}")
    finally:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_bad_inputs_give_a_message_in_the_page_language_and_no_stack_trace(browser, site, tmp_path,
                                                                           language) -> None:
    context, page = _open(browser, language)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.method + " " + r.url))
    try:
        page.goto(site.url + "/verify")
        alert = page.locator("#error")
        # An empty form: said at once, nothing sent.
        page.locator("form.upload button[type=submit]").click()
        assert alert.is_visible() and SAYS[language]["empty"] in alert.inner_text()
        assert page.evaluate("document.activeElement.id") == "error"
        # A 60 MB file: said at once, nothing uploaded.
        big = tmp_path / "big.pdf"
        with big.open("wb") as f:
            f.truncate(60 * 1024 * 1024)
        page.set_input_files("#file", str(big))
        page.locator("form.upload button[type=submit]").click()
        assert SAYS[language]["too_large"] in alert.inner_text() and "20" in alert.inner_text()
        assert not [r for r in requests if r.startswith("POST")]
        # Not a PDF nor a CMS: the server says so, 422, in the page's language.
        page.set_input_files("#file", files=[{"name": "notes.txt", "mimeType": "text/plain",
                                              "buffer": b"just some notes, no signature"}])
        with page.expect_navigation() as navigation:
            page.locator("form.upload button[type=submit]").click()
        assert navigation.value.status == 422
        assert SAYS[language]["non_pdf"] in page.locator("#error").inner_text()
        assert "Traceback" not in page.content() and "problem" not in page.content()
        screenshot(page, f"verify-refused-{language}")
        # A document id that is not ours: 404, the error page in the page's language.
        answer = page.goto(site.url + "/verify/" + "f" * 32)
        assert answer.status == 404 and page.locator("html").get_attribute("lang") == language
        assert page.locator("#error").is_visible()
        screenshot(page, f"not-found-{language}")
    finally:
        context.close()


PAGES = {"landing": "/", "verify": "/verify", "not-found": "/verify/" + "e" * 32}


@pytest.mark.parametrize("language", LANGUAGES)
def test_axe_finds_no_serious_or_critical_violation_on_any_page(browser, site, contract, axe_source,
                                                                language) -> None:
    pdf, _client, document = contract
    context, page = _open(browser, language, bypass_csp=True)   # axe is injected as a script tag
    found = {}
    try:
        for name, path in {**PAGES, "document": f"/verify/{document.id}"}.items():
            page.goto(site.url + path)
            found[name] = serious_violations(page, axe_source)
            if name == "landing":
                assert page.locator('main a[href="/console"]').count() == 1   # the staff's tile
                screenshot(page, f"landing-{language}")
            if name == "verify":
                screenshot(page, f"verify-{language}")
        page.goto(site.url + "/verify")
        page.set_input_files("#file", files=[{"name": "contract.pdf", "mimeType": "application/pdf", "buffer": pdf}])
        with page.expect_navigation():
            page.locator("form.upload button[type=submit]").click()
        found["verify-result"] = serious_violations(page, axe_source)
        page.locator("form.upload button[type=submit]").click()      # the empty form's message
        found["verify-message"] = serious_violations(page, axe_source)
    finally:
        context.close()
    assert {name: v for name, v in found.items() if v} == {}


def test_the_keyboard_reaches_everything_in_order(browser, site) -> None:
    context, page = _open(browser, "en")
    try:
        page.goto(site.url + "/verify")
        order = []
        for _ in range(8):
            page.keyboard.press("Tab")
            order.append(page.evaluate("(() => { const e = document.activeElement;"
                                       " return e.id || e.getAttribute('href') || e.textContent.trim(); })()"))
        assert order[0] == "#main"                                    # the skip link first
        assert order[1] == "/"
        assert [o.split("?")[0] for o in order[2:5]] == ["/lang/kk", "/lang/ru", "/lang/en"]
        assert order[5:8] == ["file", "detached", "Verify"]
    finally:
        context.close()


def test_the_verify_page_fits_a_phone(browser, site, contract) -> None:
    pdf, _client, _document = contract
    for language in LANGUAGES:
        context, page = _open(browser, language, viewport={"width": 360, "height": 740}, device_scale_factor=2,
                              is_mobile=True, has_touch=True)
        try:
            page.goto(site.url + "/verify")
            page.set_input_files("#file", files=[{"name": "contract.pdf", "mimeType": "application/pdf",
                                                  "buffer": pdf}])
            with page.expect_navigation():
                page.locator("form.upload button[type=submit]").tap()
            assert page.locator("li.card.card--passed").count() == 2
            # Nothing wider than the screen, and the buttons big enough for a thumb (WCAG 2.5.8: 24 px at least).
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            height = page.locator("form.upload button[type=submit]").bounding_box()["height"]
            assert height >= 44
            screenshot(page, f"phone-verify-passed-{language}")
        finally:
            context.close()
