"""The borrower's Sign page through HTTP alone: the link, the steps, the EDS ways, the states (issue 20).

The same services as the client API (``/client/signing-requests``) behind
server-rendered pages; the browser tests are tests/e2e/test_sign_page.py.
Our clock is frozen three hours back (tests/support/factors.py) so the
review window (LOAN-5) can be passed by moving it.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from tests.integration.test_api_documents import mfo_key  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support.factors import CODE, own_token, register, services, token_cms, upload  # noqa: F401 - fixture
from tests.support.signing import client_with_held_key

TWO_HOURS = dt.timedelta(hours=2, seconds=1)
# What each language calls things (api/pages/locale/*/LC_MESSAGES/messages.po).
WORDS = {
    "kk": {"sms": "қол қою коды", "contract": "шарт", "stamp_iin": "ЖСН", "role": "Қарыз алушы", "seal": "МҚҰ мөрі",
           "evidence": "Қол қою дәлелі", "factor": "Биометриялық", "signed_title": "Құжатқа қол қойылды"},
    "ru": {"sms": "код для подписания", "contract": "договор", "stamp_iin": "ИИН", "role": "Заёмщик",
           "seal": "Печать МФО", "evidence": "Доказательства подписания", "factor": "Биометрическая",
           "signed_title": "Документ подписан"},
    "en": {"sms": "is your code to sign", "contract": "contract", "stamp_iin": "IIN", "role": "Client",
           "seal": "MFO seal", "evidence": "Evidence of signing", "factor": "biometric",
           "signed_title": "The document is signed"},
}


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


def _request(http, headers, document: str, client: str, **extra) -> dict:
    response = http.post("/signing-requests", headers=headers, json={"document": document, "client": client,
                                                                     "level": "B-T", **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _open(http, created: dict):
    """Follow the MFO's link: the token goes into the page's cookie and out of the address."""
    answer = http.get(f"/sign/{created['id']}", params={"t": created["token"]}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/sign/{created['id']}"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and f"Path=/sign/{created['id']}" in cookie
    return http.get(f"/sign/{created['id']}")


def _held_key_schedule(http, alpha, services, language: str) -> tuple[dict, dict]:
    """A repayment schedule (LOAN-6: two factors of different kinds, no review window) for a borrower whose
    key the service holds; enrolled: SMS and biometrics."""
    held = client_with_held_key(services)
    client = register(http, alpha, services, iin=held.iin)
    document = upload(http, alpha, iin=held.iin, kind="schedule")
    return _request(http, alpha, document, client["id"], language=language), client


def _sms_code(http, alpha, phone: str) -> tuple[str, str]:
    text = http.get("/dev/sms-outbox", headers=alpha, params={"phone": phone}).json()[-1]["text"]
    return CODE.search(text).group(1), text


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_LOAN6_sign_page_sms_and_biometrics_then_the_held_key_signs_in_the_borrowers_language(
        http, services, alpha, language) -> None:
    """From the link: the SMS code (its text in the borrower's language), the biometric simulator's
    movements, the held key signs; the stamp's labels, the state page and the evidence in that language."""
    created, client = _held_key_schedule(http, alpha, services, language)
    assert created["language"] == language
    shown = _open(http, created)
    assert shown.status_code == 200 and f'<html lang="{language}">' in shown.text
    assert "default-src 'self'" in shown.headers["content-security-policy"]
    assert f'/sign/{created["id"]}/pages/1.png' in shown.text

    sent = http.post(f"/sign/{created['id']}/sms")
    assert sent.status_code == 200 and client["phone"][:5] in sent.text
    code, text = _sms_code(http, alpha, client["phone"])
    assert WORDS[language]["sms"] in text and code in text
    # A wrong code: a page in the borrower's language, the failure counted, nothing proven.
    wrong = http.post(f"/sign/{created['id']}/code", data={"factor": "sms", "code": "000000" if code != "000000"
                                                                                   else "111111"})
    assert wrong.status_code == 403 and 'role="alert"' in wrong.text and "Traceback" not in wrong.text
    assert http.get(f"/signing-requests/{created['id']}", headers=alpha).json()["failures"] == 1
    proven = http.post(f"/sign/{created['id']}/code", data={"factor": "sms", "code": code}, follow_redirects=False)
    assert proven.status_code == 303

    challenge = http.post(f"/sign/{created['id']}/biometric")
    assert challenge.status_code == 200
    movements = re.search(r'name="movements" value="([a-z,-]+)"', challenge.text).group(1).split(",")
    assert len(movements) == 4
    challenge_id = re.search(r'name="challenge" value="([0-9a-f]{32})"', challenge.text).group(1)
    filmed = http.post(f"/sign/{created['id']}/biometric/simulator",
                       data={"challenge": challenge_id, "movements": ",".join(movements)}, follow_redirects=False)
    assert filmed.status_code == 303
    signed = http.post(f"/sign/{created['id']}/confirm", follow_redirects=True)
    assert signed.status_code == 200 and WORDS[language]["signed_title"] in signed.text
    assert http.get(f"/signing-requests/{created['id']}", headers=alpha).json()["status"] == "sealed"

    pdf = http.get(f"/sign/{created['id']}/signed.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    assert f"{WORDS[language]['stamp_iin']} {client['iin']}" in text
    assert WORDS[language]["role"] in text and WORDS[language]["seal"] in text

    evidence = http.get(f"/sign/{created['id']}/evidence")
    assert evidence.status_code == 200 and WORDS[language]["evidence"] in evidence.text
    assert WORDS[language]["factor"].lower() in evidence.text.lower()
    assert client["iin"] not in evidence.text and "********" + client["iin"][-4:] in evidence.text
    assert http.get(f"/sign/{created['id']}/evidence.json").json()["signing_request"] == created["id"]
    assert http.get(f"/sign/{created['id']}/evidence.p7s").content[:1] == b"\x30"


def _contract_with_own_token(http, alpha, services, language: str = "kk") -> tuple[dict, dict, object]:
    iin = f.iin()
    own = own_token(services, iin)
    client = register(http, alpha, services, iin=iin, eds=own)
    document = upload(http, alpha, iin=iin)
    return _request(http, alpha, document, client["id"], language=language), client, own


def _to_eds(http, services, created: dict, iin: str) -> str:
    """Past the review window, the biometric simulator, the enrolled certificate chosen: the page's QR link."""
    services.clock.advance(TWO_HOURS)
    _open(http, created)
    challenge = http.post(f"/sign/{created['id']}/biometric").text
    filmed = http.post(f"/sign/{created['id']}/biometric/simulator", follow_redirects=False, data={
        "challenge": re.search(r'name="challenge" value="([0-9a-f]{32})"', challenge).group(1),
        "movements": re.search(r'name="movements" value="([a-z,-]+)"', challenge).group(1)})
    assert filmed.status_code == 303
    serial = re.search(r'name="certificate" id="cert-1" value="([0-9a-f]+)"', http.get(f"/sign/{created['id']}").text)
    assert http.post(f"/sign/{created['id']}/eds", data={"certificate": serial.group(1)},
                     follow_redirects=False).status_code == 303
    page = http.get(f"/sign/{created['id']}").text
    deep = re.search(r'id="egov-link" href="([^"]+)"', page).group(1)
    from urllib.parse import parse_qs, unquote, urlsplit

    return unquote(parse_qs(urlsplit(deep.replace("&amp;", "&")).query)["link"][0])


def test_LOAN2_egov_mobile_protocol_fetch_sign_put_back_then_the_link_is_used(http, services, alpha) -> None:
    """The app's three calls on our link (api/http/routes/mobile_signing.py); a used, a forged and a token-less
    call refused as problem+json; the data's digest is the session's."""
    import hashlib

    from tests.support.verification import our_cms

    created, client, own = _contract_with_own_token(http, alpha, services)
    url = _to_eds(http, services, created, client["iin"])
    path = url.split("://", 1)[1].split("/", 1)[1]
    service = http.get("/" + path)
    assert service.status_code == 200, service.text
    body = service.json()
    assert body["document"]["auth_type"] == "Token" and body["document"]["uri"].endswith("/mobile-sign/documents")
    bearer = {"Authorization": f"Bearer {body['document']['auth_token']}"}
    assert http.get("/mobile-sign/documents").status_code == 401
    documents = http.get("/mobile-sign/documents", headers=bearer).json()
    assert documents["signMethod"] == "CMS_SIGN_ONLY"
    entry = documents["documentsToSign"][0]
    data = base64.b64decode(entry["document"]["file"]["data"])
    digest = {m["name"]: m["value"] for m in entry["meta"]}["digest"]
    assert base64.b64encode(hashlib.sha256(data).digest()).decode() == digest
    entry["document"]["file"]["data"] = base64.b64encode(our_cms(
        own.key, own.certificate, tuple(services.hierarchy.chain("national")), data)).decode()
    put = http.put("/mobile-sign/documents", headers=bearer, json=documents)
    assert put.status_code == 200 and put.json()["status"] == "sealed", put.text
    used = http.get("/" + path)
    assert used.status_code == 410 and used.json()["code"] == "link-gone"
    assert http.get("/mobile-sign", params={"link": "A" * 80}).status_code == 404
    evidence = http.get(f"/signing-requests/{created['id']}/evidence", headers=alpha).json()
    assert [x["factor"] for x in evidence["factors"]] == ["biometric", "eds"]


def test_an_expired_handoff_link_is_refused_and_nothing_is_signed(http, services, alpha) -> None:
    created, client, _own = _contract_with_own_token(http, alpha, services)
    url = _to_eds(http, services, created, client["iin"])
    services.clock.advance(dt.timedelta(minutes=services.settings.handoff_link_minutes, seconds=1))
    late = http.get("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert late.status_code == 410 and late.json()["code"] == "link-gone"
    assert http.get(f"/signing-requests/{created['id']}", headers=alpha).json()["status"] == "open"


def test_bad_input_on_the_sign_page_is_a_page_in_its_language_and_changes_nothing(http, services, alpha) -> None:
    created, client, _own = _contract_with_own_token(http, alpha, services, language="ru")
    # No token (or a wrong one): the page says so, in the browser's language; no stack trace.
    nobody = http.get(f"/sign/{created['id']}", headers={"Accept-Language": "en"})
    assert nobody.status_code == 401 and "This link does not work" in nobody.text
    wrong = http.get(f"/sign/{created['id']}", cookies={"qoltanba_sign": "x" * 43})
    assert wrong.status_code == 401 and "Traceback" not in wrong.text
    _to_eds(http, services, created, client["iin"])
    before = http.get(f"/signing-requests/{created['id']}", headers=alpha).json()
    junk = http.post(f"/sign/{created['id']}/eds/cms", files={"file": ("x.p7s", b"not a CMS", "application/pkcs7")})
    assert junk.status_code == 403 and "Ничего не подписано" in junk.text
    empty = http.post(f"/sign/{created['id']}/eds/cms", files={"file": ("", b"", "application/octet-stream")})
    assert empty.status_code == 422 and 'role="alert"' in empty.text
    big = http.post(f"/sign/{created['id']}/eds/cms", files={"file": ("x.p7s", b"0" * (300 * 1024), "x/y")})
    assert big.status_code == 422
    after = http.get(f"/signing-requests/{created['id']}", headers=alpha).json()
    assert after["status"] == before["status"] == "open" and after["proven"] == before["proven"]
    assert after["failures"] == before["failures"] + 1   # the CMS that does not verify counts, as a wrong code
    bad_language = http.post("/signing-requests", headers=alpha, json={"document": "x" * 32, "client": "y" * 32,
                                                                       "language": "de"})
    assert bad_language.status_code == 422
    assert any(p["field"].endswith("language") for p in bad_language.json()["problems"])


ENROLMENT_WORDS = {"kk": ("осы телефонды растау коды", "аутентификаторыңызды қосыңыз"),
                   "ru": ("код для подтверждения этого телефона", "добавьте аутентификатор"),
                   "en": ("is your code to confirm this phone", "add your authenticator")}


def test_LOAN7_every_enrolment_sms_is_in_the_language_the_mfo_names_and_a_bad_language_changes_nothing(
        http, services, alpha) -> None:
    """Issue 20: the phone's confirmation code, its resend and the authenticator's link are said in kk, ru or en
    (Kazakh when the MFO names none); an unknown language is a 422 naming the field, and no SMS goes out."""
    def outbox(number: str) -> list[str]:
        return [m["text"] for m in http.get("/dev/sms-outbox", headers=alpha, params={"phone": number}).json()]

    for language, (code_words, link_words) in ENROLMENT_WORDS.items():
        number = "+7701" + f.iin()[-7:]
        body = {"kind": "individual", "iin": f.iin(), "name": "Сәрсенбаева Әйгерім", "phone": number}
        if language != "kk":
            body["language"] = language
        created = http.post("/clients", headers=alpha, json=body)
        assert created.status_code == 201, created.text
        (sms,) = created.json()["factors"]
        (text,) = outbox(number)
        assert code_words in text and CODE.search(text), text
        services.clock.advance(dt.timedelta(seconds=61))   # a resend is throttled to one a minute
        other = "en" if language != "en" else "ru"
        resent = http.post(f"/clients/{created.json()['id']}/factors/{sms['id']}/resend", headers=alpha,
                           params={"language": other})
        assert resent.status_code == 200, resent.text
        assert ENROLMENT_WORDS[other][0] in outbox(number)[-1]
        code = CODE.search(outbox(number)[-1]).group(1)
        client = created.json()["id"]
        assert http.post(f"/clients/{client}/factors/{sms['id']}/confirm", headers=alpha,
                         json={"code": code}).status_code == 200
        totp = http.post(f"/clients/{client}/factors", headers=alpha, json={"kind": "totp", "language": language})
        assert totp.status_code == 201, totp.text
        assert link_words in outbox(number)[-1] and "/client/factors/" in outbox(number)[-1]
    number = "+7701" + f.iin()[-7:]
    refused = http.post("/clients", headers=alpha, json={"kind": "individual", "iin": f.iin(), "name": "A B",
                                                         "phone": number, "language": "de"})
    assert refused.status_code == 422 and "language" in refused.text
    assert outbox(number) == []


NCA_VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk"
NCA_INSIDE = dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc)   # the test certificate: 2023-11-09 to 2024-11-08


def test_LOAN2_the_nca_rk_test_certificate_meets_every_offline_check_inside_its_validity_and_is_expired_today(
        http, services, alpha) -> None:
    """The real NCA RK GOST 2015 test certificate (tests/vectors/nca-rk) offered as a borrower's EDS, with the
    NCA's GOST test CA imported as a trust anchor (issue 6). With our clock inside its validity, the chain to
    that anchor, the validity and KZ-2 (nonRepudiation) all pass: what is left is what cannot be had offline,
    its issuer's OCSP/CRL at test.pki.gov.kz (fail closed, LOAN-2), and its IIN 123456789011, which is no valid
    IIN, so it names no client we can register. Today it is refused first of all as expired, said with its date.
    Nothing is enrolled either time."""
    pem = (NCA_VECTORS / "certs/individual_gost2015.cer").read_text()   # PEM, as the MFO would send it
    services.trust_store.add((NCA_VECTORS / "ca/nca_gost2015_test.cer").read_bytes(), "NCA RK GOST 2015 test", "test")
    client = register(http, alpha, services, iin=f.iin(), biometric=False)

    def offered() -> list[str]:
        answer = http.post(f"/clients/{client['id']}/factors", headers=alpha, json={"kind": "eds", "certificate": pem})
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        return [p["message"] if "message" in p else str(p) for p in answer.json().get("problems", [])]

    today = offered()
    assert any("has expired (2024-11-08" in p for p in today), today
    back = services.clock.now() - NCA_INSIDE
    services.clock.advance(-back)
    try:
        inside = offered()
    finally:
        services.clock.advance(back)
    assert not any("expired" in p or "trust anchor" in p or "KZ-2" in p for p in inside), inside
    assert any("revocation status cannot be obtained" in p for p in inside), inside
    assert any("names another person than the client" in p for p in inside), inside
    assert [f["kind"] for f in http.get(f"/clients/{client['id']}", headers=alpha).json()["factors"]] == ["sms"]
