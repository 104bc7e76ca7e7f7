"""The whole hierarchy on a PKCS#11 token (a throwaway SoftHSM2 token).

``init`` generates the three CA keys and the service keys on the token, and
every certificate is signed there: the product's PKCS#11 signing path
(keys/x509sign.py assembles the certificate around the token's signature) is
judged by cryptography, OpenSSL and pkilint. The CA private keys must be
sensitive and never extractable.

Runs once with EC P-256 and once with RSA-2048 CA keys, each on its own token
(the key labels ``ca-root`` etc. are fixed, so two hierarchies cannot share a
token). SQLite only: the database plays no part in what is tested here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, ObjectClass
from pkcs11 import exceptions as p11e

from ca.hierarchy import SERVICE_HOLDERS
from ca.issuance import IssuedCertificate, IssueRequest, KeySource
from ca.identity import make_test_iin
from ca.subject import SubjectData
from tests.support.judges import blocking, format_findings, openssl_verify, pkilint_findings
from tests.support.softhsm import SoftHSMToken, softhsm_token

CENTRE_CODES = ("root", "national", "government")


@dataclass
class Hierarchy:
    token: SoftHSMToken
    services: object  # api.wiring.Services
    issued: IssuedCertificate


@pytest.fixture(scope="module", params=["ec-p256", "rsa-2048"])
def hierarchy(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hierarchy]:
    from api.wiring import Services
    from api.settings import Settings

    token = softhsm_token(tmp_path_factory.mktemp("hsm"))
    home = tmp_path_factory.mktemp("home")
    pin_file = home / "pin"
    pin_file.write_text(token.pin + "\n")
    pin_file.chmod(0o600)
    settings = Settings(
        home=home / "qoltanba",
        database_url=f"sqlite:///{home / 'registry.db'}",
        key_backend="pkcs11",
        pkcs11_module=token.module_path,
        pkcs11_token_label=token.label,
        pkcs11_pin_file=pin_file,
        ca_algorithm=request.param,
    )
    services = Services.build(settings)
    services.migrate()
    assert services.bootstrap.initialise() is True

    holder_key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "holder")]))
           .sign(holder_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    issued = services.issuance.issue(IssueRequest(
        centre="national", profile="individual-sign",
        subject=SubjectData(surname="Тестов", given_name="Тест", patronymic="Тестович",
                            iin=make_test_iin(dt.date(1985, 3, 14), "M", 1), email="testov@example.kz"),
        key=KeySource(csr=csr), actor="test"))
    try:
        yield Hierarchy(token, services, issued)
    finally:
        backend = services.__dict__.get("backend")
        if backend is not None:
            backend.close()
        services.close()


def _centres(services) -> dict:
    with services.registry.transaction() as tx:
        return {row.code: row for row in tx.centres.all()}


def test_ca_keys_live_on_the_token(hierarchy: Hierarchy) -> None:
    services = hierarchy.services
    rows = _centres(services)
    assert set(rows) == set(CENTRE_CODES)
    for code, row in rows.items():
        assert row.key_handle.startswith("pkcs11:"), (code, row.key_handle)
        assert row.key_algorithm == services.settings.ca_algorithm.value
        # The certificate in the registry certifies the token's key.
        cert = x509.load_der_x509_certificate(row.certificate_der)
        assert cert.public_key() == services.backend.public_key(row.key_handle)
    # The service keys (OCSP responders, TSA, MFO seal) are on the token too.
    for name in SERVICE_HOLDERS:
        row = services.hierarchy.service_certificate(name)
        assert row.key_handle and row.key_handle.startswith("pkcs11:"), (name, row.key_handle)


def test_root5_root_signed_the_centres(hierarchy: Hierarchy) -> None:
    """ROOT-5: the national and government CA certificates carry the root CA's signature."""
    rows = _centres(hierarchy.services)
    root = x509.load_der_x509_certificate(rows["root"].certificate_der)
    root.verify_directly_issued_by(root)
    for code in ("national", "government"):
        cert = x509.load_der_x509_certificate(rows[code].certificate_der)
        assert rows[code].parent_id == rows["root"].id
        cert.verify_directly_issued_by(root)
        assert hierarchy.services.hierarchy.chain(code) == [cert, root]


def test_issued_certificate_verifies(hierarchy: Hierarchy, tmp_path) -> None:
    services = hierarchy.services
    cert = hierarchy.issued.certificate
    national = services.hierarchy.chain("national")[0]
    cert.verify_directly_issued_by(national)
    # A certificate from another centre's key would not verify.
    with pytest.raises(Exception):
        cert.verify_directly_issued_by(services.hierarchy.chain("government")[0])
    if services.settings.ca_algorithm.is_rsa:
        assert isinstance(national.public_key(), rsa.RSAPublicKey)
    else:
        assert isinstance(national.public_key(), ec.EllipticCurvePublicKey)
    ok, output = openssl_verify(hierarchy.issued.pem, services.hierarchy.chain("national"), tmp_path,
                                purpose="smimesign")
    assert ok, output


@pytest.mark.parametrize("what", ["issued", "root", "national", "government"])
def test_token_signed_certificates_pass_pkilint(hierarchy: Hierarchy, tmp_path, what: str) -> None:
    """The certificates assembled around the token's signature are well-formed DER (RFC 5280)."""
    if what == "issued":
        der = hierarchy.issued.certificate.public_bytes(serialization.Encoding.DER)
    else:
        der = _centres(hierarchy.services)[what].certificate_der
    findings = pkilint_findings(der, tmp_path)
    assert not blocking(findings), format_findings(findings)


def test_ca_private_keys_are_not_extractable(hierarchy: Hierarchy) -> None:
    services = hierarchy.services
    module_path, token_label, _pin = hierarchy.token
    rows = _centres(services)
    # Make sure the backend holds its (process-wide) login, then look at the
    # token from a second, PIN-less session as another program would: closing
    # a session that logged in itself would log the whole process out.
    for row in rows.values():
        services.backend.public_key(row.key_handle)
    session = pkcs11.lib(module_path).get_token(token_label=token_label).open()
    try:
        for code, row in rows.items():
            label = row.key_handle.removeprefix("pkcs11:")
            private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
            assert private[Attribute.TOKEN] is True, code
            assert private[Attribute.PRIVATE] is True, code
            assert private[Attribute.SENSITIVE] is True, code
            assert private[Attribute.ALWAYS_SENSITIVE] is True, code
            assert private[Attribute.EXTRACTABLE] is False, code
            assert private[Attribute.NEVER_EXTRACTABLE] is True, code
            secret = Attribute.PRIVATE_EXPONENT if services.settings.ca_algorithm.is_rsa else Attribute.VALUE
            with pytest.raises(p11e.AttributeSensitive):
                private[secret]
    finally:
        session.close()


def test_gov3_government_ca_writes_holder_keys_to_a_token(tmp_path) -> None:
    """GOV-3: the operator generates each holder's key on a key carrier that is a
    PKCS#11 token; the certificate binds the token's key and the journal names the carrier."""
    from api.wiring import Services
    from api.settings import Settings
    from keys import PKCS11KeyBackend
    from tests.support import factories as f

    token = softhsm_token(tmp_path / "carrier")
    carrier = PKCS11KeyBackend(token.module_path, token.label, token.pin)
    svc = Services.build(Settings(home=tmp_path / "home", master_key="33" * 32))
    svc.migrate()
    svc.bootstrap.initialise()
    person = f.iin()
    view = svc.applications.submit("government-batch", f.government_form([person], "TOKEN-1"),
                                   f.government_attachments([person]), None, "registrar")
    approval = svc.applications.approve(view.id, "operator", token=carrier)
    issued = approval.certificates[0]
    assert issued.pkcs12 is None and issued.carrier_serial.startswith("pkcs11:")
    assert carrier.public_key(issued.carrier_serial) == issued.certificate.public_key()
    assert issued.carrier_serial in svc.catalogue.journal_csv("government")
    svc.close()


def test_readiness_reads_the_service_keys_from_the_token(hierarchy: Hierarchy) -> None:
    """Issue 17: /readyz's ``keys`` check on PKCS#11: the TSA's and the OCSP responders' keys, read from the token."""
    services = hierarchy.services
    services.publisher.reconcile()
    services.readiness.cache_seconds = 0
    report = services.readiness.report()
    keys = next(c for c in report.checks if c.name == "keys")
    assert keys.ok, keys.detail
    assert keys.seen["keys"] == {"tsa": "answers", "ocsp-root": "answers", "ocsp-national": "answers",
                                 "ocsp-government": "answers"}
    assert report.ready, [c.detail for c in report.failed]


def test_a_key_the_token_lost_is_a_503_problem_never_a_500(tmp_path) -> None:
    """Issue 17: a key-backend failure under a request (here the national CA's key destroyed on the token by
    someone else) answers 503 problem+json with Retry-After, not 500, and issues nothing."""
    from fastapi.testclient import TestClient

    from api.http.app import create_app
    from api.settings import Settings
    from api.wiring import Services
    from ca.access import AccessService

    token = softhsm_token(tmp_path / "hsm")
    pin_file = tmp_path / "pin"
    pin_file.write_text(token.pin + "\n")
    services = Services.build(Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'r.db'}",
                                       key_backend="pkcs11", pkcs11_module=token.module_path,
                                       pkcs11_token_label=token.label, pkcs11_pin_file=pin_file))
    try:
        services.migrate()
        services.bootstrap.initialise()
        admin = {"X-API-Key": AccessService(services.registry, services.clock).create_key(
            "lost-key-admin", "administrator", by="test").key}
        label = _centres(services)["national"].key_handle.removeprefix("pkcs11:")
        with pkcs11.lib(token.module_path).get_token(token_label=token.label).open(rw=True) as session:
            for key in session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: label}):
                key.destroy()
        http = TestClient(create_app(services=services), raise_server_exceptions=False)
        body = {"profile": "individual-sign", "csr_pem": (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "holder")]))
            .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
            .decode()), "subject": {"surname": "Тестов", "given_name": "Тест",
                                    "iin": make_test_iin(dt.date(1985, 3, 14), "M", 2)}}
        before = len(http.get("/certificates", headers=admin, params={"limit": 1000}).json())
        answer = http.post("/certificates", headers=admin, json=body)
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json" and answer.headers["retry-after"]
        assert answer.json()["code"] == "unavailable"
        assert len(http.get("/certificates", headers=admin, params={"limit": 1000}).json()) == before
    finally:
        services.close()
