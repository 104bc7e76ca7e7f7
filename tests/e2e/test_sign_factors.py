"""The Sign page's other factor steps in headless Chromium (issue 20): the authenticator's code where a policy asks
for it, and the biometric step through the identity provider's page (QOLTANBA_BIOMETRIC_PROVIDER_URL).

The provider's page is a simulator, named as such (tests/support/biometric_provider.py): a web server on
loopback that shows the movements, signs an assertion with its own key and sends the browser back to the Sign
page with it. It is served to a second app of this module, configured as production would be for the biometric
step (the provider's name, public key and page; no simulator in the page). The TOTP test runs on the session's
server, for a tenant whose own policy (issue 15) asks for the authenticator's code and the biometric check.
"""

from __future__ import annotations

import copy
import datetime as dt
import secrets
import urllib.parse

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LANGUAGES, screenshot, serious_violations, serving
from tests.support.factors import CODE, register, upload
from tests.support.tenants import ensure_tenant

SAYS = {"kk": {"signed": "Құжатқа қол қойылды", "totp": "Аутентификатор қосымшасындағы код",
               "wrong": "Сәйкес келмеді", "cancelled": "Жеке басты растау провайдері"},
        "ru": {"signed": "Документ подписан", "totp": "Код из приложения-аутентификатора", "wrong": "Не совпало",
               "cancelled": "Провайдер идентификации"},
        "en": {"signed": "The document is signed", "totp": "Code from your authenticator app",
               "wrong": "That did not match", "cancelled": "The identity provider did not confirm"}}


def _mfo(site, tenant: str) -> tuple[httpx.Client, dict]:
    """A client of the site whose default key is an administrator's (it reads the development outbox unmasked,
    as the borrower's phone gets it: tests/support/factors.py), and the tenant's MFO key for its headers."""
    from ca.access import AccessService

    ensure_tenant(site.services, tenant)
    access = AccessService(site.services.registry, site.services.clock)
    mfo = access.create_key(f"mfo-{tenant}-{secrets.token_hex(3)}", "mfo", by="test", tenant=tenant).key
    admin = access.create_key(f"admin-{secrets.token_hex(3)}", "administrator", by="test").key
    return httpx.Client(base_url=site.url, timeout=60, headers={"X-API-Key": admin}), {"X-API-Key": mfo}


def _request(http, headers, services, *, language: str, totp: bool = False) -> tuple[str, str, dict]:
    """A repayment schedule (no review window) for a borrower whose key the service holds: (id, link, client)."""
    from tests.support.signing import client_with_held_key

    iin = client_with_held_key(services).iin
    client = register(http, headers, services, iin=iin, totp=totp)
    document = upload(http, headers, iin=iin, kind="schedule")
    created = http.post("/signing-requests", headers=headers, json={
        "document": document, "client": client["id"], "language": language, "level": "B-T"})
    assert created.status_code == 201, created.text
    return created.json()["id"], f"/sign/{created.json()['id']}?t={created.json()['token']}", client


def _open(browser, site, link: str, language: str | None = None):  # noqa: ANN202
    context = browser.new_context(locale="kk-KZ", bypass_csp=False)
    if language:
        context.add_cookies([{"name": "qoltanba_lang", "value": language, "url": site.url}])
    page = context.new_page()
    assert page.goto(site.url + link).status == 200
    return context, page


def _axe(page, axe_source) -> None:  # noqa: ANN001
    """axe-core injected by Playwright's own channel: the page's CSP (no inline script) stays in force."""
    found = serious_violations(page, axe_source, under_csp=True)
    assert not found, found


# --- the authenticator's code (TOTP) ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def totp_tenant(site):
    """A tenant whose schedules need the authenticator's code and the biometric check (on DOMAIN.md's floor:
    LOAN-6's two factors of different kinds)."""
    from signing.policies.policy import default_policies

    policy = copy.deepcopy(default_policies().as_json())
    rules = [r for r in policy["rules"] if r["name"] != "LOAN-6"]
    loan6 = next(r for r in policy["rules"] if r["name"] == "LOAN-6")
    policy["rules"] = [*rules, {**loan6, "any_of": [{"all_of": ["totp", "biometric"]}]}]
    ensure_tenant(site.services, "totp-e2e")
    site.services.tenants.set_policy("test", "totp-e2e", {"rules": policy["rules"]})
    http, headers = _mfo(site, "totp-e2e")
    yield http, headers
    http.close()


def test_LOAN6_the_totp_step_a_policy_asks_for_a_wrong_code_then_the_authenticators_code_then_sign(
        browser, site, totp_tenant, axe_source) -> None:
    """The page offers exactly the policy's factors (no SMS step), says a wrong code in the borrower's language
    and counts it, takes the code the borrower's authenticator app shows (RFC 6238 on the server's clock)."""
    from signing.factors import totp_code

    http, headers = totp_tenant
    for language in LANGUAGES:
        request_id, link, client = _request(http, headers, site.services, language=language, totp=True)
        context, page = _open(browser, site, link, language)
        try:
            assert page.locator("#step-totp").count() == 1 and page.locator("#step-sms").count() == 0
            assert page.locator("#step-biometric").count() == 1
            assert page.locator('label[for="totp-code"]').inner_text() == SAYS[language]["totp"]
            seed = client["totp_secret"]
            now = site.services.clock.now()
            right = totp_code(seed, now)
            wrong = next(c for c in ("000000", "111111", "222222") if c not in
                         {totp_code(seed, now + dt.timedelta(seconds=s)) for s in (-30, 0, 30)})
            page.fill("#totp-code", wrong)
            page.locator("#step-totp form button").click()
            assert SAYS[language]["wrong"] in page.locator("#error").inner_text()
            assert page.locator("#step-totp.step--done").count() == 0
            _axe(page, axe_source)
            screenshot(page, f"sign-totp-{language}")
            page.fill("#totp-code", right)
            page.locator("#step-totp form button").click()
            assert page.locator("#step-totp.step--done").count() == 1
            page.locator("#step-biometric button[type=submit]").click()
            assert page.locator("ol.moves li").count() == 4
            _axe(page, axe_source)
            screenshot(page, f"sign-movements-{language}")
            page.locator("#step-biometric form button[type=submit]").click()   # the in-page simulator
            page.locator("#eds form button[type=submit]").click()   # the key the service holds signs
            assert page.locator("h1").inner_text() == SAYS[language]["signed"]
            assert http.get(f"/signing-requests/{request_id}", headers=headers).json()["status"] in ("signed",
                                                                                                   "sealed")
        finally:
            context.close()


# --- the identity provider's page ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provider_site(tmp_path_factory, chromium_path):
    """A second app whose biometric step is the identity provider's page (its simulator on loopback)."""
    from tests.support.biometric_provider import ProviderPageSimulator

    clock = {}
    with ProviderPageSimulator("tsoid-simulator", lambda: clock["site"].services.clock.now()) as provider:
        directory = tmp_path_factory.mktemp("provider")
        key = directory / "provider.pem"
        key.write_bytes(provider.public_key_pem())
        with serving(directory, biometric_provider="tsoid-simulator", biometric_provider_key_file=key,
                     biometric_provider_url=provider.url) as served:
            clock["site"] = served
            assert served.services.biometric_simulator is None   # the page offers no simulator of its own
            yield served, provider


def test_LOAN4_the_biometric_step_goes_to_the_providers_page_and_comes_back_with_its_assertion(
        browser, provider_site, axe_source) -> None:
    site, provider = provider_site
    http, headers = _mfo(site, "alpha")
    try:
        request_id, link, client = _request(http, headers, site.services, language="ru")
        context, page = _open(browser, site, link)
        try:
            page.locator("#step-sms form.inline button").click()
            page.locator("#step-sms p.notice").wait_for()   # "We sent a code": the page after the POST
            text = site.services.sms.messages(phone=client["phone"])[-1].text
            page.fill("#sms-code", CODE.search(text).group(1))
            page.locator("#step-sms form.code-form button").click()
            page.locator("#step-biometric button[type=submit]").click()
            # Read once the challenge's page is there (a loaded machine answers the POST later than the click).
            expect(page.locator("ol.moves li")).to_have_count(4)
            assert page.locator("#provider-go").count() == 1
            _axe(page, axe_source)
            screenshot(page, "sign-provider-ru")
            # Back from the provider without an assertion (the borrower gave up there): said, nothing counted.
            tries = page.locator("#steps .hint").first.inner_text()
            page.goto(f"{site.url}/sign/{request_id}/biometric/assertion")
            assert SAYS["ru"]["cancelled"] in page.locator("#error").inner_text()
            assert page.locator("#steps .hint").first.inner_text() == tries
            page.locator("#step-biometric button[type=submit]").click()
            with page.expect_navigation():
                page.locator("#provider-go").click()
            assert page.locator("h1").inner_text() == "Identity provider SIMULATOR"
            form = provider.posted[-1]
            assert form["iin"] == client["iin"] and form["lang"] == "ru"
            assert form["return"] == f"{site.url}/sign/{request_id}/biometric/assertion"
            assert len(form["movements"].split(",")) == 4
            with page.expect_navigation(url=f"{site.url}/sign/{request_id}#steps"):
                page.locator("#filmed").click()
            assert "assertion" not in urllib.parse.urlsplit(page.url).query   # the assertion left the address
            assert page.locator("#step-biometric.step--done").count() == 1
            page.locator("#eds form button[type=submit]").click()
            assert page.locator("h1").inner_text() == SAYS["ru"]["signed"]
        finally:
            context.close()
    finally:
        http.close()


# --- the NCA RK's real test key, today -----------------------------------------------------------------------


def test_KZ6_a_cms_the_nca_rk_test_key_signed_is_shown_on_the_verify_page_with_why_it_does_not_pass_today(
        browser, site) -> None:
    """The NCA RK's GOST 2015 test key (tests/vectors/nca-rk) signs what eGov mobile would: a detached CMS over the
    data. With the NCA's GOST test CA in the trust store, the Verify page names the signer (IIN masked), the
    chain up to that anchor and says, in the page's language, why the signature is not passed today: the
    certificate expired on 2024-11-08 and its status cannot be had from test.pki.gov.kz."""
    from ca.errors import ConflictError
    from tests.support.egov_mobile import VECTORS, nca_rk_signer

    try:
        site.services.trust_store.add((VECTORS / "ca/nca_gost2015_test.cer").read_bytes(),
                                      "NCA RK GOST 2015 test", "test")
    except ConflictError:
        pass
    data = "Қарыз шарты MK-2026/001: деректер".encode()
    EXPIRED = {"kk": "мерзімі өткен", "ru": "истёк", "en": "is expired"}  # noqa: N806 - the sentences' words
    cms = nca_rk_signer()(data)
    for language in LANGUAGES:
        context = browser.new_context(locale=language)
        page = context.new_page()
        try:
            page.goto(site.url + "/verify")
            page.set_input_files("#file", files=[{"name": "nca.p7s", "mimeType": "application/pkcs7-signature",
                                                  "buffer": cms}])
            page.set_input_files("#detached", files=[{"name": "data.bin", "mimeType": "application/octet-stream",
                                                      "buffer": data}])
            with page.expect_navigation():
                page.locator("form.upload button[type=submit]").click()
            card = page.locator("li.card")
            assert card.count() == 1 and card.get_attribute("data-indication") == "INDETERMINATE"
            said = card.inner_text()
            assert "OUT_OF_BOUNDS_NO_POE" in said and EXPIRED[language] in said, said
            assert "ТЕСТОВ ТЕСТ" in said and "********9011" in said and "123456789011" not in page.content()
            assert "C=KZ,CN=ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022" in said   # up to the NCA anchor
            screenshot(page, f"verify-nca-expired-{language}")
            if language == "en":   # a byte of the data changed: red, the signature does not match
                page.set_input_files("#file", files=[{"name": "nca.p7s", "buffer": cms,
                                                      "mimeType": "application/pkcs7-signature"}])
                page.set_input_files("#detached", files=[{"name": "data.bin", "buffer": data[:-1] + b"!",
                                                          "mimeType": "application/octet-stream"}])
                with page.expect_navigation():
                    page.locator("form.upload button[type=submit]").click()
                assert page.locator("li.card.card--failed").count() == 1
        finally:
            context.close()
