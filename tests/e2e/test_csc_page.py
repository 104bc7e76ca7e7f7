"""The CSC API's OAuth2 authorisation-code flow through the borrower's signing page, in Chromium (issue 19).

A contract's hashes (LOAN-2: biometrics besides the EDS) are refused by
credentials/authorize with an SMS code alone; the MFO sends the borrower's
browser to oauth2/authorize, the page runs the liveness challenge with the
identity provider's simulator, the browser returns to the MFO with the code,
the MFO exchanges it for the SAD, and signHash signs exactly that hash.
"""

from __future__ import annotations

import base64
import hashlib
import urllib.parse

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.conftest import serious_violations
from tests.support import factories as f
from tests.support.factors import CODE, register
from tests.support.signing import client_with_held_key
from tests.support.tenants import ensure_tenant

TENANT = "csc-e2e"


@pytest.fixture(scope="module")
def mfo(site):
    from ca.access import AccessService

    services = site.services
    ensure_tenant(services, TENANT)
    key = AccessService(services.registry, services.clock).create_key("csc-e2e-backend", "mfo", by="test",
                                                                      tenant=TENANT).key
    with httpx.Client(base_url=site.url, headers={"X-API-Key": key}, timeout=60) as http:
        iin = f.iin()
        client = register(http, {}, services, iin=iin, biometric=True)
    held = client_with_held_key(services, iin=iin)
    return key, client, f"held-{held.serial.lower()}", held.certificate


def _csc(site, key: str, method: str, body: dict) -> httpx.Response:
    return httpx.post(f"{site.url}/csc/v2/{method}", json=body, headers={"Authorization": f"Bearer {key}"},
                      timeout=30)


def test_LOAN2_a_contracts_hash_is_authorised_on_the_signing_page_with_biometrics_then_signed(
        browser, site, mfo, axe_source) -> None:
    key, client, credential, certificate = mfo
    digest = hashlib.sha256(b"the contract's signed attributes").digest()
    # The SMS code alone is refused for a contract: policy LOAN-2 asks for biometrics too.
    assert _csc(site, key, "credentials/sendOTP", {"credentialID": credential}).status_code == 204
    outbox = httpx.get(f"{site.url}/dev/sms-outbox", params={"phone": client["phone"]}, headers={"X-API-Key": key})
    otp = CODE.search(outbox.json()[-1]["text"]).group(1)
    refused = _csc(site, key, "credentials/authorize", {
        "credentialID": credential, "numSignatures": 1, "hashes": [base64.b64encode(digest).decode()], "OTP": otp,
        "clientData": "contract"})
    assert refused.status_code == 400 and "LOAN-2" in refused.json()["error_description"], refused.text
    # The MFO sends the borrower's browser to oauth2/authorize (scope credential, the hash in the request).
    redirect = f"{site.url}/health"
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": key.split("_")[1], "redirect_uri": redirect, "scope": "credential",
        "credentialID": credential, "numSignatures": "1", "state": "mfo-state-7",
        "hashes": base64.urlsafe_b64encode(digest).decode().rstrip("="), "clientData": "contract",
        "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1"})
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"{site.url}/csc/v2/oauth2/authorize?{query}")
        assert "/sign-csc/" in page.url and "LOAN-2" in page.locator("#csc-lead").inner_text()
        assert page.locator("#authorise").count() == 0   # nothing to authorise before the biometric step
        assert serious_violations(page, axe_source) == []
        page.locator("#step-biometric button[type=submit]").click()
        assert page.locator(".moves li").count() >= 3
        page.locator("#step-biometric form button[type=submit]").click()   # the simulator films the movements
        assert page.locator("#step-biometric.step--done").count() == 1
        with page.expect_navigation():
            page.locator("#authorise button[type=submit]").click()
        back = urllib.parse.urlsplit(page.url)
        assert f"{back.scheme}://{back.netloc}{back.path}" == redirect
        answer = urllib.parse.parse_qs(back.query)
        assert answer["state"] == ["mfo-state-7"]
        code = answer["code"][0]
    finally:
        context.close()
    # The MFO exchanges the code (once) for the SAD and signs exactly the hash authorised.
    token = {"grant_type": "authorization_code", "client_secret": key, "code": code, "redirect_uri": redirect}
    exchanged = httpx.post(f"{site.url}/csc/v2/oauth2/token", data=token)
    assert exchanged.status_code == 200, exchanged.text
    sad = exchanged.json()["SAD"]
    again = httpx.post(f"{site.url}/csc/v2/oauth2/token", data=token)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    signed = _csc(site, key, "signatures/signHash", {"credentialID": credential, "SAD": sad,
                                                     "hashes": [base64.b64encode(digest).decode()],
                                                     "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                                                     "signAlgo": "1.2.840.10045.4.3.2"})
    assert signed.status_code == 200, signed.text
    certificate.public_key().verify(base64.b64decode(signed.json()["signatures"][0]),
                                    b"the contract's signed attributes", ec.ECDSA(hashes.SHA256()))
    with site.services.registry.transaction(readonly=True) as tx:
        row = tx.csc_activations.of_tenant(TENANT, limit=1)[0]
    assert row.status == "used" and row.policy == "LOAN-2"
    assert row.evidence["request"]["endpoint"] == "oauth2/authorize"
    assert [f["factor"] for f in row.evidence["factors"]] == ["biometric"]
    assert row.code_digest is None and row.page_token_digest is None
