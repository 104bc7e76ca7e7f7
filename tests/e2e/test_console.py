"""The console in headless Chromium (issue 20): the centre's staff log in, decide, revoke; `openssl ocsp` agrees.

The one server and the module's one browser of the run (conftest.py); each
test its own browser context (cookies, language). The staff accounts are
made through the services the server runs on (``qoltanba users`` does the
same); the test reads each account's TOTP secret from its provisioning URI
and computes the codes an authenticator app would show. Each login uses a
fresh account, so no TOTP code is offered twice (a code is accepted once,
RFC 6238 §5.2). Screenshots of every console page in kk, ru and en.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.e2e.conftest import LANGUAGES, screenshot, serious_violations
from tests.support import factories as f
from tests.support import tools

PASSWORD = "correct horse battery staple"
ID_COPY = [{"kind": "id-copy", "name": "id.pdf"}]
_names = itertools.count(1)
# What each language says (api/pages/locale/*/LC_MESSAGES/messages.po).
SAYS = {
    "kk": {"wrong": "Аты, құпиясөзі немесе коды қате, не есептік жазба бұғатталған.", "ended": "Сеансыңыз аяқталды",
           "title": "Куәландырушы орталықтың консолі", "surname": "Тегі", "attachment": "Жеке басын куәландыратын"},
    "ru": {"wrong": "Неверно имя, пароль или код, либо учётная запись заблокирована.", "ended": "Ваш сеанс завершён",
           "title": "Консоль удостоверяющего центра", "surname": "Фамилия", "attachment": "Копия документа"},
    "en": {"wrong": "The name, password or code is wrong, or the account is locked.", "ended": "Your session has ended",
           "title": "The certification centre's console", "surname": "Surname", "attachment": "Copy of the identity"},
}


def account(site, role: str) -> tuple[str, str]:
    """A fresh staff account: (name, TOTP secret)."""
    name = f"{role}-{next(_names)}-{int(time.time())}"
    uri = site.services.people.add(name, role, PASSWORD, by="e2e").provisioning_uri
    return name, urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]


def _open(browser, language: str, **options):  # noqa: ANN001, ANN202 - playwright objects
    context = browser.new_context(locale=language, **options)
    return context, context.new_page()


def log_in(page, site, name: str, seed: str, *, password: str = PASSWORD, code: str | None = None,  # noqa: ANN001
           path: str = "/console") -> None:
    from signing.factors import totp_code

    page.goto(site.url + path)
    page.fill("#name", name)
    page.fill("#password", password)
    page.fill("#code", code or totp_code(seed, site.services.clock.now()))   # the server's (shifted) clock
    with page.expect_navigation():
        page.locator("form.console-login button[type=submit]").click()


def _pem(path: Path, *certificates: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates))
    return path


def openssl_ocsp(site, tmp_path: Path, serial: str, centre: str) -> str:  # noqa: ANN001
    """The real `openssl ocsp` against the running server's OCSP URL for the centre (RFC 6960 over HTTP)."""
    openssl = tools.find_tool("openssl")
    if openssl is None:
        tools.skip_or_fail("openssl is not installed")
    _view, der = site.services.catalogue.find(serial, centre)
    chain = site.services.hierarchy.chain(centre)
    leaf = _pem(tmp_path / f"{serial}.pem", x509.load_der_x509_certificate(der))
    issuer = _pem(tmp_path / f"{centre}.pem", chain[0])
    anchors = _pem(tmp_path / f"{centre}-chain.pem", *chain)
    # The e2e server's clock runs hours behind the real one (tests/e2e/conftest.py, ShiftedClock), so its
    # answers' thisUpdate/nextUpdate lie in openssl's past: openssl is told to allow that much discrepancy.
    behind = int(abs((site.services.clock.now() - dt.datetime.now(dt.timezone.utc)).total_seconds())) + 300
    result = subprocess.run([openssl, "ocsp", "-issuer", str(issuer), "-cert", str(leaf), "-url",
                             f"{site.url}/ocsp/{centre}", "-CAfile", str(anchors), "-validity_period", str(behind)],
                            capture_output=True, text=True, timeout=30)
    return result.stdout + result.stderr


def test_log_in_with_password_and_totp_approve_an_application_revoke_and_openssl_ocsp_says_revoked(
        browser, site, tmp_path) -> None:
    """NAT-5/NAT-8: approved in the console, revoked with a ground; the OCSP responder says so to `openssl ocsp`."""
    view = site.services.applications.submit("individual", f.individual_form(), ID_COPY, f.csr_pem(), "registrar")
    name, seed = account(site, "registrar")
    context, page = _open(browser, "en")
    try:
        log_in(page, site, name, seed)
        assert page.url.endswith("/console/applications")
        assert f"Signed in: {name} (registrar)" in page.inner_text(".console-who")
        row = page.locator(f'tr[data-application="{view.id}"]')
        assert "Working days left" in row.inner_text()
        row.locator("a").click()
        page.wait_for_url(f"**/console/applications/{view.id}")
        with page.expect_navigation():
            page.locator("#approve").click()
        assert "The application was approved." in page.inner_text("#notice")
        assert page.inner_text("#status-name") == "Issued"
        serial = site.services.applications.get(view.id).certificate_serials[0]
        assert site.services.applications.get(view.id).decided_by == name
        assert "good" in openssl_ocsp(site, tmp_path, serial, "national").split(": ", 1)[1]
        page.locator(f'a[data-serial="{serial}"]').click()
        page.wait_for_url(f"**/console/certificates/{serial}")
        page.select_option("#ground", "holder-application")
        page.select_option("#reason", "key-compromise")
        with page.expect_navigation():
            page.locator("#revoke").click()
        assert "The certificate was revoked." in page.inner_text("#notice")
        assert page.inner_text("#cert-status") == "Revoked"
    finally:
        context.close()
    said = openssl_ocsp(site, tmp_path, serial, "national")
    assert "Response verify OK" in said and f"{serial}.pem: revoked" in said, said
    assert "Reason: keyCompromise" in said
    with site.services.registry.transaction() as tx:
        entry = [e for e in tx.audit.entries(limit=100000) if e.action == "certificate.revoked"][-1]
    assert entry.actor == name and entry.subject == serial


def test_a_ca_certificate_is_revoked_only_when_a_second_administrator_approves(browser, site, tmp_path) -> None:
    """ROOT-6 (issue 8's dual control): one administrator asks in the console, another approves in theirs."""
    form = {"country": "KZ", "region": "Астана", "city": "Астана", "organisation": "E2E CA LLP",
            "ca_name": f"E2E CA {next(_names)}", "email": "ca@example.kz", "usage_areas": ["signing"],
            "validity_years": 5, "accreditation_number": "A-20", "accreditation_date": "2026-01-15"}
    view = site.services.applications.submit("ca", form, [{"kind": "accreditation-certificate", "name": "acc.pdf"}],
                                             f.csr_pem(), "registrar")
    first, first_seed = account(site, "administrator")
    second, second_seed = account(site, "administrator")
    asking, page = _open(browser, "en")
    approving, other = _open(browser, "ru")
    try:
        log_in(page, site, first, first_seed, path=f"/console/applications/{view.id}")
        assert page.url.endswith(f"/console/applications/{view.id}")       # back to the page asked for
        with page.expect_navigation():
            page.locator("#approve").click()
        serial = site.services.applications.get(view.id).certificate_serials[0]
        page.goto(f"{site.url}/console/certificates/{serial}?centre=root")
        assert "second administrator approves" in page.inner_text("#revoke-title + p")
        page.select_option("#ground", "ca-liquidation")
        with page.expect_navigation():
            page.locator("#revoke").click()
        assert "/console/approvals" in page.url
        assert "waits for a second administrator's approval" in page.inner_text("#notice")
        card = page.locator("li.approval.is-asked")
        asked = card.get_attribute("data-approval")
        assert "You asked for this" in card.inner_text() and card.locator("button.button:not(.button--quiet)").count() == 0
        assert site.services.catalogue.find(serial, "root")[0].status == "valid"
        screenshot(page, "console-approvals-pending-en")
        # The same person cannot approve by posting the form by hand: the service refuses (dual control).
        token = page.locator('input[name="csrf"]').first.get_attribute("value")
        answer = page.request.post(f"{site.url}/console/approvals/{asked}/approve", form={"csrf": token},
                                   headers={"Accept": "text/html"})
        assert answer.status == 403 and site.services.catalogue.find(serial, "root")[0].status == "valid"

        log_in(other, site, second, second_seed)
        other.goto(site.url + "/console/approvals")
        pending = other.locator(f'li.approval[data-approval="{asked}"]')
        assert first in pending.inner_text()
        with other.expect_navigation():
            pending.locator("form[action$='/approve'] button").click()
        assert "Одобрено: действие выполнено." in other.inner_text("#notice")
        screenshot(other, "console-approvals-done-ru")
    finally:
        asking.close()
        approving.close()
    assert site.services.catalogue.find(serial, "root")[0].status == "revoked"
    decided = site.services.dual_control.get(asked)
    assert (decided.status, decided.requested_by, decided.decided_by) == ("executed", first, second)
    said = openssl_ocsp(site, tmp_path, serial, "root")
    assert f"{serial}.pem: revoked" in said, said


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_wrong_password_or_code_is_said_in_the_page_language_and_the_account_locks(browser, site,
                                                                                      language) -> None:
    name, seed = account(site, "auditor")
    context, page = _open(browser, language)
    try:
        log_in(page, site, name, seed, password="not the password at all")
        assert SAYS[language]["wrong"] in page.inner_text("#error")
        assert page.locator("h1").inner_text() == SAYS[language]["title"]
        assert page.input_value("#name") == name and page.input_value("#password") == ""
        screenshot(page, f"console-login-refused-{language}")
        if language == "kk":
            for _ in range(site.services.people.policy.lockout_failures - 1):
                log_in(page, site, name, seed, code="000000")
            log_in(page, site, name, seed)    # locked: the right password and code are refused too
            assert SAYS[language]["wrong"] in page.inner_text("#error") and page.locator("#code").count() == 1
            assert next(p for p in site.services.people.list() if p.name == name).locked_until is not None
    finally:
        context.close()


def test_a_forged_post_and_an_idle_session_are_refused(browser, site) -> None:
    from ca.people import ConsolePolicy

    view = site.services.applications.submit("individual", f.individual_form(), ID_COPY, f.csr_pem(), "registrar")
    name, seed = account(site, "registrar")
    context, page = _open(browser, "en")
    people = site.services.people
    saved = people.policy
    try:
        log_in(page, site, name, seed)
        # A form made by a script, with no token: refused, nothing changed (the session cookie went with it).
        page.evaluate("""id => { const f = document.createElement('form'); f.method = 'post';
            f.action = '/console/applications/' + id + '/approve'; document.body.append(f); f.submit(); }""", view.id)
        page.wait_for_load_state()
        assert "The form was not accepted" in page.inner_text("#error")
        assert site.services.applications.get(view.id).status == "submitted"
        # The idle timeout (a setting; shortened here to two seconds for the test): the next page is the login.
        people.policy = ConsolePolicy(idle=dt.timedelta(seconds=2), absolute=saved.absolute,
                                      lockout_failures=saved.lockout_failures, lockout=saved.lockout)
        time.sleep(2.5)
        page.goto(site.url + "/console/status")
        assert SAYS["en"]["ended"] in page.inner_text("#notice") and page.locator("#code").count() == 1
    finally:
        people.policy = saved
        context.close()


def test_the_revocation_journal_downloads_as_csv(browser, site, tmp_path) -> None:
    """GOV-5 (appendix 5): the revocation journal, exported from the console."""
    from ca.revocation import RevocationRequest

    issued = f.issue_person(site.services, centre="government", password=b"carrier-pass")
    site.services.revocations.revoke(RevocationRequest(serial=issued.serial, actor="e2e", ground="holder-application",
                                                       carrier_returned=True))
    name, seed = account(site, "auditor")
    context, page = _open(browser, "ru", accept_downloads=True)
    try:
        log_in(page, site, name, seed)
        page.goto(site.url + "/console/journals?centre=government")
        with page.expect_download() as download:
            page.locator("#revocation-csv").click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
        assert download.value.suggested_filename == "revocation-journal-government.csv"
        mine = [r for r in rows if r["certificate_serial"] == issued.serial]
        assert [(r["ground"], r["carrier_returned"], r["administrator"]) for r in mine] == [
            ("holder-application", "true", "e2e")]
    finally:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_axe_finds_no_serious_or_critical_violation_on_any_console_page(browser, site, axe_source,
                                                                        language) -> None:
    services = site.services
    view = services.applications.submit("individual", f.individual_form(surname="Сейтқали", given_name="Әсел"),
                                        ID_COPY, f.csr_pem(), "registrar")
    issued = f.issue_person(services, centre="national")
    name, seed = account(site, "administrator")
    context, page = _open(browser, language, bypass_csp=True)   # axe is injected as a script tag
    found = {}
    try:
        page.goto(site.url + "/console/login")
        found["login"] = serious_violations(page, axe_source)
        screenshot(page, f"console-login-{language}")
        log_in(page, site, name, seed)
        pages = {"applications": "/console/applications?status=", "application": f"/console/applications/{view.id}",
                 "certificates": f"/console/certificates?by=serial&q={issued.serial}",
                 "certificate": f"/console/certificates/{issued.serial}", "approvals": "/console/approvals",
                 "status": "/console/status", "journals": "/console/journals?centre=national",
                 "audit": "/console/audit"}
        for key, path in pages.items():
            page.goto(site.url + path)
            assert page.locator("html").get_attribute("lang") == language
            found[key] = serious_violations(page, axe_source)
            screenshot(page, f"console-{key}-{language}")
            if key == "application":
                # The form's fields under the people's words in the page's language, never the API's names.
                surname = page.locator('[data-field="surname"]')
                assert surname.locator("dt").inner_text() == SAYS[language]["surname"]
                assert surname.locator("dd").inner_text() == "Сейтқали"
                facts = page.inner_text("dl.facts--form")
                assert not any(name in facts for name in ("given_name", "usage_areas", "eds_tool", "key_custody",
                                                          "individual-sign"))
                assert SAYS[language]["attachment"] in page.inner_text("main") and "id-copy" not in facts
        page.goto(site.url + f"/console/applications/{view.id}")
        with page.expect_navigation():
            page.locator("#refuse").click()                            # no reason: every problem listed
        found["refusal-message"] = serious_violations(page, axe_source)
        assert page.locator("#error li").count() == 2
        screenshot(page, f"console-refusal-message-{language}")
    finally:
        context.close()
    assert {key: v for key, v in found.items() if v} == {}


def test_the_keyboard_reaches_the_login_form_in_order(browser, site) -> None:
    context, page = _open(browser, "en")
    try:
        page.goto(site.url + "/console/login")
        order = []
        for _ in range(9):
            page.keyboard.press("Tab")
            order.append(page.evaluate("(() => { const e = document.activeElement;"
                                       " return e.id || e.getAttribute('href') || e.textContent.trim(); })()"))
        assert order[0] == "#main" and order[1] == "/"
        assert [o.split("?")[0] for o in order[2:5]] == ["/lang/kk", "/lang/ru", "/lang/en"]
        assert order[5:9] == ["name", "password", "code", "Log in"]
    finally:
        context.close()
