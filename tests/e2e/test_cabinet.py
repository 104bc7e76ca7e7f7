"""The borrower's personal cabinet in headless Chromium (issue 16): register → log in → my documents → change phone.

The MFO invites a client it registered (over its API on the session's
server); the borrower follows the link the SMS outbox holds and does the
rest in the browser, in Russian, then switches to Kazakh and English: the
password, the SMS code, the biometric step (the provider's simulator), the
EDS (the borrower's own token signs the text the page offers, as a CAdES
tool would, and the page takes the CMS file), the login (LOAN-8), the list
of documents with the signed copy, and the change of phone (LOAN-9) with
its code, biometrics and EDS, the old phone told. axe-core on every page;
a phone-size viewport; screenshots (conftest.screenshot).
"""

from __future__ import annotations

import base64
import hashlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.conftest import screenshot, serious_violations
from tests.support import factories as f
from tests.support.accounts import PASSWORD, invitation_token
from tests.support.factors import CODE, own_token, phone, register, token_cms, upload
from tests.support.tenants import ensure_tenant

PHONE = {"width": 390, "height": 844}
SAYS = {"ru": "Мои документы", "kk": "Менің құжаттарым", "en": "My documents"}


@pytest.fixture(scope="module")
def invited(site):
    """A client of tenant "alpha" with an EDS token and a document, invited to the cabinet."""
    from ca.access import AccessService

    services = site.services
    ensure_tenant(services, "alpha")
    key = AccessService(services.registry, services.clock).create_key("mfo-e2e-cabinet", "mfo", by="test",
                                                                      tenant="alpha").key
    headers = {"X-API-Key": key}
    with httpx.Client(base_url=site.url, timeout=60) as http:
        iin = f.iin()
        token = own_token(services, iin)
        client = register(http, headers, services, iin=iin, eds=token)
        document = upload(http, headers, iin=iin, kind="schedule")
        answer = http.post(f"/clients/{client['id']}/account", headers=headers, json={"language": "ru"})
        assert answer.status_code == 201, answer.text
    return {"client": client, "iin": iin, "token": token, "document": document,
            "invitation": invitation_token(services, client["phone"])}


def _code(site, number: str) -> str:
    return CODE.search(site.services.sms.messages(phone=number)[-1].text).group(1)


def _axe(page, axe_source) -> None:  # noqa: ANN001
    found = serious_violations(page, axe_source)
    assert not found, found


def _eds(page, site, invited, data_path: str, tmp_path, name: str) -> None:  # noqa: ANN001
    """The borrower's own token signs the text the page offers; the CMS file goes into the page's form."""
    data = page.request.get(site.url + data_path)
    assert data.status == 200
    token = invited["token"]
    # Playwright's sync API keeps an asyncio loop in this thread; the token's signer (pyHanko, asyncio) runs in
    # a thread of its own, as NCALayer is a program of its own.
    with ThreadPoolExecutor(1) as pool:
        cms = pool.submit(token_cms, token.key, token.certificate, hashlib.sha256(data.body()).digest()).result()
    path = tmp_path / f"{name}.p7s"
    path.write_bytes(base64.b64encode(cms))
    page.locator("#cms-file").set_input_files(str(path))
    page.locator("#step-eds button[type=submit]").click()


def test_LOAN_7_LOAN_8_LOAN_9_register_log_in_see_documents_and_change_the_phone(browser, site, invited,
                                                                                axe_source, tmp_path) -> None:
    context = browser.new_context(locale="ru-RU", bypass_csp=True)
    page = context.new_page()
    # The invitation link: the token goes into a cookie and leaves the address bar.
    answer = page.goto(f"{site.url}/cabinet/register?t={invited['invitation']}")
    assert answer.status == 200 and page.url == f"{site.url}/cabinet/register"
    assert page.locator("h1").inner_text() == "Регистрация в личном кабинете"
    _axe(page, axe_source)
    screenshot(page, "cabinet-register-ru")
    page.fill("#password", PASSWORD)
    page.fill("#again", PASSWORD + "!")
    page.locator("form.cabinet-form button[type=submit]").click()
    assert page.locator("#error").is_visible() and "Пароли не совпадают" in page.locator("#error").inner_text()
    page.fill("#password", PASSWORD)
    page.fill("#again", PASSWORD)
    page.locator("form.cabinet-form button[type=submit]").click()
    # LOAN-7: the SMS code, biometrics and EDS.
    assert page.locator("#step-sms").count() == page.locator("#step-biometric").count() == 1
    assert page.locator("#step-eds").count() == 1
    _axe(page, axe_source)
    screenshot(page, "cabinet-register-steps-ru")
    page.fill("#sms-code", "000000")
    page.locator("#step-sms button[type=submit]").click()
    assert page.locator("#error").is_visible()
    page.fill("#sms-code", _code(site, invited["client"]["phone"]))
    page.locator("#step-sms button[type=submit]").click()
    assert page.locator("#step-sms.step--done").count() == 1
    page.locator("#step-biometric button[type=submit]").click()
    assert page.locator("#step-biometric.step--done").count() == 1
    _eds(page, site, invited, "/cabinet/register/data.txt", tmp_path, "registration")
    assert page.locator("#registered").is_visible()
    _axe(page, axe_source)
    page.locator("a.button", has_text="Войти").click()

    # LOAN-8: log in with the IIN and the password.
    assert page.url.startswith(f"{site.url}/cabinet/login")
    _axe(page, axe_source)
    screenshot(page, "cabinet-login-ru")
    page.fill("#iin", invited["iin"])
    page.fill("#password", "wrong-password-1")
    page.locator("form.cabinet-form button[type=submit]").click()
    assert "неверны" in page.locator("#error").inner_text()
    page.fill("#iin", invited["iin"])
    page.fill("#password", PASSWORD)
    page.locator("form.cabinet-form button[type=submit]").click()
    assert page.url == f"{site.url}/cabinet"
    assert page.locator("h1").inner_text() == SAYS["ru"]
    assert invited["client"]["phone"] in page.locator("#my-phone").inner_text()
    link = page.locator(f"a[href='/cabinet/documents/{invited['document']}.pdf']")
    assert link.count() == 1
    pdf = page.request.get(site.url + link.get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    _axe(page, axe_source)
    screenshot(page, "cabinet-desk-ru")

    # LOAN-9: a new phone, confirmed by its code, biometrics and EDS; the old phone told.
    old, new = invited["client"]["phone"], phone()
    page.locator("a", has_text="Изменить телефон").click()
    _axe(page, axe_source)
    screenshot(page, "cabinet-details-ru")
    page.fill("#phone", "12345")
    page.locator("form.cabinet-form button[type=submit]").click()
    assert page.locator("#error").is_visible() and "Новый телефон" in page.locator("#error").inner_text()
    page.fill("#phone", new)
    page.locator("form.cabinet-form button[type=submit]").click()
    change = page.url.removeprefix(site.url)
    assert change.startswith("/cabinet/details/")
    _axe(page, axe_source)
    screenshot(page, "cabinet-change-ru")
    page.fill("#sms-code", _code(site, new))
    page.locator("#step-sms button[type=submit]").click()
    page.locator("#step-biometric button[type=submit]").click()
    _eds(page, site, invited, change.split("#")[0] + "/data.txt", tmp_path, "change")
    assert page.locator("#changed").is_visible()
    assert page.locator("#my-phone").inner_text() == new
    assert any("изменён" in m.text for m in site.services.sms.messages(phone=old))

    # The language switch: the same page in Kazakh and English, remembered.
    for code, name in (("kk", "Қазақша"), ("en", "English")):
        page.locator(f".langs a[lang={code}]").click()
        assert page.locator("h1").inner_text() == SAYS[code] and page.locator("html").get_attribute("lang") == code
        _axe(page, axe_source)
        screenshot(page, f"cabinet-desk-{code}")
    page.locator("form[action='/cabinet/sign-out'] button").click()
    assert page.locator("#signed-out").is_visible()
    assert page.goto(f"{site.url}/cabinet").status == 401
    context.close()


def test_the_cabinet_on_a_phone(browser, site, axe_source) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="kk-KZ", bypass_csp=True)
    page = context.new_page()
    assert page.goto(f"{site.url}/cabinet/login?mfo=alpha").status == 200
    assert page.locator("h1").inner_text() == "Жеке кабинетке кіру"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    _axe(page, axe_source)
    screenshot(page, "cabinet-login-phone-kk")
    context.close()
