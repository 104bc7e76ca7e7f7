"""The cabinet's pages through requests alone (issue 16): cookies, refusals in the page's language, LOAN-7/8/9.

A browser's run (Chromium, axe-core, screenshots) is tests/e2e/test_cabinet.py; here the cookies' attributes,
each form's refusal and the whole path on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_api_documents import mfo_key  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support.accounts import PASSWORD, eds_cms, invite
from tests.support.factors import last_code, own_token, phone, register, services, upload  # noqa: F401

PAGE = {"Accept": "text/html"}


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


def test_LOAN_7_LOAN_8_LOAN_9_register_log_in_and_change_the_phone_through_the_pages(http, alpha, services) -> None:
    iin = f.iin()
    token = own_token(services, iin)
    client = register(http, alpha, services, iin=iin, eds=token)
    upload(http, alpha, iin=iin, kind="schedule")
    invitation = invite(http, alpha, services, client)
    browser = TestClient(http.app, headers=PAGE, cookies={"qoltanba_lang": "ru"})
    opened = browser.get(f"/cabinet/register?t={invitation}", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/cabinet/register"
    cookie = opened.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "path=/cabinet/register" in cookie.lower()
    page = browser.get("/cabinet/register")
    assert page.status_code == 200 and 'type="password"' in page.text and "Сәрсенбаева" in page.text
    differ = browser.post("/cabinet/register", data={"password": PASSWORD, "again": PASSWORD + "x"})
    assert differ.status_code == 422 and 'role="alert"' in differ.text
    started = browser.post("/cabinet/register", data={"password": PASSWORD, "again": PASSWORD})
    assert started.status_code == 200 and 'id="step-sms"' in started.text
    assert browser.post("/cabinet/register/code", data={"code": "000000"}).status_code == 403
    assert browser.post("/cabinet/register/code", data={"code": last_code(services, client["phone"])}).status_code == 200
    assert browser.post("/cabinet/register/biometric/simulator").status_code == 200
    data = browser.get("/cabinet/register/data.txt")
    assert data.status_code == 200 and b"registration" in data.content
    cms = base64.b64decode(eds_cms(token, {}, data.content))
    done = browser.post("/cabinet/register/eds", files={"cms": ("s.p7s", cms, "application/pkcs7-signature")})
    assert done.status_code == 200 and 'id="registered"' in done.text, done.text
    # LOAN-8: log in; a wrong password is refused in Russian, the session cookie is strict.
    wrong = browser.post("/cabinet/login", data={"mfo": "alpha", "iin": iin, "password": "wrong-password"})
    assert wrong.status_code == 401 and 'role="alert"' in wrong.text and "неверны" in wrong.text
    logged = browser.post("/cabinet/login", data={"mfo": "alpha", "iin": iin, "password": PASSWORD},
                          follow_redirects=False)
    assert logged.status_code == 303, logged.text
    session = logged.headers["set-cookie"].lower()
    assert "httponly" in session and "samesite=strict" in session and "path=/cabinet" in session
    desk = browser.get("/cabinet")
    assert desk.status_code == 200 and client["phone"] in desk.text and "/cabinet/documents/" in desk.text
    # LOAN-9: the new phone, with its code, biometrics and EDS.
    new = phone()
    bad = browser.post("/cabinet/details", data={"phone": "123", "bank_account": "KZ00"})
    assert bad.status_code == 422 and bad.text.count("<li><strong>") >= 3
    opened = browser.post("/cabinet/details", data={"phone": new}, follow_redirects=False)
    assert opened.status_code == 303
    base = opened.headers["location"]
    assert browser.post(f"{base}/code", data={"code": last_code(services, new)}).status_code == 200
    assert browser.post(f"{base}/biometric/simulator").status_code == 200
    data = browser.get(f"{base}/data.txt").content
    changed = browser.post(f"{base}/eds", files={"cms": ("s.p7s", base64.b64decode(eds_cms(token, {}, data)),
                                                         "application/pkcs7-signature")})
    assert changed.status_code == 200 and 'id="changed"' in changed.text and new in changed.text
    assert any(new[-2:] in m.text for m in services.sms.messages(phone=client["phone"]))
    # Signed out, the pages answer the login form.
    out = browser.post("/cabinet/sign-out")
    assert out.status_code == 200 and 'id="signed-out"' in out.text
    assert browser.get("/cabinet").status_code == 401
