"""Set-ups for the client's-will tests (issue 5): a frozen clock, clients with factors, the signing page.

The ``services`` fixture here replaces the suite's: the same initialised
hierarchy on SQLite and PostgreSQL, but on a clock the test moves (the
review window is two hours). The clock starts three hours in the past so
that everything signed after the window is still in the past for the
independent validators, which use the real time.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization

from keys import load_pkcs12
from tests.support import factories as f
from tests.support.pdfs import contract_pdf

TOKEN_HEADER = "X-Signing-Token"
ENROLMENT_HEADER = "X-Enrolment-Token"
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def services(tmp_path, database_url, request):
    """Our clock frozen three hours behind the real time (a copy of an initialised home)."""
    from tests.conftest import initialised_services

    yield from initialised_services(tmp_path, database_url, request, clock_offset=-dt.timedelta(hours=3))


def phone() -> str:
    return "+7701" + f"{secrets.randbelow(10 ** 7):07d}"


def last_code(services, number: str) -> str:
    messages = services.sms.messages(phone=number)
    assert messages, f"no SMS to {number}"
    return CODE.search(messages[-1].text).group(1)


@dataclass
class Token:
    """A client's own EDS token: a PKCS#12 from our national CA (as NCALayer would hold)."""

    key: object
    certificate: object
    serial: str

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def token_cms(key, certificate, document_digest: bytes) -> bytes:
    """What a client's own token returns for hash signing (NCALayer style): pyHanko's CMS over a digest."""
    import asyncio

    from asn1crypto import algos as asn1_algos
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    cert = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))

    class TokenSigner(signers.Signer):
        def __init__(self) -> None:
            super().__init__(signing_cert=cert, cert_registry=SimpleCertificateStore.from_certs([cert]),
                             signature_mechanism=asn1_algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}))

        async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
            return key.sign(data, "sha256")

    return asyncio.run(TokenSigner().async_sign(document_digest, "sha256")).dump()


def own_token(services, iin: str) -> Token:
    issued = f.issue_person(services, holder_iin=iin, password=b"token-pin")
    key, certificate, _chain = load_pkcs12(issued.pkcs12, b"token-pin")
    return Token(key, certificate, issued.serial)


def upload(http, headers, *, iin: str, kind: str = "contract", **metadata) -> str:
    meta = f.loan_metadata(client_id_number=iin, kind=kind, **metadata)
    response = http.post("/documents", headers=headers, files={"file": ("d.pdf", contract_pdf(pages=1),
                                                                        "application/pdf")},
                         data={"metadata": json.dumps(meta)})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def register(http, headers, services, *, iin: str, kind: str = "individual", biometric: bool = True,
             eds: Token | None = None, totp: bool = False, bin_: str | None = None) -> dict:
    """A client registered over HTTP with the phone confirmed and the factors asked for enrolled."""
    number = phone()
    body = {"kind": kind, "iin": iin, "name": "Сәрсенбаева Әйгерім", "phone": number}
    if bin_:
        body["bin"] = bin_
    response = http.post("/clients", headers=headers, json=body)
    assert response.status_code == 201, response.text
    client = response.json()
    (sms,) = client["factors"]
    outbox = http.get("/dev/sms-outbox", headers=headers, params={"phone": number})
    assert outbox.status_code == 200, outbox.text
    code = CODE.search(outbox.json()[-1]["text"]).group(1)
    confirmed = http.post(f"/clients/{client['id']}/factors/{sms['id']}/confirm", headers=headers,
                          json={"code": code})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "active", confirmed.text
    client["totp_secret"] = None
    if biometric:
        enrolled = http.post(f"/clients/{client['id']}/factors", headers=headers,
                             json={"kind": "biometric", "reference": f"tsoid-{secrets.token_hex(4)}"})
        assert enrolled.status_code == 201, enrolled.text
    if eds is not None:
        enrolled = http.post(f"/clients/{client['id']}/factors", headers=headers,
                             json={"kind": "eds", "certificate": eds.pem})
        assert enrolled.status_code == 201, enrolled.text
    client["phone"] = number
    if totp:
        client["totp_secret"] = own_totp(http, headers, services, client)
        # The first code is spent on the confirmation; the next step gives a new one.
        services.clock.advance(dt.timedelta(seconds=30))
    return client


def enrolment_token(services, number: str, factor_id: str, http=None) -> str:  # noqa: ANN001
    """The enrolment token of the link the service sent to the client's phone (issue 15): read from the outbox
    in process, or over ``http`` with the client's default (administrator's) key, as a phone would receive it."""
    texts = [m["text"] for m in http.get("/dev/sms-outbox", params={"phone": number}).json()] if http is not None \
        else [m.text for m in services.sms.messages(phone=number)]
    texts = [t for t in texts if f"/client/factors/{factor_id}#" in t]
    assert texts, f"no enrolment link to {number}"
    return re.search(rf"/client/factors/{factor_id}#([A-Za-z0-9_-]+)", texts[-1]).group(1)


def own_totp(http, headers, services, client: dict) -> str:
    """Issue 15: the MFO asks for an authenticator and sees it pending; the link goes to the client's phone; the
    client's page reads the seed and confirms it with a first code. Returns the seed (as the client's app has it)."""
    from signing.factors import totp_code

    enrolled = http.post(f"/clients/{client['id']}/factors", headers=headers, json={"kind": "totp"})
    assert enrolled.status_code == 201, enrolled.text
    factor = enrolled.json()
    assert factor["status"] == "pending" and "secret" not in factor and "uri" not in factor, factor
    own = {ENROLMENT_HEADER: enrolment_token(services, client["phone"], factor["id"], http)}
    shown = http.post(f"/client/factors/{factor['id']}/secret", headers=own)
    assert shown.status_code == 200, shown.text
    seed = shown.json()["secret"]
    confirmed = http.post(f"/client/factors/{factor['id']}/confirm", headers=own,
                          json={"code": totp_code(seed, services.clock.now())})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "active", confirmed.text
    return seed


def provider_signed(services, claims: dict) -> str:
    """Any claims as a JWS signed with the biometric simulator's key: what a broken or hostile provider answers."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    key = serialization.load_pem_private_key(services.biometric_simulator.private_key_pem(), password=None)
    header = b64(json.dumps({"alg": "ES256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims, separators=(",", ":")).encode())
    r, s = decode_dss_signature(key.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256())))
    return f"{header}.{payload}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class SigningPage:
    """What the client's signing page does, through the client API with the request's token."""

    def __init__(self, http, services, request: dict) -> None:
        self.http = http
        self.services = services
        self.id = request["id"]
        self.headers = {TOKEN_HEADER: request["token"]}
        self.base = f"/client/signing-requests/{self.id}"

    def get(self):
        return self.http.get(self.base, headers=self.headers)

    def start(self, factor: str):
        return self.http.post(f"{self.base}/factors/{factor}/start", headers=self.headers)

    def code(self, factor: str, code: str):
        return self.http.post(f"{self.base}/codes", headers=self.headers, json={"factor": factor, "code": code})

    def sms(self, number: str):
        started = self.start("sms")
        assert started.status_code == 200, started.text
        return self.code("sms", last_code(self.services, number))

    def totp(self, secret: str):
        from signing.factors import totp_code

        return self.code("totp", totp_code(secret, self.services.clock.now()))

    def biometrics(self, iin: str, **kwargs):
        started = self.start("biometric")
        assert started.status_code == 200, started.text
        challenge = started.json()
        assertion = self.services.biometric_simulator.assertion(
            iin=iin, challenge=challenge["challenge"], movements=challenge["movements"],
            at=self.services.clock.now(), **kwargs)
        return self.http.post(f"{self.base}/assertions", headers=self.headers, json={"assertion": assertion})

    def eds(self, token: Token, *, cms: bool = False):
        """Start the EDS factor and sign what the session hands out with the client's own key.

        ``cms``: the token answers a whole CMS over the document digest (NCALayer's hash signing)
        instead of the raw signature over the signed attributes.
        """
        import base64

        started = self.http.post(f"{self.base}/eds", headers=self.headers, json={"certificate": token.pem})
        if started.status_code != 201:
            return started
        if cms:
            container = token_cms(token.key, token.certificate, base64.b64decode(started.json()["document_digest"]))
            return self.http.post(f"{self.base}/eds/signature", headers=self.headers,
                                  json={"cms": base64.b64encode(container).decode()})
        attributes = base64.b64decode(started.json()["signed_attributes"])
        signature = base64.b64encode(token.key.sign(attributes, "sha256")).decode()
        return self.http.post(f"{self.base}/eds/signature", headers=self.headers, json={"signature": signature})

    def confirm(self):
        return self.http.post(f"{self.base}/confirm", headers=self.headers)
