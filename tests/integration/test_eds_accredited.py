"""Clients' EDS certificates of another accredited centre (issue 5, LOAN-2), over HTTP, on SQLite and PostgreSQL.

A second Qoltanba home, served on loopback, plays the NCA RK: its root is
imported into our trust store, its issuing CA is fetched from the AIA
caIssuers URL, its OCSP responder answers over HTTP. Enrolment accepts its
certificates only under the same checks as signing (chain to an imported
anchor, valid now, a SIGN certificate, not revoked at the issuer, naming
the client); every refusal lists every problem and stores nothing. The
signed contract is judged by pyHanko from its DSS alone, trusting the other
centre's root for the client's signature.

Our clock is frozen a few minutes ahead of the real time (the other
centre's certificates and OCSP answers are made at the real time) and moves
two hours for the review window (LOAN-5); pyHanko validates at our clock.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore

from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support.accredited import ForeignCentre, foreign_home, served_centre
from tests.support.factors import SigningPage, register, upload

TWO_HOURS = dt.timedelta(hours=2, seconds=1)


@pytest.fixture
def services(tmp_path, database_url, request):
    """Our clock frozen five minutes ahead of the real time (a copy of an initialised home)."""
    from tests.conftest import initialised_services

    yield from initialised_services(tmp_path, database_url, request, clock_offset=dt.timedelta(minutes=5))


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory):
    with served_centre(tmp_path_factory.mktemp("accredited") / "home") as served:
        yield served


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


def trust(http, pem: str, label: str = "Test accredited centre") -> None:
    added = http.post("/trust-anchors", json={"certificate": pem, "label": label})
    assert added.status_code == 201, added.text


def enrol(http, headers, client: dict, token):
    return http.post(f"/clients/{client['id']}/factors", headers=headers,
                     json={"kind": "eds", "certificate": token.pem})


def factors(http, headers, client: dict) -> list[dict]:
    return http.get(f"/clients/{client['id']}", headers=headers).json()["factors"]


def refused(http, headers, client: dict, token) -> list[str]:
    """The enrolment's 422 problem: its messages; and nothing was stored."""
    before = factors(http, headers, client)
    body = problem(enrol(http, headers, client, token), 422)
    assert body["code"] == "invalid-input" and {p["field"] for p in body["problems"]} == {"certificate"}
    assert factors(http, headers, client) == before
    return [p["message"] for p in body["problems"]]


def test_LOAN2_enrols_a_certificate_of_an_imported_accredited_centre_and_refuses_it_without_the_anchor(
        http, services, alpha, centre: ForeignCentre) -> None:
    """LOAN-2: an EDS of an accredited centre other than ours is enrolled once its root is a trust anchor."""
    iin = f.iin()
    token = centre.token(iin)
    client = register(http, alpha, services, iin=iin, biometric=False)
    [message] = refused(http, alpha, client, token)
    assert message.startswith("chains to no trust anchor")

    trust(http, centre.root_pem())
    enrolled = enrol(http, alpha, client, token)
    assert enrolled.status_code == 201, enrolled.text
    factor = enrolled.json()
    assert factor["kind"] == "eds" and factor["status"] == "active"
    assert factor["certificate_serial"] == token.serial
    assert "TEST ACCREDITED NATIONAL CA" in factor["certificate_issuer"]
    assert [x["kind"] for x in factors(http, alpha, client)] == ["sms", "eds"]


def test_LOAN2_refuses_a_certificate_revoked_at_its_centre(http, services, alpha, centre: ForeignCentre) -> None:
    """The other centre's OCSP responder says revoked: refused, nothing stored."""
    trust(http, centre.root_pem())
    iin = f.iin()
    token = centre.token(iin)
    centre.revoke(token)
    client = register(http, alpha, services, iin=iin, biometric=False)
    [message] = refused(http, alpha, client, token)
    assert message.startswith("is revoked according to its issuer"), message


def test_LOAN2_KZ1_KZ2_lists_every_problem_of_a_certificate_not_yet_valid_of_another_person_for_authentication(
        http, services, alpha, centre: ForeignCentre) -> None:
    """Not yet valid, another IIN (KZ-1) and an AUTH certificate (KZ-2): three problems in one refusal."""
    trust(http, centre.root_pem())
    iin = f.iin()
    client = register(http, alpha, services, iin=iin, biometric=False)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)
    token = centre.token(f.iin(), profile="individual-auth", at=later)
    messages = refused(http, alpha, client, token)
    assert len(messages) == 3, messages
    assert messages[0].startswith("is not valid yet")
    assert "no nonRepudiation" in messages[1] and "KZ-2" in messages[1]
    assert messages[2] == "names another person than the client (IIN)"
    # Another IIN alone, on a certificate that is otherwise fine.
    assert refused(http, alpha, client, centre.token(f.iin())) == ["names another person than the client (IIN)"]


def test_LOAN2_refuses_an_expired_certificate(http, services, alpha, centre: ForeignCentre) -> None:
    trust(http, centre.root_pem())
    iin = f.iin()
    client = register(http, alpha, services, iin=iin, biometric=False)
    token = centre.token(iin, at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400))
    assert token.certificate.not_valid_after_utc < dt.datetime.now(dt.timezone.utc)
    [message] = refused(http, alpha, client, token)
    assert message.startswith("has expired"), message


def test_LOAN2_fails_closed_when_the_centres_revocation_status_cannot_be_had(
        http, services, alpha, tmp_path) -> None:
    """A centre whose responder and CRLs do not answer: refused until its status can be checked."""
    silent = ForeignCentre(foreign_home(tmp_path / "silent"))
    trust(http, silent.chain_pem(), "Silent centre")    # root and issuing CA: no fetch needed for the chain
    iin = f.iin()
    token = silent.token(iin)
    client = register(http, alpha, services, iin=iin, biometric=False)
    [message] = refused(http, alpha, client, token)
    assert "revocation status cannot be obtained" in message


def _judge(pdf: bytes, roots, moment: dt.datetime) -> list:
    """pyHanko's status of each signature, with revocation data from the DSS only (hard-fail, no fetching)."""
    anchors = [asn1_x509.Certificate.load(r.public_bytes(serialization.Encoding.DER)) for r in roots]
    reader = PdfFileReader(io.BytesIO(pdf))
    dss = DocumentSecurityStore.read_dss(reader)
    statuses = []
    for sig in reader.embedded_regular_signatures:
        context = dss.as_validation_context({"trust_roots": anchors, "allow_fetching": False,
                                             "revocation_mode": "hard-fail", "moment": moment})
        statuses.append(validate_pdf_signature(sig, context))
    return statuses


def _request(http, headers, document: str, client: str) -> dict:
    response = http.post("/signing-requests", headers=headers,
                         json={"document": document, "client": client, "level": "B-LT"})
    assert response.status_code == 201, response.text
    return response.json()


def _signed_contract(http, services, headers, centre: ForeignCentre, page: SigningPage, request: dict, token,
                     iin: str, *, cms: bool = False):
    services.clock.advance(TWO_HOURS)
    assert page.biometrics(iin).status_code == 200
    signed = page.eds(token, cms=cms)
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "sealed"
    pdf = http.get(f"/signing-requests/{request['id']}/signed.pdf", headers=headers).content
    # The other centre's responder is the only one that knows the serial: its answer is in the DSS.
    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(pdf)))
    answered = {ocsp.load_der_ocsp_response(ref.get_object().data).serial_number for ref in dss.ocsps}
    assert int(token.serial, 16) in answered
    ours = services.hierarchy.chain("national")[-1]
    client_status, seal_status = _judge(pdf, [centre.root, ours], services.clock.now())
    assert client_status.bottom_line, client_status.pretty_print_details()
    assert client_status.signing_cert.serial_number == int(token.serial, 16)
    # The client's signature needs only the other centre's root (the TSA is ours: its root for the time-stamp).
    [alone] = _judge(pdf, [centre.root], services.clock.now())[:1]
    assert alone.intact and alone.valid and alone.trusted
    assert seal_status.bottom_line
    return pdf


def test_LOAN2_LOAN4_contract_signed_externally_with_an_accredited_centres_certificate(
        http, services, alpha, centre: ForeignCentre) -> None:
    """Biometrics then the client's own token (an NCA-style certificate); B-LT verifies from the DSS alone."""
    trust(http, centre.root_pem())
    iin = f.iin()
    token = centre.token(iin)
    client = register(http, alpha, services, iin=iin, eds=token)
    document = upload(http, alpha, iin=iin)
    created = _request(http, alpha, document, client["id"])
    assert created["policy"]["name"] == "LOAN-2"
    page = SigningPage(http, services, created)
    _signed_contract(http, services, alpha, centre, page, created, token, iin)
    evidence = http.get(f"/signing-requests/{created['id']}/evidence", headers=alpha).json()
    assert [x["factor"] for x in evidence["factors"]] == ["biometric", "eds"]
    eds = evidence["factors"][1]
    assert eds["certificate_serial"] == token.serial and "TEST ACCREDITED NATIONAL CA" in eds["certificate_issuer"]
    assert evidence["signature"]["way"] == "client-eds"


def test_LOAN2_a_certificate_revoked_after_enrolment_signs_nothing(http, services, alpha,
                                                                    centre: ForeignCentre) -> None:
    """Checked again when it signs: revoked at the other centre since enrolment, the signature is refused."""
    trust(http, centre.root_pem())
    iin = f.iin()
    token = centre.token(iin)
    client = register(http, alpha, services, iin=iin, eds=token)
    document = upload(http, alpha, iin=iin, kind="consent")
    created = _request(http, alpha, document, client["id"])
    assert created["policy"]["name"] == "LOAN-6"
    centre.revoke(token)
    page = SigningPage(http, services, created)
    body = problem(page.eds(token), 422)
    assert any(p["message"].startswith("is revoked according to its issuer") for p in body["problems"]), body
    shown = http.get(f"/documents/{document}", headers=alpha).json()
    assert shown["status"] == "uploaded" and len(shown["versions"]) == 1
    assert page.get().json()["status"] == "open"


def _centre_status(centre: ForeignCentre, token) -> ocsp.OCSPCertStatus:
    """The other centre's OCSP answer over HTTP, nonce-less (so from its cache when it has one)."""
    from urllib.request import Request, urlopen

    issuer = centre.chain[0]
    body = (ocsp.OCSPRequestBuilder().add_certificate(token.certificate, issuer, hashes.SHA1()).build()
            .public_bytes(serialization.Encoding.DER))
    request = Request(f"http://127.0.0.1:{centre.home.port}/ocsp/national", data=body,
                      headers={"Content-Type": "application/ocsp-request"})
    with urlopen(request, timeout=10) as answer:
        return ocsp.load_der_ocsp_response(answer.read()).certificate_status


def test_issue22_the_centres_responder_answers_revoked_the_moment_the_revocation_commits(
        centre: ForeignCentre) -> None:
    """The root of issue 22's flaky revocation: a served responder (two workers) kept answering
    its cached "good" until its next 0.2 s poll, so a revoked certificate could still be accepted
    right after the revocation committed in another process. Now each worker checks the
    revocation sequence before serving from its cache: asked the moment revoke() returns, every
    time, the answer is "revoked"."""
    for _ in range(5):
        token = centre.token()
        for _ in range(4):      # both workers have the "good" answer cached
            assert _centre_status(centre, token) == ocsp.OCSPCertStatus.GOOD
        centre.revoke(token)
        assert [_centre_status(centre, token) for _ in range(4)] == [ocsp.OCSPCertStatus.REVOKED] * 4


def _start_eds(page: SigningPage, token) -> bytes:
    """The EDS factor started: the signed attributes the client's token is to sign."""
    started = page.http.post(f"{page.base}/eds", headers=page.headers, json={"certificate": token.pem})
    assert started.status_code == 201, started.text
    return base64.b64decode(started.json()["signed_attributes"])


def _submit_eds(page: SigningPage, token, attributes: bytes) -> tuple[float, int, dict]:
    """(monotonic time the signature was submitted, its HTTP status, its body)."""
    signature = base64.b64encode(token.key.sign(attributes, "sha256")).decode()
    submitted = time.monotonic()
    answer = page.http.post(f"{page.base}/eds/signature", headers=page.headers, json={"signature": signature})
    return submitted, answer.status_code, answer.json()


def test_LOAN2_revoked_during_concurrent_signing_every_signature_submitted_after_it_is_refused(
        http, services, alpha, centre: ForeignCentre) -> None:
    """Issue 22: eight documents wait for one client's EDS signature; four signatures are submitted
    at once, the other centre revokes the certificate while they are in flight, and the other four
    follow the moment the revocation has committed. Every signature submitted after the commit is
    refused (422, revoked) and leaves its document unsigned; only those submitted before it may
    have gone through. (The other centre's responder had a cached "good" for this certificate;
    before the fix it kept serving it until its next 0.2 s poll.)"""
    trust(http, centre.root_pem())
    iin = f.iin()
    token = centre.token(iin)
    client = register(http, alpha, services, iin=iin, eds=token)
    pending = []
    for _ in range(8):
        document = upload(http, alpha, iin=iin, kind="consent")
        created = _request(http, alpha, document, client["id"])
        assert created["policy"]["name"] == "LOAN-6"
        page = SigningPage(http, services, created)
        pending.append((document, page, _start_eds(page, token)))
    with ThreadPoolExecutor(max_workers=8) as pool:
        before = [pool.submit(_submit_eds, page, token, attributes) for _, page, attributes in pending[:4]]
        centre.revoke(token)
        revoked = time.monotonic()
        after = [pool.submit(_submit_eds, page, token, attributes) for _, page, attributes in pending[4:]]
        outcomes = [future.result() for future in before + after]
    for (submitted, status, body), (document, _, _) in zip(outcomes, pending):
        shown = http.get(f"/documents/{document}", headers=alpha).json()
        if submitted > revoked:
            assert status == 422, body
            assert any(p["message"].startswith("is revoked according to its issuer") for p in body["problems"]), body
        if status == 422:
            assert shown["status"] == "uploaded" and len(shown["versions"]) == 1, shown
        else:
            assert status == 200 and submitted < revoked, (status, body)
    assert sum(1 for submitted, _, _ in outcomes if submitted > revoked) >= 4


def test_LOAN2_legal_entity_contract_signed_with_its_representatives_accredited_certificate(
        http, services, alpha, centre: ForeignCentre) -> None:
    """A legal entity (BIN): LOAN-2 applies to its contract; the certificate names its BIN and the acting IIN."""
    trust(http, centre.root_pem())
    iin, bin_ = f.iin(), f.VALID_BIN
    client = register(http, alpha, services, iin=iin, kind="legal_entity", bin_=bin_)
    # A legal entity's certificate of another organisation (BIN) is refused, an individual's too.
    other = centre.token(iin, profile="legal-sign", bin_="180240000001")
    assert "names another organisation than the client (BIN 190340000017)" in refused(http, alpha, client, other)
    assert refused(http, alpha, client, centre.token(iin)) == [
        "names another organisation than the client (BIN 190340000017)"]
    token = centre.token(iin, profile="legal-sign", bin_=bin_)
    assert enrol(http, alpha, client, token).status_code == 201
    document = upload(http, alpha, iin=bin_, client_kind="legal_entity", purpose="business",
                      loan_amount="3000000.00")
    created = _request(http, alpha, document, client["id"])
    assert created["policy"]["name"] == "LOAN-2"
    page = SigningPage(http, services, created)
    # This token answers NCALayer-style: a whole CMS over the document digest.
    _signed_contract(http, services, alpha, centre, page, created, token, iin, cms=True)
    status = http.get(f"/signing-requests/{created['id']}", headers=alpha).json()
    assert status["status"] == "sealed" and status["signer_serial"] == token.serial
    assert status["earliest_payout_at"] is None     # LOAN-11 is not for legal entities
    evidence = http.get(f"/signing-requests/{created['id']}/evidence", headers=alpha)
    assert evidence.status_code == 200
    assert [x["factor"] for x in evidence.json()["factors"]] == ["biometric", "eds"]
    assert http.get(f"/signing-requests/{created['id']}/evidence.p7s", headers=alpha).status_code == 200
