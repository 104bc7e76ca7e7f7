"""The borrower's Sign page in headless Chromium: from the MFO's link to the signed copy, in kk, ru and en (issue 20).

One module fixture makes the requests the tests walk through (over the
MFO's API on the session's server) and then moves the server's clock past
the two-hour review window (LOAN-5; conftest.ShiftedClock). The EDS is made
by simulators, named as such: an eGov mobile simulator that reads the QR
code from the screen (zbarimg), and an NCALayer simulator listening where
the page looks for NCALayer (tests/support/egov_mobile.py, ncalayer.py).
The last test moves the clock past the requests' lifetime (3 hours on this
server) for the "expired" page.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LANGUAGES, screenshot, serious_violations
from tests.support import factories as f
from tests.support.factors import CODE, Token, own_token, register, token_cms, upload
from tests.support.tenants import ensure_tenant

ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
SAYS = {
    "kk": {"title": "Құжатқа қол қою", "signed": "Құжатқа қол қойылды", "locked": "Сұрау бұғатталды",
           "expired": "Сілтеменің мерзімі өтті", "cancelled": "Сұрау жойылды", "review": "екі сағат",
           "sms": "қол қою коды", "evidence": "Қол қою дәлелі", "wrong": "Сәйкес келмеді",
           "bad_cms": "Ештеңеге қол қойылған жоқ", "stamp": "ЖСН", "role": "Қарыз алушы"},
    "ru": {"title": "Подписать документ", "signed": "Документ подписан", "locked": "Запрос заблокирован",
           "expired": "Срок действия ссылки истёк", "cancelled": "Запрос отменён", "review": "два часа",
           "sms": "код для подписания", "evidence": "Доказательства подписания", "wrong": "Не совпало",
           "bad_cms": "Ничего не подписано", "stamp": "ИИН", "role": "Заёмщик"},
    "en": {"title": "Sign the document", "signed": "The document is signed", "locked": "The request is locked",
           "expired": "The link has expired", "cancelled": "The request was cancelled", "review": "two hours",
           "sms": "is your code to sign", "evidence": "Evidence of signing", "wrong": "That did not match",
           "bad_cms": "Nothing was signed", "stamp": "IIN", "role": "Client"},
}


@dataclass
class Made:
    """A signing request as the MFO backend got it, with what its borrower holds."""

    id: str
    token: str
    client: dict
    own: Token | None = None

    @property
    def link(self) -> str:
        return f"/sign/{self.id}?t={self.token}"


@dataclass
class Desk:
    http: httpx.Client
    headers: dict
    made: dict[str, Made]


def _make(desk_http, headers, services, *, kind: str, language: str, eds: bool, held: bool = False,
          level: str = "B-T") -> Made:
    from tests.support.signing import client_with_held_key

    iin = client_with_held_key(services).iin if held else f.iin()
    own = own_token(services, iin) if eds else None
    client = register(desk_http, headers, services, iin=iin, eds=own)
    document = upload(desk_http, headers, iin=iin, kind=kind, loan_amount="250000.00")
    created = desk_http.post("/signing-requests", headers=headers, json={
        "document": document, "client": client["id"], "language": language, "level": level})
    assert created.status_code == 201, created.text
    return Made(created.json()["id"], created.json()["token"], client, own)


@pytest.fixture(scope="module")
def desk(site) -> Desk:
    """The MFO's requests for this module, made before the review window is moved past."""
    from ca.access import AccessService

    services = site.services
    ensure_tenant(services, "alpha")   # issue 15: an API key names a tenant that exists
    key = AccessService(services.registry, services.clock).create_key("mfo-e2e-sign", "mfo", by="test",
                                                                      tenant="alpha").key
    headers = {"X-API-Key": key}
    http = httpx.Client(base_url=site.url, timeout=60)
    made = {
        # B-LT: the revocation data in the file, so `qoltanba verify` passes it offline.
        "held": _make(http, headers, services, kind="schedule", language="kk", eds=False, held=True, level="B-LT"),
        "egov": _make(http, headers, services, kind="contract", language="ru", eds=True),
        "ncalayer": _make(http, headers, services, kind="contract", language="en", eds=True),
        "upload": _make(http, headers, services, kind="contract", language="kk", eds=True),
        "late": _make(http, headers, services, kind="contract", language="kk", eds=True),
        "locked": _make(http, headers, services, kind="schedule", language="kk", eds=False, held=True),
        "cancelled": _make(http, headers, services, kind="contract", language="ru", eds=True),
        "expiring": _make(http, headers, services, kind="contract", language="en", eds=True),
    }
    services.clock.advance(dt.timedelta(hours=2, minutes=1))
    # Made after the move: its review window is still open.
    made["review"] = _make(http, headers, services, kind="contract", language="kk", eds=True)
    yield Desk(http, headers, made)
    http.close()


def _open(browser, site, made: Made, language: str | None = None, **options):  # noqa: ANN202
    """A fresh browser context following the MFO's link; ``language``: the page's switch cookie."""
    # bypass_csp: axe-core is injected as a script tag (the pages' own CSP allows no inline script).
    context = browser.new_context(locale="kk-KZ", bypass_csp=True, **options)
    if language:
        context.add_cookies([{"name": "qoltanba_lang", "value": language, "url": site.url}])
    page = context.new_page()
    answer = page.goto(site.url + made.link)
    assert answer.status == 200 and page.url == f"{site.url}/sign/{made.id}"   # the token left the address
    return context, page


def _axe(page, axe_source) -> None:  # noqa: ANN001
    found = serious_violations(page, axe_source)
    assert not found, found


def _biometrics(page) -> None:  # noqa: ANN001
    page.locator("#step-biometric button[type=submit]").click()
    moves = page.locator("ol.moves li")
    assert moves.count() == 4
    page.locator("#step-biometric form button[type=submit]").click()   # the simulator films the movements
    assert page.locator("#step-biometric.step--done").count() == 1


def _choose_certificate(page) -> None:  # noqa: ANN001
    page.locator("#eds form button[type=submit]").click()
    assert page.locator("#way-egov img.qr").count() == 1


def _qoltanba_verify(site, pdf: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QOLTANBA_DATABASE_URL": site.database_url}
    return subprocess.run([sys.executable, "-m", "api.cli", "verify", str(pdf), "--home", str(site.home)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_LOAN5_the_review_time_left_is_shown_and_no_step_is_offered_before_it_ends(browser, site, desk,
                                                                                    axe_source) -> None:
    for language in LANGUAGES:
        context, page = _open(browser, site, desk.made["review"], language)
        try:
            assert page.locator("html").get_attribute("lang") == language
            assert page.locator("h1").inner_text() == SAYS[language]["title"]
            assert SAYS[language]["review"] in page.locator("#review-left").inner_text()
            assert page.locator("#steps form").count() == 0
            # The contract is read as pictures of its pages, drawn by the server.
            first = page.locator("ol.sheets img").first
            first.wait_for()
            assert page.evaluate("img => img.naturalWidth", first.element_handle()) > 500
            _axe(page, axe_source)
            screenshot(page, f"sign-review-{language}")
        finally:
            context.close()


def test_LOAN6_sms_code_from_the_outbox_and_the_biometric_simulator_then_sign_and_download_what_qoltanba_verify_passes(
        browser, site, desk, axe_source, tmp_path) -> None:
    made = desk.made["held"]
    context, page = _open(browser, site, made)
    try:
        page.locator("#step-sms form.inline button").click()
        page.locator("#step-sms p.notice").wait_for()   # "We sent a code": the page after the POST
        text = desk.http.get("/dev/sms-outbox", headers=desk.headers,
                             params={"phone": made.client["phone"]}).json()[-1]["text"]
        assert SAYS["kk"]["sms"] in text
        code = CODE.search(text).group(1)
        # A wrong code first: a message in Kazakh, nothing proven.
        page.fill("#sms-code", "000000" if code != "000000" else "111111")
        page.locator("#step-sms form.code-form button").click()
        assert SAYS["kk"]["wrong"] in page.locator("#error").inner_text()
        assert page.locator("#step-sms.step--done").count() == 0
        page.fill("#sms-code", code)
        page.locator("#step-sms form.code-form button").click()
        expect(page.locator("#step-sms.step--done")).to_have_count(1)   # once the page after the POST is there
        page.locator("#step-biometric button[type=submit]").click()
        _axe(page, axe_source)
        screenshot(page, "sign-steps-kk")
        page.locator("#step-biometric form button[type=submit]").click()
        assert page.locator("#step-biometric.step--done").count() == 1
        page.locator("#eds form button[type=submit]").click()   # the key the service holds signs
        assert page.locator("h1").inner_text() == SAYS["kk"]["signed"]
        with page.expect_download() as download:
            page.locator("#signed-pdf").click()
        pdf = tmp_path / "signed.pdf"
        download.value.save_as(pdf)
        verified = _qoltanba_verify(site, pdf)
        assert verified.returncode == 0 and verified.stdout.startswith("TOTAL-PASSED"), verified.stdout + verified.stderr
        stamp = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert f"{SAYS['kk']['stamp']} {made.client['iin']}" in stamp and SAYS["kk"]["role"] in stamp
        for language in LANGUAGES:
            page.goto(f"{site.url}/lang/{language}?next=/sign/{made.id}")
            assert page.locator("h1").inner_text() == SAYS[language]["signed"]
            _axe(page, axe_source)
            screenshot(page, f"sign-signed-{language}")
            page.locator("#evidence").click()
            assert page.locator("h1").inner_text() == SAYS[language]["evidence"]
            assert made.client["iin"] not in page.content()
            _axe(page, axe_source)
            screenshot(page, f"sign-evidence-{language}")
    finally:
        context.close()


def test_LOAN2_the_eds_through_the_egov_mobile_simulator_reading_the_qr_code_and_a_used_link_is_refused(
        browser, site, desk, axe_source, tmp_path) -> None:
    from tests.support.egov_mobile import EgovMobileSimulator, nca_rk_signer, read_qr
    from tests.support.verification import our_cms

    made = desk.made["egov"]
    chain = tuple(site.services.hierarchy.chain("national"))
    phone = EgovMobileSimulator(lambda data: our_cms(made.own.key, made.own.certificate, chain, data))
    context, page = _open(browser, site, made)
    try:
        _biometrics(page)
        _choose_certificate(page)
        # The EDS ways in each language (the switch keeps the open EDS session), Russian last: the borrower's.
        for language in ("kk", "en", "ru"):
            page.goto(f"{site.url}/lang/{language}?next=/sign/{made.id}")
            assert page.locator("#way-egov img.qr").count() == 1
            _axe(page, axe_source)
            screenshot(page, f"sign-eds-{language}")
        qr = tmp_path / "qr.png"
        page.locator("#egov-qr").screenshot(path=str(qr))
        scanned = read_qr(qr)
        assert scanned.startswith("mobileSign:" + site.url + "/mobile-sign?link=")
        # The same link opens the app on the same phone (the deep link carries it).
        assert "mgovsign.page.link" in page.locator("#egov-link").get_attribute("href")
        # The NCA RK's test key (tests/vectors, GOST 2015) signs what the phone fetched: not the certificate the
        # borrower chose, so the service refuses it as a failed attempt, and nothing is signed.
        nca = nca_rk_signer()
        fetched = phone.fetch(scanned)
        refused = phone.put_back(fetched, nca(fetched.data))
        assert refused.status_code == 403 and refused.json()["code"] == "factor-refused"   # counted, as a wrong code
        signed = phone.sign_from(scanned)
        assert signed.status_code == 200 and signed.json() == {"status": "sealed", "signed": True}
        used = phone.fetch(scanned)
        assert used.status_code == 410 and used.json()["code"] == "link-gone"
        page.locator("#way-egov a.button--quiet").click()   # "Refresh"
        assert page.locator("h1").inner_text() == SAYS["ru"]["signed"]
    finally:
        context.close()


def test_LOAN2_the_eds_through_the_ncalayer_simulator(browser, site, desk, axe_source) -> None:
    from tests.support.ncalayer import NCALayerSimulator

    made = desk.made["ncalayer"]
    with NCALayerSimulator(site.ncalayer_port, lambda digest: token_cms(made.own.key, made.own.certificate, digest),
                           made.own.certificate) as ncalayer:
        context, page = _open(browser, site, made)
        try:
            _biometrics(page)
            _choose_certificate(page)
            digest = page.locator("#ncalayer-form").get_attribute("data-digest")
            with page.expect_navigation():
                page.locator("#ncalayer-sign").click()
            assert page.locator("h1").inner_text() == SAYS["en"]["signed"]
            assert ncalayer.requests == [{"module": "kz.gov.pki.knca.commonUtils",
                                          "method": "createCAdESFromBase64Hash", "args": ["PKCS12", "SIGNATURE", digest]}]
        finally:
            context.close()


def test_LOAN2_the_eds_by_uploading_a_cms_file_after_a_wrong_file_is_refused(browser, site, desk, axe_source,
                                                                            tmp_path) -> None:
    from tests.support.egov_mobile import nca_rk_signer
    from tests.support.verification import our_cms

    made = desk.made["upload"]
    chain = tuple(site.services.hierarchy.chain("national"))
    context, page = _open(browser, site, made)
    try:
        _biometrics(page)
        _choose_certificate(page)
        page.set_input_files("#cms-file", files=[{"name": "contract.p7s", "mimeType": "application/pkcs7-signature",
                                                  "buffer": b"not a CMS"}])
        page.locator("#way-upload button[type=submit]").click()
        assert SAYS["kk"]["bad_cms"] in page.locator("#error").inner_text()
        _axe(page, axe_source)
        screenshot(page, "sign-eds-refused-kk")
        with page.expect_download() as download:
            page.locator("#way-upload a").click()
        data = Path(download.value.path()).read_bytes()
        # The NCA RK's real test key signs the right data, but with its own certificate (expired since 2024-11-08,
        # not the one the borrower chose): refused, said on the page, nothing signed.
        page.set_input_files("#cms-file", files=[{"name": "nca.p7s", "mimeType": "application/pkcs7-signature",
                                                  "buffer": nca_rk_signer()(data)}])
        page.locator("#way-upload button[type=submit]").click()
        assert SAYS["kk"]["bad_cms"] in page.locator("#error").inner_text()
        assert page.locator("h1").inner_text() == SAYS["kk"]["title"]
        cms = our_cms(made.own.key, made.own.certificate, chain, data)
        page.set_input_files("#cms-file", files=[{"name": "contract.p7s", "mimeType": "application/pkcs7-signature",
                                                  "buffer": cms}])
        page.locator("#way-upload button[type=submit]").click()
        assert page.locator("h1").inner_text() == SAYS["kk"]["signed"]
    finally:
        context.close()


def test_an_expired_qr_link_is_refused(browser, site, desk, tmp_path) -> None:
    from tests.support.egov_mobile import EgovMobileSimulator, read_qr

    made = desk.made["late"]
    context, page = _open(browser, site, made)
    try:
        _biometrics(page)
        _choose_certificate(page)
        qr = tmp_path / "qr.png"
        page.locator("#egov-qr").screenshot(path=str(qr))
        scanned = read_qr(qr)
        site.services.clock.advance(dt.timedelta(minutes=site.services.settings.handoff_link_minutes, seconds=5))
        late = EgovMobileSimulator(lambda data: b"").fetch(scanned)
        assert late.status_code == 410 and late.json()["code"] == "link-gone"
        forged = EgovMobileSimulator(lambda data: b"").fetch(scanned[:-6] + "AAAAAA")
        assert forged.status_code == 404
    finally:
        context.close()


def test_locked_and_cancelled_requests_have_their_own_pages(browser, site, desk, axe_source) -> None:
    locked, cancelled = desk.made["locked"], desk.made["cancelled"]
    for _attempt in range(site.services.signing_policies.codes.max_failures + 1):
        desk.http.post(f"/client/signing-requests/{locked.id}/codes", headers={"X-Signing-Token": locked.token},
                       json={"factor": "sms", "code": "000000"})
    assert desk.http.get(f"/signing-requests/{locked.id}", headers=desk.headers).json()["status"] == "locked"
    assert desk.http.post(f"/signing-requests/{cancelled.id}/cancel", headers=desk.headers).status_code == 200
    for made, state in ((locked, "locked"), (cancelled, "cancelled")):
        for language in LANGUAGES:
            context, page = _open(browser, site, made, language)
            try:
                assert page.locator("h1").inner_text() == SAYS[language][state]
                assert page.locator("#state").get_attribute("data-state") == state
                assert page.locator("form").count() == 0
                _axe(page, axe_source)
                screenshot(page, f"sign-{state}-{language}")
            finally:
                context.close()


def test_a_link_without_its_token_is_refused_with_a_page_not_a_stack_trace(browser, site, desk) -> None:
    context = browser.new_context(locale="ru-RU")
    try:
        page = context.new_page()
        answer = page.goto(f"{site.url}/sign/{desk.made['review'].id}")
        assert answer.status == 401 and "Traceback" not in page.content()
        assert page.locator("h1").inner_text() == "Эта ссылка не работает"
    finally:
        context.close()


def test_the_signing_page_on_a_phone(browser, site, desk, axe_source) -> None:
    """390 x 844 CSS pixels, touch: nothing wider than the screen, the contract readable, the steps reachable."""
    for language in LANGUAGES:
        context, page = _open(browser, site, desk.made["expiring"], language, viewport=PHONE, is_mobile=True,
                              has_touch=True, device_scale_factor=2)
        try:
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            page.locator("ol.sheets img").first.wait_for()
            assert page.locator("ol.sheets img").first.bounding_box()["width"] <= PHONE["width"]
            biometric = page.locator("#step-biometric button[type=submit]")
            biometric.scroll_into_view_if_needed()
            assert biometric.is_visible() and biometric.bounding_box()["width"] >= 200
            _axe(page, axe_source)
            screenshot(page, f"sign-phone-{language}")
        finally:
            context.close()


def test_an_expired_request_has_its_own_page(browser, site, desk, axe_source) -> None:
    """Last: the server's clock moves past the requests' lifetime (3 hours here)."""
    made = desk.made["expiring"]
    site.services.clock.advance(dt.timedelta(hours=1))
    for language in LANGUAGES:
        context, page = _open(browser, site, made, language)
        try:
            assert page.locator("h1").inner_text() == SAYS[language]["expired"]
            assert page.locator("#state").get_attribute("data-state") == "expired"
            _axe(page, axe_source)
            screenshot(page, f"sign-expired-{language}")
        finally:
            context.close()
