"""The pages over HTTP without a browser: negotiation, language choice, refusals as pages (issue 20).

The browser's view is tests/e2e; here the rules a request alone shows: an
API client's answers are unchanged, a browser's refusals are pages in its
language with the API's status, the language switch goes only to our own
paths.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    from api.http.app import create_app
    from api.settings import Settings
    from api.wiring import Services

    settings = Settings(home=tmp_path_factory.mktemp("pages") / "home", master_key="45" * 32, verify_burst=50,
                        public_burst=500)
    services = Services.build(settings)
    services.migrate()
    services.bootstrap.initialise()
    with TestClient(create_app(services=services)) as client:
        yield client
    services.close()


def test_a_browser_gets_pages_and_an_api_client_the_api_as_before(web) -> None:
    assert web.get("/verify").status_code == 405 and web.get("/verify").headers["allow"] == "POST"
    page = web.get("/verify", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    refused = web.post("/verify", files={"file": ("notes.txt", b"no signature here")})
    assert refused.status_code == 422 and refused.json()["code"] == "unverifiable"
    assert web.get("/verify/" + "0" * 32).headers["content-type"].startswith("application/problem+json")
    assert web.get("/verify/" + "0" * 32, headers=HTML).headers["content-type"].startswith("text/html")


def test_the_language_is_the_cookie_then_accept_language_then_kazakh(web) -> None:
    def lang(headers: dict) -> str:
        text = web.get("/", headers={**HTML, **headers}).text
        return text.split('<html lang="', 1)[1][:2]

    assert lang({}) == "kk"
    assert lang({"Accept-Language": "de-DE,de;q=0.9"}) == "kk"
    assert lang({"Accept-Language": "de-DE,ru;q=0.5,en;q=0.4"}) == "ru"
    assert lang({"Accept-Language": "en-GB, ru;q=0"}) == "en"
    assert lang({"Accept-Language": "ru", "Cookie": "qoltanba_lang=en"}) == "en"
    assert lang({"Accept-Language": "ru", "Cookie": "qoltanba_lang=xx"}) == "ru"


def test_the_language_switch_remembers_and_goes_back_only_to_our_own_paths(web) -> None:
    switched = web.get("/lang/ru", params={"next": "/verify"}, headers=HTML, follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/verify"
    cookie = switched.headers["set-cookie"]
    assert "qoltanba_lang=ru" in cookie and "samesite=lax" in cookie.lower() and "Max-Age=31536000" in cookie
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        answer = web.get("/lang/kk", params={"next": elsewhere}, follow_redirects=False)
        assert answer.headers["location"] == "/", elsewhere
    assert web.get("/lang/xx", headers=HTML, follow_redirects=False).status_code == 404


def test_bad_input_from_a_browser_is_a_page_in_its_language_with_the_apis_status(web) -> None:
    russian = {**HTML, "Cookie": "qoltanba_lang=ru"}
    empty = web.post("/verify", headers=russian, files={"file": ("", b"", "application/octet-stream")})
    assert empty.status_code == 422 and "Выберите подписанный PDF или файл CMS для проверки." in empty.text
    text = web.post("/verify", headers=russian, files={"file": ("notes.txt", b"no signature here")})
    assert text.status_code == 422 and "Этот файл невозможно проверить" in text.text
    # 60 MB: the upload limit (api/http/limits.py) refuses it before it is read; the browser gets the page.
    big = b"%PDF-1.7\n" + b"0" * (60 * 1024 * 1024)
    too_large = web.post("/verify", headers={**HTML, "Cookie": "qoltanba_lang=kk"},
                         files={"file": ("big.pdf", big, "application/pdf")})
    assert too_large.status_code == 413 and too_large.headers["content-type"].startswith("text/html")
    assert "Файл тым үлкен: тексерілетін файлдың өлшемі 20 МБ аспауы керек." in too_large.text
    for answer in (empty, text, too_large):
        assert "Traceback" not in answer.text and '"code"' not in answer.text
    assert web.get("/no-such-page", headers={**HTML, "Accept-Language": "en"}).status_code == 404


def test_the_landing_page_leads_to_verify_and_to_the_console_in_each_language(web) -> None:
    """README's `/` row: the way to Verify and, for staff, to /console (a tile the page shows only when the
    application serves the console; FastAPI's included routers hide their paths from a walk of the routes)."""
    tiles = {"kk": "Консольді ашу", "ru": "Открыть консоль", "en": "Open the console"}
    for language, words in tiles.items():
        web.cookies.set("qoltanba_lang", language)
        text = web.get("/", headers=HTML).text
        assert 'href="/verify"' in text and 'href="/console"' in text and words in text, language
    web.cookies.clear()
