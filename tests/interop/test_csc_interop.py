"""The CSC API (issue 19) on a real server: stock pyHanko signs through it; SAD refusals; the seal; the policy.

A home served by uvicorn on loopback; the MFO's API key is the bearer
token; the borrower's SMS code is read from the development outbox as the
borrower would read their phone, and their PIN is their personal-cabinet
password (LOAN-6: two different kinds of parameter). Judges: ``qoltanba verify``, pyHanko's
validator and poppler's pdfsig.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import io
import re
import textwrap
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support import factories as f
from tests.support.accounts import PASSWORD, cabinet_account
from tests.support.factors import CODE, register
from tests.support.pdf_judges import nss_database, pdfsig, pyhanko_statuses
from tests.support.pdfs import contract_pdf
from tests.support.server import prepare_home, running_server
from tests.support.signing import client_with_held_key
from tests.support.tenants import ensure_tenant

TENANT, OTHER = "csc-alpha", "csc-beta"
README = Path(__file__).resolve().parents[2] / "README.md"
ECDSA_SHA256, SHA256 = "1.2.840.10045.4.3.2", "2.16.840.1.101.3.4.2.1"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A home on loopback, the in-process services on the same home, two tenants with an MFO key each."""
    from api.wiring import Services
    from ca.access import AccessService

    home = prepare_home(tmp_path_factory.mktemp("csc") / "home")
    # One worker: the development SMS outbox is kept in the serving process's memory.
    with running_server(home, workers=1):
        services = Services.build(home.settings())
        try:
            keys = {}
            for tenant in (TENANT, OTHER):
                ensure_tenant(services, tenant)
                keys[tenant] = AccessService(services.registry, services.clock).create_key(
                    f"{tenant}-backend", "mfo", by="test", tenant=tenant).key
            yield home, services, keys
        finally:
            services.close()


@pytest.fixture
def borrower(served):
    return new_borrower(served)


def new_borrower(served, *, account: bool = True) -> dict:
    """A client of TENANT with a confirmed phone, a key the service holds for them (issue 15) and, unless not
    wanted, a cabinet account whose password is the key's PIN (issue 16); each test its own (a second code is
    sent no sooner than a minute after the first)."""
    home, services, keys = served
    with httpx.Client(base_url=home.url, headers={"X-API-Key": keys[TENANT]}) as http:
        iin = f.iin()
        client = register(http, {}, services, iin=iin, biometric=True)
    held = client_with_held_key(services, iin=iin)
    opened = cabinet_account(services, TENANT, client["id"]) if account else None
    return {"client": client, "iin": iin, "credential": f"held-{held.serial.lower()}", "certificate": held.certificate,
            "account": opened, "pin": PASSWORD if account else None}


def _csc(home, key: str, method: str, body: dict, version: str = "v1") -> httpx.Response:
    return httpx.post(f"{home.url}/csc/{version}/{method}", json=body, headers={"Authorization": f"Bearer {key}"},
                      timeout=30)


def _otp(home, key: str, phone: str) -> str:
    outbox = httpx.get(f"{home.url}/dev/sms-outbox", params={"phone": phone}, headers={"X-API-Key": key})
    assert outbox.status_code == 200, outbox.text
    return CODE.search(outbox.json()[-1]["text"]).group(1)


def _authorise(home, key: str, borrower: dict, digests: list[bytes], kind: str = "consent", *,
               pin: bool = True) -> httpx.Response:
    """sendOTP, then authorize with the code the borrower's phone got and (``pin``) their PIN."""
    sent = _csc(home, key, "credentials/sendOTP", {"credentialID": borrower["credential"]})
    assert sent.status_code == 204, sent.text
    return _csc(home, key, "credentials/authorize", {
        "credentialID": borrower["credential"], "numSignatures": len(digests),
        "hash": [base64.b64encode(d).decode() for d in digests], "OTP": _otp(home, key, borrower["client"]["phone"]),
        "clientData": kind, **({"PIN": borrower["pin"]} if pin and borrower["pin"] else {})})


def _sign(home, key: str, credential: str, sad: str, digests: list[bytes], version: str = "v1") -> httpx.Response:
    field = "hash" if version == "v1" else "hashes"
    oid = "hashAlgo" if version == "v1" else "hashAlgorithmOID"
    return _csc(home, key, "signatures/signHash", {"credentialID": credential, "SAD": sad, oid: SHA256,
                                                   "signAlgo": ECDSA_SHA256,
                                                   field: [base64.b64encode(d).decode() for d in digests]}, version)


def _audit(services, action: str) -> list:
    found, after = [], 0
    with services.registry.transaction(readonly=True) as tx:
        while batch := tx.audit.entries(after_id=after):
            found += [e for e in batch if e.action == action]
            after = batch[-1].id
    return found


def _example() -> str:
    text = README.read_text()
    block = re.search(r"<!-- csc-example -->\n```python\n(.*?)```", text, re.S).group(1)
    return block


def test_readme_pyhanko_example_signs_with_the_borrowers_held_key_and_verify_pyhanko_pdfsig_accept(
        served, borrower, tmp_path) -> None:
    """Stock pyHanko CSCSigner, the README's block as written: sendOTP, authorize with the borrower's PIN (their
    cabinet password) and the SMS code (LOAN-6, a consent: two different kinds), signHash; the PDF passes qoltanba verify, pyHanko's validator and pdfsig; the evidence names the
    CSC requests."""
    import aiohttp
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.signers import csc_signer

    home, services, keys = served
    namespace = {"csc_signer": csc_signer, "signers": signers, "IncrementalPdfFileWriter": IncrementalPdfFileWriter,
                 "BASE_URL": home.url, "CREDENTIAL": borrower["credential"], "API_KEY": keys[TENANT],
                 "ask_borrower": lambda: _otp(home, keys[TENANT], borrower["client"]["phone"]),
                 "ask_pin": lambda: borrower["pin"]}
    exec("async def example(session, pdf_in, pdf_out):\n" + textwrap.indent(_example(), "    "), namespace)  # noqa: S102

    async def run() -> bytes:
        out = io.BytesIO()
        async with aiohttp.ClientSession() as session:
            await namespace["example"](session, io.BytesIO(contract_pdf(pages=1)), out)
        return out.getvalue()

    pdf = asyncio.run(run())
    path = tmp_path / "consent.pdf"
    path.write_bytes(pdf)
    root = services.hierarchy.chain("national")[-1]
    statuses = pyhanko_statuses(pdf, root)
    assert len(statuses) == 1 and statuses[0].bottom_line, statuses
    assert statuses[0].signing_cert.serial_number == borrower["certificate"].serial_number
    checked = home.cli("verify", str(path), "--online", "--json", check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "TOTAL-PASSED" in checked.stdout
    signatures = pdfsig(path, nss_database(tmp_path / "nss", root))
    assert len(signatures) == 1 and signatures[0].signature_valid, signatures[0].raw
    assert signatures[0].certificate == "Certificate is Trusted.", signatures[0].raw
    # The evidence: both CSC requests as received (no code, no PIN), the policy and the SMS and password factors
    # (LOAN-6's two kinds; the held key is not counted as the EDS), the signature.
    with services.registry.transaction(readonly=True) as tx:
        row = tx.csc_activations.of_tenant(TENANT, limit=1)[0]
    assert row.status == "used" and row.policy == "LOAN-6" and row.document_kind == "consent"
    assert row.evidence["request"]["endpoint"] == "credentials/authorize"
    assert row.evidence["request"]["credentialID"] == borrower["credential"]
    assert row.evidence["request"]["OTP"] == "given" and row.evidence["factors"][0]["factor"] == "sms"
    assert row.evidence["request"]["PIN"] == "given" and PASSWORD not in str(row.evidence)
    assert [f["factor"] for f in row.evidence["factors"]] == ["sms", "password"]
    assert row.evidence["factors"][1]["account"] == borrower["account"]
    assert row.evidence["signHash"]["endpoint"] == "signatures/signHash"
    assert row.evidence["signHash"]["signAlgo"] == ECDSA_SHA256
    assert [s["hash"] for s in row.evidence["signatures"]] == row.hashes
    signed = [e for e in _audit(services, "csc.signed") if e.details["activation"] == row.public_id]
    assert len(signed) == 1 and signed[0].actor == f"{TENANT}-backend"


def test_a_sad_signs_only_its_hashes_once_and_in_time_else_nothing_is_signed_and_audited(served, borrower) -> None:
    home, services, keys = served
    key = keys[TENANT]
    first, second = hashlib.sha256(b"one").digest(), hashlib.sha256(b"two").digest()
    granted = _authorise(home, key, borrower, [first])
    assert granted.status_code == 200, granted.text
    sad = granted.json()["SAD"]
    assert 0 < granted.json()["expiresIn"] <= 300
    refusals = len(_audit(services, "csc.refused"))
    # A hash the SAD was not issued for.
    other = _sign(home, key, borrower["credential"], sad, [second])
    assert other.status_code == 400 and other.json()["error"] == "invalid_request", other.text
    assert "not authorised by the SAD" in other.json()["error_description"] and "signatures" not in other.json()
    # Another tenant's credential, with this SAD and with its own key: not found.
    foreign = _sign(home, keys[OTHER], borrower["credential"], sad, [first])
    assert foreign.status_code == 400 and foreign.json() == {"error": "invalid_request",
                                                             "error_description": "Invalid parameter credentialID"}
    # The SAD is still unspent: its own hash signs, once, verifiably with the borrower's key.
    signed = _sign(home, key, borrower["credential"], sad, [first])
    assert signed.status_code == 200, signed.text
    (signature,) = signed.json()["signatures"]
    borrower["certificate"].public_key().verify(base64.b64decode(signature), b"one", ec.ECDSA(hashes.SHA256()))
    reused = _sign(home, key, borrower["credential"], sad, [first])
    assert reused.status_code == 400 and "already used" in reused.json()["error_description"], reused.text
    # Expired: a new SAD whose lifetime has passed (moved back in the registry the server reads).
    later = new_borrower(served)
    late = _authorise(home, key, later, [second]).json()["SAD"]
    with services.registry.transaction() as tx:
        row = tx.csc_activations.by_digest("sad_digest", services.secret_box.keyed_hash("csc-sad", late))
        row.expires_at = services.clock.now() - dt.timedelta(seconds=1)
    expired = _sign(home, key, later["credential"], late, [second])
    assert expired.status_code == 400 and expired.json()["error_description"] == "SAD expired", expired.text
    refused = _audit(services, "csc.refused")[refusals:]
    assert [e.details["error_description"].split(":")[0] for e in refused] == [
        "Invalid parameter hash", "Invalid parameter credentialID", "Invalid parameter SAD", "SAD expired"]
    assert all(e.details["endpoint"] == "signatures/signHash" for e in refused)
    with services.registry.transaction(readonly=True) as tx:
        assert tx.csc_activations.by_digest("sad_digest", services.secret_box.keyed_hash("csc-sad", late)).used_at \
            is None
    # Only the SAD's keyed hash is stored.
    with services.registry.transaction(readonly=True) as tx:
        assert all(late not in str(r.evidence) and r.sad_digest != late for r in tx.csc_activations.of_tenant(TENANT))


def test_wrong_otps_are_counted_and_void_the_code_at_the_policys_limit(served, borrower) -> None:
    """A wrong code is refused (invalid_otp) and counted, though nothing else is written; after five wrong tries
    even the right code is refused: guessing gets nowhere."""
    home, services, keys = served
    key, credential = keys[TENANT], borrower["credential"]
    assert _csc(home, key, "credentials/sendOTP", {"credentialID": credential}).status_code == 204
    right = _otp(home, key, borrower["client"]["phone"])
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    body = {"credentialID": credential, "numSignatures": 1, "clientData": "consent", "PIN": borrower["pin"],
            "hash": [base64.b64encode(hashlib.sha256(b"guess").digest()).decode()]}
    for _ in range(5):
        answer = _csc(home, key, "credentials/authorize", {**body, "OTP": wrong})
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_otp", answer.text
    late = _csc(home, key, "credentials/authorize", {**body, "OTP": right})
    assert late.status_code == 400 and "void" in late.json()["error_description"], late.text


def test_a_suspended_tenant_signs_nothing_through_csc(served) -> None:
    """Issue 15's suspension holds at the CSC door too: every method refuses, in CSC's words, and says why."""
    from ca.access import AccessService

    home, services, _keys = served
    ensure_tenant(services, "csc-gamma")
    key = AccessService(services.registry, services.clock).create_key("csc-gamma-backend", "mfo", by="test",
                                                                      tenant="csc-gamma").key
    assert _csc(home, key, "credentials/list", {}).status_code == 200
    services.tenants.suspend("test", "csc-gamma", "CSC test")
    body = {"credentialID": "seal-csc-gamma", "numSignatures": 1, "clientData": "f" * 32,
            "hash": [base64.b64encode(hashlib.sha256(b"x").digest()).decode()]}
    answer = _csc(home, key, "credentials/authorize", body)
    assert answer.status_code == 400 and "suspended" in answer.json()["error_description"], answer.text


def test_a_contracts_hashes_are_not_authorised_by_an_otp_alone_loan_2(served, borrower) -> None:
    """LOAN-2: a contract needs biometrics besides the EDS; the SMS code is refused, no SAD, audited."""
    home, services, keys = served
    refused = _authorise(home, keys[TENANT], borrower, [hashlib.sha256(b"contract").digest()], kind="contract")
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_request" and "LOAN-2" in refused.json()["error_description"]
    assert "SAD" not in refused.json()
    assert "LOAN-2" in _audit(services, "csc.refused")[-1].details["error_description"]


def _activations(services, credential: str) -> int:
    with services.registry.transaction(readonly=True) as tx:
        return sum(r.credential == credential for r in tx.csc_activations.of_tenant(TENANT, limit=10_000))


def test_LOAN6_a_consent_is_not_authorised_by_one_otp_with_the_held_key_but_by_otp_and_pin(served, borrower) -> None:
    """LOAN-6: two different kinds of parameter; one SMS code is one, and the key held for the borrower is not
    their EDS. The code alone is refused (invalid_request, saying why), nothing written or spent, audited; the same
    code with the borrower's PIN (their cabinet password) is two kinds, and authorises the consent."""
    home, services, keys = served
    key, digest = keys[TENANT], hashlib.sha256(b"a consent").digest()
    sent = _csc(home, key, "credentials/sendOTP", {"credentialID": borrower["credential"]})
    assert sent.status_code == 204, sent.text
    body = {"credentialID": borrower["credential"], "numSignatures": 1, "hash": [base64.b64encode(digest).decode()],
            "OTP": _otp(home, key, borrower["client"]["phone"]), "clientData": "consent"}
    alone = _csc(home, key, "credentials/authorize", body)
    assert alone.status_code == 400 and alone.json()["error"] == "invalid_request", alone.text
    said = alone.json()["error_description"]
    assert "LOAN-6" in said and "two different kinds" in said and "PIN" in said and "SAD" not in alone.json()
    assert _activations(services, borrower["credential"]) == 0
    refused = _audit(services, "csc.refused")[-1]
    assert "LOAN-6" in refused.details["error_description"] and refused.details["endpoint"] == "credentials/authorize"
    # The code was not spent by the refusal: with the PIN it authorises, once, and signs exactly that hash.
    granted = _csc(home, key, "credentials/authorize", {**body, "PIN": borrower["pin"]})
    assert granted.status_code == 200, granted.text
    signed = _sign(home, key, borrower["credential"], granted.json()["SAD"], [digest])
    assert signed.status_code == 200, signed.text
    borrower["certificate"].public_key().verify(base64.b64decode(signed.json()["signatures"][0]), b"a consent",
                                                ec.ECDSA(hashes.SHA256()))
    authorised = _audit(services, "csc.authorised")[-1]
    assert authorised.details["policy"] == "LOAN-6" and authorised.details["factors"] == ["sms", "password"]


def test_LOAN6_a_borrower_without_a_cabinet_account_has_no_pin_and_one_otp_is_refused(served) -> None:
    """No cabinet account, no password: the SMS code alone is refused for a consent, saying why; a PIN made up is
    refused too; nothing authorised."""
    home, services, keys = served
    lone = new_borrower(served, account=False)
    refused = _authorise(home, keys[TENANT], lone, [hashlib.sha256(b"no account").digest()])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request", refused.text
    said = refused.json()["error_description"]
    assert "LOAN-6" in said and "no personal-cabinet account" in said, said
    made_up = _csc(home, keys[TENANT], "credentials/authorize", {
        "credentialID": lone["credential"], "numSignatures": 1, "clientData": "consent", "PIN": PASSWORD,
        "OTP": _otp(home, keys[TENANT], lone["client"]["phone"]),
        "hash": [base64.b64encode(hashlib.sha256(b"no account").digest()).decode()]})
    assert made_up.status_code == 400 and "no personal-cabinet account" in made_up.json()["error_description"]
    assert _activations(services, lone["credential"]) == 0


def test_LOAN8_a_wrong_pin_is_refused_counted_with_the_cabinets_logins_audited_and_locks_it(served, borrower) -> None:
    """The PIN is the cabinet password (LOAN-8's login): a wrong one is invalid_pin, counted toward the cabinet's
    own lockout (two wrong logins and three wrong PINs make its five), audited; locked, even the right PIN and the
    cabinet's login are refused. Nothing is authorised or signed, and the PIN is written nowhere."""
    home, services, keys = served
    key, subject = keys[TENANT], f"account:{borrower['account']}"
    wrong_login = {"tenant": TENANT, "iin": borrower["iin"], "password": "not-the-password"}
    for _ in range(2):
        assert httpx.post(f"{home.url}/borrower/sessions", json=wrong_login).status_code == 401
    assert _csc(home, key, "credentials/sendOTP", {"credentialID": borrower["credential"]}).status_code == 204
    body = {"credentialID": borrower["credential"], "numSignatures": 1, "clientData": "consent",
            "OTP": _otp(home, key, borrower["client"]["phone"]),
            "hash": [base64.b64encode(hashlib.sha256(b"pin").digest()).decode()]}
    before = len(_audit(services, "csc.refused"))
    for _ in range(3):
        answer = _csc(home, key, "credentials/authorize", {**body, "PIN": "Wrong-pass-2026"})
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_pin", answer.text
    failed = [e for e in _audit(services, "borrower.pin-failed") if e.subject == subject]
    assert [e.details["failures"] for e in failed[:2]] == [3, 4] and "locked_until" in failed[2].details
    assert all(e.details["reason"] == "password" and e.details["via"] == "csc" for e in failed)
    assert [e.subject for e in _audit(services, "borrower.locked")].count(subject) == 1
    # Locked: the right PIN with the right code is refused, and so is the cabinet's login with the password.
    locked = _csc(home, key, "credentials/authorize", {**body, "PIN": borrower["pin"]})
    assert locked.status_code == 400 and locked.json()["error"] == "invalid_pin", locked.text
    assert [e for e in _audit(services, "borrower.pin-failed") if e.subject == subject][-1].details["reason"] == \
        "locked"
    login = httpx.post(f"{home.url}/borrower/sessions", json={**wrong_login, "password": borrower["pin"]})
    assert login.status_code == 401, login.text
    refusals = _audit(services, "csc.refused")[before:]
    assert [e.details["error"] for e in refusals] == ["invalid_pin"] * 4
    assert _activations(services, borrower["credential"]) == 0
    with services.registry.transaction(readonly=True) as tx:
        everything = [e for e in tx.audit.entries(limit=100_000) if e.subject in (subject, f"credential:"
                                                                                           f"{borrower['credential']}")]
    assert everything and not any("Wrong-pass-2026" in str(e.details) or PASSWORD in str(e.details)
                                  for e in everything)


def test_the_seal_signs_through_csc_for_its_own_tenant_only(served) -> None:
    home, services, keys = served
    listed = _csc(home, keys[TENANT], "credentials/list", {}, "v2")
    assert listed.status_code == 200 and listed.json()["credentialIDs"] == [f"seal-{TENANT}"], listed.text
    info = _csc(home, keys[TENANT], "credentials/info", {"credentialID": f"seal-{TENANT}", "certificates": "chain"})
    assert info.status_code == 200 and info.json()["authMode"] == "implicit" and info.json()["SCAL"] == "2"
    seal = x509.load_der_x509_certificate(base64.b64decode(info.json()["cert"]["certificates"][0]))
    assert seal.serial_number == int(services.tenants.get(TENANT).seal.serial, 16)
    from tests.support.signing import upload

    digest = hashlib.sha256(b"the tenant's own document").digest()
    own, theirs = upload(services, f.iin(), tenant=TENANT).id, upload(services, f.iin(), tenant=OTHER).id
    body = {"credentialID": f"seal-{TENANT}", "numSignatures": 1, "hashes": [base64.b64encode(digest).decode()],
            "clientData": own}
    # The seal signs the tenant's own documents only: another tenant's document, or none named, is refused.
    for named in (theirs, None):
        refused = _csc(home, keys[TENANT], "credentials/authorize", {**body, "clientData": named}, "v2")
        assert refused.status_code == 400 and "clientData" in refused.json()["error_description"], refused.text
    # Another tenant names this tenant's seal: not found, refused, audited.
    foreign = _csc(home, keys[OTHER], "credentials/authorize", body, "v2")
    assert foreign.status_code == 400 and foreign.json()["error_description"] == "Invalid parameter credentialID"
    assert _audit(services, "csc.refused")[-1].details["tenant"] == OTHER
    granted = _csc(home, keys[TENANT], "credentials/authorize", body, "v2")
    assert granted.status_code == 200, granted.text
    stolen = _sign(home, keys[OTHER], f"seal-{TENANT}", granted.json()["SAD"], [digest], "v2")
    assert stolen.status_code == 400 and "signatures" not in stolen.json()
    signed = _sign(home, keys[TENANT], f"seal-{TENANT}", granted.json()["SAD"], [digest], "v2")
    assert signed.status_code == 200, signed.text
    seal.public_key().verify(base64.b64decode(signed.json()["signatures"][0]), b"the tenant's own document",
                             ec.ECDSA(hashes.SHA256()))
    with services.registry.transaction(readonly=True) as tx:
        row = tx.csc_activations.of_tenant(TENANT, limit=1)[0]
    assert row.credential == f"seal-{TENANT}" and row.evidence["request"]["clientData"] == own
    assert row.status == "used" and row.client_id is None


def test_csc_errors_are_the_specifications_words_never_a_500(served, borrower) -> None:
    home, _services, keys = served
    assert _csc(home, "qk_nope_nope", "credentials/list", {}).json()["error"] == "invalid_token"
    missing = httpx.post(f"{home.url}/csc/v1/credentials/info", json={})
    assert missing.status_code == 401 and missing.json()["error"] == "invalid_token"
    token = httpx.post(f"{home.url}/csc/v1/oauth2/token", data={"grant_type": "client_credentials",
                                                               "client_secret": keys[TENANT]})
    assert token.status_code == 200, token.text
    access = token.json()["access_token"]
    info = _csc(home, access, "credentials/info", {"credentialID": borrower["credential"], "authInfo": True})
    assert info.status_code == 200 and info.json()["authMode"] == "explicit" and info.json()["OTP"]["presence"] == "true"
    assert info.json()["PIN"]["presence"] == "true"   # the borrower's cabinet password, besides the SMS code
    for body in ({"credentialID": 5}, {"credentialID": borrower["credential"], "numSignatures": "1"},
                 {"credentialID": borrower["credential"], "numSignatures": 1, "hash": ["%%"]}):
        answer = _csc(home, access, "credentials/authorize", body)
        assert answer.status_code == 400 and set(answer.json()) == {"error", "error_description"}, answer.text
    digest = base64.b64encode(hashlib.sha256(b"typed").digest()).decode()
    for pin in (5, "", "x" * 129):   # a PIN not a string of 1 to 128 characters: refused before anything is checked
        answer = _csc(home, access, "credentials/authorize", {
            "credentialID": borrower["credential"], "numSignatures": 1, "hash": [digest], "OTP": "000000",
            "clientData": "consent", "PIN": pin})
        assert answer.status_code == 400 and answer.json() == {
            "error": "invalid_request", "error_description": "Missing (or invalid type) string parameter PIN"}
    broken = httpx.post(f"{home.url}/csc/v1/signatures/signHash", content=b"[not json",
                        headers={"Authorization": f"Bearer {access}"})
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_request"


def test_the_page_flow_refuses_a_foreign_client_a_missing_token_an_unmet_policy_and_a_made_up_code(
        served, borrower) -> None:
    """LOAN-2 through oauth2/authorize without a browser: each wrong step refused, nothing authorised."""
    home, services, keys = served
    digest = base64.urlsafe_b64encode(hashlib.sha256(b"contract").digest()).decode().rstrip("=")
    query = {"response_type": "code", "client_id": keys[TENANT].split("_")[1], "redirect_uri": f"{home.url}/health",
             "scope": "credential", "credentialID": borrower["credential"], "numSignatures": "1", "hashes": digest,
             "clientData": "contract", "state": "s"}
    foreign = httpx.get(f"{home.url}/csc/v2/oauth2/authorize", params={**query, "client_id": keys[OTHER].split("_")[1]})
    assert foreign.status_code == 400 and foreign.json()["error_description"] == "Invalid parameter credentialID"
    unknown = httpx.get(f"{home.url}/csc/v2/oauth2/authorize", params={**query, "client_id": "0" * 16})
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    opened = httpx.get(f"{home.url}/csc/v2/oauth2/authorize", params=query)
    assert opened.status_code == 303 and opened.headers["location"].startswith("/sign-csc/"), opened.text
    page = home.url + opened.headers["location"]
    cookie = opened.cookies.get("qoltanba_csc")
    assert cookie and "httponly" in opened.headers["set-cookie"].lower()
    assert httpx.get(page, headers={"Accept": "text/html"}).status_code == 401   # no token: no page
    shown = httpx.get(page, cookies={"qoltanba_csc": cookie}, headers={"Accept": "text/html"})
    assert shown.status_code == 200 and "LOAN-2" in shown.text
    early = httpx.post(page + "/confirm", cookies={"qoltanba_csc": cookie}, headers={"Accept": "text/html"})
    assert early.status_code == 400 and "location" not in early.headers   # the policy is not met: no code
    made_up = httpx.post(f"{home.url}/csc/v2/oauth2/token", data={
        "grant_type": "authorization_code", "client_secret": keys[TENANT], "code": "x" * 43,
        "redirect_uri": f"{home.url}/health"})
    assert made_up.status_code == 400 and made_up.json()["error"] == "invalid_grant"
    with services.registry.transaction(readonly=True) as tx:
        row = tx.csc_activations.of_tenant(TENANT, limit=1)[0]
    assert row.status == "pending" and row.code_digest is None and row.sad_digest is None
