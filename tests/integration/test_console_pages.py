"""The console's pages over HTTP without a browser (issue 20): sign-in, CSRF, timeouts, roles, refusals, CSV.

The browser's view (and `openssl ocsp` after a revocation) is
tests/e2e/test_console.py; here what requests alone show. Real components:
the app through TestClient over a copy of an initialised SQLite home,
argon2 passwords, TOTP codes computed from the account's own secret, the
audit chain. The clock is a FrozenClock, so idle and absolute timeouts and
overdue dates are tested by moving time, not by sleeping.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import urllib.parse

import pytest
from fastapi.testclient import TestClient

from signing.factors import totp_code
from tests.support import factories as f

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
PASSWORD = "correct horse battery staple"
ID_COPY = [{"kind": "id-copy", "name": "id.pdf"}]


@pytest.fixture
def centre(tmp_path, request):
    from tests.conftest import initialised_services

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    generator = initialised_services(tmp_path, url, request, clock_offset=dt.timedelta(0))
    svc = next(generator)
    svc.settings.public_burst = svc.settings.login_burst = 1000
    yield svc
    generator.close()


@pytest.fixture
def web(centre):
    from api.http.app import create_app

    with TestClient(create_app(services=centre), headers=HTML) as client:
        yield client


def person(centre, name: str, role: str) -> str:
    """A console account; its TOTP seed, as the authenticator app reads it from the provisioning URI."""
    uri = centre.people.add(name, role, PASSWORD, by="test").provisioning_uri
    return urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]


def token(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "the page has no form token"
    return found.group(1)


def log_in(web, centre, name: str, seed: str, *, password: str = PASSWORD, code: str | None = None,
           language: str = "en", next_path: str = "/console"):
    speak(web, language)
    form = web.get("/console/login")
    centre.clock.advance(dt.timedelta(seconds=30))     # a fresh TOTP step: a code is accepted once
    return web.post("/console/login", follow_redirects=False,
                    data={"name": name, "password": password, "next": next_path, "csrf": token(form.text),
                          "code": code or totp_code(seed, centre.clock.now())})


def speak(web, language: str) -> None:
    """The language cookie the switch sets, in the client's jar beside the session."""
    web.cookies.set("qoltanba_lang", language)


def audit(centre, *actions: str) -> list:
    with centre.registry.transaction() as tx:
        return [e for e in tx.audit.entries(limit=100000) if e.action in actions]


def submitted(centre) -> int:
    return centre.applications.submit("individual", f.individual_form(), ID_COPY, f.csr_pem(), "registrar").id


def test_login_with_password_and_totp_sets_a_strict_httponly_cookie_and_opens_the_queue(centre, web) -> None:
    seed = person(centre, "aigerim", "registrar")
    answer = log_in(web, centre, "aigerim", seed, next_path="/console/certificates")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/certificates"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("qoltanba_session=qs_") and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    # Served over plain http (development on the loopback): no Secure flag, or the browser would not send it back.
    assert "Secure" not in cookie
    page = web.get("/console/applications")
    assert page.status_code == 200 and "Signed in: aigerim (registrar)" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert [e.actor for e in audit(centre, "console.login")] == ["aigerim"]


def test_over_https_the_session_cookie_is_secure(centre) -> None:
    from api.http.app import create_app

    seed = person(centre, "secure-one", "auditor")
    with TestClient(create_app(services=centre), base_url="https://testserver", headers=HTML) as client:
        answer = log_in(client, centre, "secure-one", seed)
        assert answer.status_code == 303 and "; secure" in answer.headers["set-cookie"].lower()
        assert "secure" in client.get("/console/login").headers["set-cookie"].lower()


def test_wrong_password_and_code_say_so_in_the_page_language_and_the_account_locks(centre, web) -> None:
    seed = person(centre, "bolat", "administrator")
    wrong = log_in(web, centre, "bolat", seed, password="not the password at all", language="ru")
    assert wrong.status_code == 401 and "Неверно имя, пароль или код, либо учётная запись заблокирована." in wrong.text
    code = totp_code(seed, centre.clock.now() + dt.timedelta(seconds=30))
    bad_code = log_in(web, centre, "bolat", seed, code="000000" if code != "000000" else "111111", language="kk")
    assert bad_code.status_code == 401 and "Аты, құпиясөзі немесе коды қате" in bad_code.text
    malformed = log_in(web, centre, "bolat", seed, code="12ab", password="", language="en")
    assert malformed.status_code == 422
    assert "Type your password." in malformed.text and "Type the 6-digit code" in malformed.text
    for _ in range(3):
        log_in(web, centre, "bolat", seed, password="still not the password")
    # Five failures in a row: locked; now even the right password and a fresh code are refused.
    locked = log_in(web, centre, "bolat", seed, language="ru")
    assert locked.status_code == 401 and "заблокирована" in locked.text and "set-cookie" not in {
        k.lower() for k, v in locked.headers.items() if v.startswith("qoltanba_session=qs_")}
    assert [e.details["reason"] for e in audit(centre, "console.login_failed")] == [
        "password", "code", "password", "password", "password", "locked"]
    assert len(audit(centre, "person.locked")) == 1
    assert PASSWORD not in str([e.details for e in audit(centre, "console.login_failed", "person.locked")])


def test_a_forged_post_without_the_session_form_token_is_refused_audited_and_changes_nothing(centre, web) -> None:
    seed = person(centre, "dana", "registrar")
    assert log_in(web, centre, "dana", seed).status_code == 303
    application = submitted(centre)
    for forged in ({}, {"csrf": "0" * 64}, {"csrf": token(web.get("/console/login").text)}):
        refused = web.post(f"/console/applications/{application}/approve", data=forged)
        assert refused.status_code == 403 and "The form was not accepted" in refused.text
    assert centre.applications.get(application).status == "submitted"
    assert len(audit(centre, "console.form_refused")) == 3
    # The login form has its own token: a post from elsewhere (no nonce cookie) logs no one in.
    web.cookies.clear()
    elsewhere = web.post("/console/login", data={"name": "dana", "password": PASSWORD, "csrf": "x",
                                                 "code": totp_code(seed, centre.clock.now())})
    assert elsewhere.status_code == 403 and "qoltanba_session=qs_" not in elsewhere.headers.get("set-cookie", "")
    # The page's own form, with the token, goes through.
    assert log_in(web, centre, "dana", seed).status_code == 303
    page = web.get(f"/console/applications/{application}")
    done = web.post(f"/console/applications/{application}/approve", data={"csrf": token(page.text)},
                    follow_redirects=False)
    assert done.status_code == 303 and centre.applications.get(application).status == "issued"
    assert audit(centre, "application.approved")[-1].actor == "dana"


def test_the_session_ends_after_the_idle_time_and_after_the_absolute_limit(centre, web) -> None:
    seed = person(centre, "erlan", "auditor")
    assert log_in(web, centre, "erlan", seed).status_code == 303
    idle = centre.people.policy.idle
    centre.clock.advance(idle - dt.timedelta(seconds=1))
    assert web.get("/console/status").status_code == 200      # a request restarts the idle time
    centre.clock.advance(idle)
    speak(web, "kk")
    ended = web.get("/console/audit")
    assert ended.status_code == 401 and "Сеансыңыз аяқталды" in ended.text
    assert 'name="next" value="/console/audit"' in ended.text
    assert audit(centre, "console.session_expired")[-1].details == {"reason": "idle"}
    # The absolute limit holds however busy the session is.
    assert log_in(web, centre, "erlan", seed).status_code == 303
    steps = int(centre.people.policy.absolute / (idle / 2)) + 1
    for _ in range(steps):
        centre.clock.advance(idle / 2)
        last = web.get("/console/applications")
    assert last.status_code == 401
    assert audit(centre, "console.session_expired")[-1].details == {"reason": "absolute"}


def test_logout_ends_the_session(centre, web) -> None:
    seed = person(centre, "farida", "auditor")
    log_in(web, centre, "farida", seed)
    page = web.get("/console/applications")
    answer = web.post("/console/sign-out", data={"csrf": token(page.text)})
    assert answer.status_code == 200 and "You have logged out." in answer.text
    assert web.get("/console/applications").status_code == 401
    assert [e.actor for e in audit(centre, "console.logout")] == ["farida"]
    # An API client's logout and login are the API's, JSON as before.
    api = TestClient(web.app)
    assert api.post("/console/login", json={"name": "x"}).headers["content-type"] == "application/problem+json"


def test_an_auditor_reads_but_cannot_decide(centre, web) -> None:
    seed = person(centre, "gulnar", "auditor")
    log_in(web, centre, "gulnar", seed)
    application = submitted(centre)
    page = web.get(f"/console/applications/{application}")
    assert page.status_code == 200 and 'id="approve"' not in page.text
    refused = web.post(f"/console/applications/{application}/approve", data={"csrf": token(page.text)})
    assert refused.status_code == 403 and "Your role does not allow this" in refused.text
    assert centre.applications.get(application).status == "submitted"


def test_a_refusal_needs_a_reason_from_the_centres_list_and_bad_input_changes_nothing(centre, web) -> None:
    """DOMAIN §4: refusal reasons are an exhaustive list per centre; every field problem is listed at once."""
    seed = person(centre, "hasan", "registrar")
    log_in(web, centre, "hasan", seed, language="ru")
    application = submitted(centre)
    page = web.get(f"/console/applications/{application}")
    assert "Заявление не соответствует документам заявителя" in page.text          # NAT-3's data-mismatch
    empty = web.post(f"/console/applications/{application}/refuse", data={"csrf": token(page.text)})
    assert empty.status_code == 422
    assert "Выберите причину из списка." in empty.text and "Напишите причины отказа" in empty.text
    unknown = web.post(f"/console/applications/{application}/refuse",
                       data={"csrf": token(page.text), "reason": "holder-has-key", "detail": "x"})
    assert unknown.status_code == 422 and centre.applications.get(application).status == "submitted"
    done = web.post(f"/console/applications/{application}/refuse", follow_redirects=False,
                    data={"csrf": token(page.text), "reason": "data-mismatch", "detail": "The IIN differs."})
    assert done.status_code == 303
    view = centre.applications.get(application)
    assert (view.status, view.refusal_reason, view.decided_by) == ("refused", "data-mismatch", "hasan")


def test_the_queue_shows_due_dates_in_working_days_and_marks_the_overdue(centre, web) -> None:
    """NAT-6 / DOMAIN §4: due dates in Kazakhstan's working days; past them, an overdue mark."""
    seed = person(centre, "ilyas", "registrar")
    application = submitted(centre)
    view = centre.applications.get(application)
    left = centre.calendar.working_days_between(centre.applications.today(), view.due_date)
    log_in(web, centre, "ilyas", seed)
    queue = web.get("/console/applications")
    assert f'data-application="{application}"' in queue.text and f"Working days left: {left}" in queue.text
    centre.clock.advance(dt.timedelta(days=40))
    log_in(web, centre, "ilyas", seed)
    overdue = web.get("/console/applications", params={"overdue": "1"})
    assert 'class="is-overdue" data-application="%d"' % application in overdue.text
    bad = web.get("/console/applications", params={"status": "lost", "centre": "moon"})
    assert bad.status_code == 422 and "Choose a status from the list." in bad.text


def test_search_by_iin_bin_serial_and_name_and_revoke_with_a_ground(centre, web) -> None:
    """NAT-5/GOV-5: a revocation names its ground; a court decision needs its number (listed, nothing changed)."""
    issued = f.issue_person(centre, centre="national", profile="legal-sign")
    seed = person(centre, "janar", "registrar")
    log_in(web, centre, "janar", seed)
    cert = centre.catalogue.find(issued.serial)[0]
    for by, query in (("iin", cert.iin), ("bin", cert.bin), ("serial", issued.serial.upper()), ("name", "тестов")):
        found = web.get("/console/certificates", params={"by": by, "q": query})
        assert found.status_code == 200 and f'data-serial="{issued.serial}"' in found.text, by
    assert web.get("/console/certificates", params={"by": "iin", "q": "12"}).status_code == 422
    page = web.get(f"/console/certificates/{issued.serial}")
    refused = web.post(f"/console/certificates/{issued.serial}/revoke",
                       data={"csrf": token(page.text), "ground": "court-decision", "court_date": "someday"})
    assert refused.status_code == 422
    said = html.unescape(refused.text)
    assert "Give the court decision's date" in said and "Give the court decision's number." in said
    assert centre.catalogue.find(issued.serial)[0].status == "valid"
    done = web.post(f"/console/certificates/{issued.serial}/revoke", follow_redirects=False,
                    data={"csrf": token(page.text), "ground": "holder-application", "reason": "key-compromise"})
    assert done.status_code == 303 and centre.catalogue.find(issued.serial)[0].status == "revoked"
    entry = audit(centre, "certificate.revoked")[-1]
    assert (entry.actor, entry.details["reason"], entry.details["ground"]) == ("janar", "key-compromise",
                                                                              "holder-application")


def test_the_journals_export_as_csv_and_the_export_is_audited(centre, web) -> None:
    """GOV-3 / GOV-5: the issuance and revocation journals, their columns, as CSV from the console."""
    issued = f.issue_person(centre, centre="government", password=b"carrier-pass")
    from ca.revocation import RevocationRequest

    centre.revocations.revoke(RevocationRequest(serial=issued.serial, actor="registrar", ground="left-job",
                                                left_job_on=centre.applications.today(), carrier_returned=True))
    seed = person(centre, "kairat", "auditor")
    log_in(web, centre, "kairat", seed)
    page = web.get("/console/journals", params={"centre": "government"})
    assert page.status_code == 200 and issued.serial in page.text
    answer = web.get("/console/journals/revocation.csv", params={"centre": "government"})
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="revocation-journal-government.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["certificate_serial"], r["ground"], r["carrier_returned"]) for r in rows] == [
        (issued.serial, "left-job", "true")]
    issuance = list(csv.DictReader(io.StringIO(web.get("/console/journals/issuance.csv").text)))
    assert issued.serial in [r["certificate_serial"] for r in issuance]
    exported = audit(centre, "journal.exported")
    assert [(e.actor, e.subject, e.details["rows"]) for e in exported] == [
        ("kairat", "journal:revocation", 1), ("kairat", "journal:issuance", len(issuance))]
    assert web.get("/console/journals/secret.csv").status_code == 404


def test_status_and_audit_pages_show_crl_numbers_ocsp_answers_and_the_verification(centre, web) -> None:
    seed = person(centre, "laura", "auditor")
    log_in(web, centre, "laura", seed)
    status = web.get("/console/status")
    assert status.status_code == 200
    for code in ("root", "national", "government"):
        assert f'data-centre="{code}"' in status.text
    assert status.text.count('data-ocsp="good"') == 3 and 'data-crl="full"' in status.text
    board = {c.code: c for c in centre.status_board.centres_status()}
    assert board["national"].crls[0].number >= 1 and board["national"].ocsp.answer == "good"
    audit_page = web.get("/console/audit")
    assert 'data-intact="true"' in audit_page.text and 'data-action="console.login"' in audit_page.text


def test_the_name_search_matches_a_part_of_the_name_in_any_case_on_both_databases(services) -> None:
    """The console's search by name (CertificateCatalogue.search(name=…)): a part, any case; % and _ are literal."""
    issued = f.issue_person(services, centre="national")
    holder = services.catalogue.find(issued.serial)[0].common_name
    for part in (holder.split()[0].lower(), holder.split()[0].upper(), holder[1:5]):
        assert issued.serial in [v.serial for v in services.catalogue.search(name=part)], part
    assert services.catalogue.search(name="%") == [] and services.catalogue.search(name="_") == []


def test_an_application_shows_its_form_under_the_peoples_labels_in_the_page_language(centre, web) -> None:
    """A state body's letter (GOV-2): each field and each listed person under the paper form's words in kk, ru
    and en, dates in the language, the attachments by their names; none of the API's field names."""
    people = [f.iin(), f.iin()]
    view = centre.applications.submit("government-batch", f.government_form(people),
                                      f.government_attachments(people), None, "registrar")
    seed = person(centre, "reader", "auditor")
    assert log_in(web, centre, "reader", seed).status_code == 303
    words = {"kk": ("Мемлекеттік органның БСН", "Лауазымы", "Ресми хат"),
             "ru": ("БИН государственного органа", "Должность", "Официальное письмо"),
             "en": ("State body's BIN", "Position", "Official letter")}
    for language, (body_bin, position, letter) in words.items():
        speak(web, language)
        shown = web.get(f"/console/applications/{view.id}")
        assert shown.status_code == 200
        text = html.unescape(shown.text)
        assert body_bin in text and letter in text and text.count(f"<dt>{position}</dt>") == 2
        assert all(f'data-field="{key}"' in text for key in ("state_body_bin", "persons", "letter_date"))
        assert not re.search(r"<dt>[^<]*(_|<code>)", text)   # no field shown by its API name
        assert "official-letter" not in text.split('data-field="state_body"', 1)[1]
