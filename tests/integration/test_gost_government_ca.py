"""The government-bodies CA on GOST, end to end (issue 7; GOV-3, GOV-5, GOV-6, GOV-7).

``init`` makes the government CA a GOST R 34.10-2015 512-bit key under the
ECDSA root; what it issues, its CRL and its OCSP answers are GOST-signed and
judged by our GOST verifier (the NCA vectors' code path) and
``qoltanba cert verify``. The GOST work is the same on either database, so
these run on SQLite only.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from api import cli
from ca.certcheck import check_certificate
from ca.ocsp import issuer_hashes
from keys import KeyAlgorithm, SoftwareKeyBackend, load_pkcs12
from keys.gost import verify
from keys.x509sign import build_csr
from tests.integration.test_api import batch_application, new_iin, submit
from tests.integration.test_cli import run
from tests.support.pdfs import contract_pdf
from tests.support.tools import require_tool

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
GOST_512_KEY = "1.2.398.3.10.1.1.2.2"
GOST_512_SIGNATURE = "1.2.398.3.10.1.1.2.3.2"
runner = CliRunner()


def parsed(cert: x509.Certificate | bytes) -> asn1_x509.Certificate:
    der = cert if isinstance(cert, bytes) else cert.public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def check_signed_by(signed: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> None:
    verify(issuer.public_key, signed["signature_algorithm"]["algorithm"].dotted, signed["signature_value"].native,
           signed["tbs_certificate"].dump())


@SQLITE_ONLY
def test_gov7_init_makes_the_government_ca_gost_and_the_others_ecdsa(services) -> None:
    """GOV-7: the government CA's key is GOST R 34.10-2015 512 (KZ-5); root and national stay ECDSA."""
    gov, root = (parsed(c) for c in services.hierarchy.chain("government"))
    assert gov.public_key["algorithm"]["algorithm"].dotted == GOST_512_KEY
    assert gov["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"  # the root signs it
    assert root.public_key["algorithm"]["algorithm"].native == "ec"
    national = parsed(services.hierarchy.chain("national")[0])
    assert national.public_key["algorithm"]["algorithm"].native == "ec"
    with services.registry.transaction() as tx:
        assert {r.code: r.key_algorithm for r in tx.centres.all()} == {
            "root": "ec-p256", "national": "ec-p256", "government": "gost2015-512"}
    # The government OCSP responder signs like its centre.
    responder = parsed(services.hierarchy.service_certificate("ocsp-government").der)
    assert responder.public_key["algorithm"]["algorithm"].dotted == GOST_512_KEY
    assert responder["signature_algorithm"]["algorithm"].dotted == GOST_512_SIGNATURE
    check_signed_by(responder, gov)


def _ocsp_request(issuer: x509.Certificate, serial: str) -> bytes:
    name_hash, key_hash = issuer_hashes(issuer)["sha1"]
    return asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": {
        "hash_algorithm": {"algorithm": "sha1"}, "issuer_name_hash": name_hash, "issuer_key_hash": key_hash,
        "serial_number": int(serial, 16)}}]}}).dump()


def _ocsp_status(http, gov_ca: x509.Certificate, serial: str) -> tuple[str, asn1_ocsp.BasicOCSPResponse]:
    response = http.post("/ocsp/government", content=_ocsp_request(gov_ca, serial),
                         headers={"Content-Type": "application/ocsp-request"})
    assert response.status_code == 200
    basic = asn1_ocsp.OCSPResponse.load(response.content, strict=True).basic_ocsp_response
    responder = basic["certs"][0]
    # The responder's certificate is GOST-signed by the government CA, the answer by the responder.
    check_signed_by(responder, parsed(gov_ca))
    assert basic["signature_algorithm"]["algorithm"].dotted == GOST_512_SIGNATURE
    verify(responder.public_key, GOST_512_SIGNATURE, basic["signature"].native, basic["tbs_response_data"].dump())
    single = basic["tbs_response_data"]["responses"][0]
    assert format(single["cert_id"]["serial_number"].native, "x") == serial
    return single["cert_status"].name, basic


@SQLITE_ONLY
def test_gov3_gov5_gov6_government_batch_to_revocation_over_http_with_gost(services, http) -> None:
    """GOV-3 carriers issued under the GOST CA hold GOST 2015-512 keys (GOV-7) whose certificates verify
    under the government CA (ca.certcheck, the path of `qoltanba cert verify`); GOV-5 revocation on a
    letter; GOV-6 the GOST-signed CRL and OCSP tell holders, each signature checked by our GOST verifier."""
    gov_ca = services.hierarchy.chain("government")[0]
    iins = [new_iin("F"), new_iin("M")]
    submitted = submit(http, batch_application(iins, "01-12/GOST"))
    approved = http.post(f"/applications/{submitted['id']}/approve")
    assert approved.status_code == 200, approved.text
    result = approved.json()
    serials = []
    for issued in result["certificates"]:
        iin = re.search(r"IIN(\d{12})", issued["subject"]).group(1)
        key, cert, chain = load_pkcs12(base64.b64decode(issued["pkcs12_base64"]),
                                       result["generated_passwords"][iin].encode())
        assert key.algorithm is KeyAlgorithm.GOST_2015_512
        assert cert.signature_algorithm_oid.dotted_string == GOST_512_SIGNATURE
        assert parsed(cert).public_key["algorithm"]["algorithm"].dotted == GOST_512_KEY
        check_signed_by(parsed(cert), parsed(gov_ca))
        assert chain and chain[0] == gov_ca
        checked = check_certificate(parsed(cert), [parsed(gov_ca)], cert.not_valid_before_utc)
        assert checked.valid, checked.reason
        # The carrier's key is the certificate's: what it signs, the certificate's key verifies.
        verify(parsed(cert).public_key, GOST_512_SIGNATURE, key.sign(b"act", "streebog512"), b"act")
        serials.append(issued["serial"])
    revoked, kept = serials

    assert _ocsp_status(http, gov_ca, revoked)[0] == "good"
    answer = http.post(f"/certificates/{revoked}/revoke", json={"carrier_returned": True, "letter_number": "9/9",
                                                               "reason": "affiliation-changed"})
    assert answer.status_code == 200, answer.text

    published = http.post("/crl/government/publish")
    assert published.status_code == 200, published.text
    crl_der = http.get("/crl/government.crl").content
    crl = asn1_crl.CertificateList.load(crl_der, strict=True)
    assert crl["signature_algorithm"]["algorithm"].dotted == GOST_512_SIGNATURE
    assert crl["tbs_cert_list"]["signature"].dump() == crl["signature_algorithm"].dump()
    verify(parsed(gov_ca).public_key, GOST_512_SIGNATURE, crl["signature"].native, crl["tbs_cert_list"].dump())
    entries = {format(e["user_certificate"].native, "x"): e.crl_reason_value.native
               for e in crl["tbs_cert_list"]["revoked_certificates"]}
    assert entries == {revoked: "affiliation_changed"}
    assert crl.issuer == parsed(gov_ca).subject
    tampered = bytearray(crl_der)
    tampered[-10] ^= 0x01
    with pytest.raises(InvalidSignature):
        bad = asn1_crl.CertificateList.load(bytes(tampered))
        verify(parsed(gov_ca).public_key, GOST_512_SIGNATURE, bad["signature"].native, bad["tbs_cert_list"].dump())

    status, basic = _ocsp_status(http, gov_ca, revoked)
    assert status == "revoked"
    info = basic["tbs_response_data"]["responses"][0]["cert_status"].chosen
    assert info["revocation_reason"].native == "affiliation_changed"
    assert _ocsp_status(http, gov_ca, kept)[0] == "good"


def _cli_verify(*args: object, code: int):
    result = runner.invoke(cli.app, ["cert", "verify", *map(str, args)], catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def test_gov7_cli_issues_a_gost_holder_certificate_that_cert_verify_accepts(tmp_path: Path) -> None:
    """A holder's own GOST key (CSR) certified by the GOST government CA; ``qoltanba cert verify`` exits 0
    against the CA, 1 with one bit flipped."""
    home = tmp_path / "home"
    run(home, "init")
    backend = SoftwareKeyBackend(tmp_path / "holder", b"h" * 32)
    handle = backend.generate(KeyAlgorithm.GOST_2015_256, "holder").handle
    (tmp_path / "req.csr").write_bytes(pem.armor("CERTIFICATE REQUEST", build_csr(
        backend, handle, x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "holder")]))))
    run(home, "cert", "issue", "--profile", "government-employee", "--ca", "government", "--iin", new_iin(),
        "--surname", "ТЕСТОВ", "--given-name", "ТЕСТ", "--bin", "190340000017", "--org", "МИНИСТЕРСТВО ТЕСТА",
        "--csr", str(tmp_path / "req.csr"), "--cert-out", str(tmp_path / "c.pem"))
    chain = [der for _k, _h, der in pem.unarmor(run(home, "ca", "chain", "--ca", "government").stdout.encode(),
                                                 multiple=True)]
    (tmp_path / "government.der").write_bytes(chain[0])
    (tmp_path / "root.pem").write_bytes(pem.armor("CERTIFICATE", chain[-1]))
    cert = parsed(pem.unarmor((tmp_path / "c.pem").read_bytes())[2])
    assert cert["signature_algorithm"]["algorithm"].dotted == GOST_512_SIGNATURE
    assert cert.public_key["algorithm"]["algorithm"].dotted == "1.2.398.3.10.1.1.2.1"  # the holder's 256-bit key
    _cli_verify(tmp_path / "c.pem", "--trust", tmp_path / "government.der", code=0)
    _cli_verify(tmp_path / "c.pem", "--trust", tmp_path / "root.pem", "--chain", tmp_path / "government.der", code=0)
    _cli_verify(tmp_path / "government.der", "--trust", tmp_path / "root.pem", code=0)
    der = bytearray(cert.dump())
    der[-10] ^= 0x01
    (tmp_path / "bad.der").write_bytes(bytes(der))
    result = _cli_verify(tmp_path / "bad.der", "--trust", tmp_path / "government.der", code=1)
    assert "signature" in result.stdout


def test_gov3_gov7_cli_hands_out_a_gost_carrier_that_cert_verify_and_openssl_accept(tmp_path: Path) -> None:
    """GOV-3: ``qoltanba cert issue --ca government --p12-out`` generates the holder's key onto a PKCS#12
    carrier; GOV-7/KZ-5: the key is GOST R 34.10-2015 512 like the centre's, it signs what its certificate
    verifies, and ``qoltanba cert verify`` accepts the certificate under the government CA (exit 0) and
    under the root with the CA as chain. OpenSSL checks the carrier's MAC and lists its certificates (it
    has no GOST key type, so -nokeys). The holder then signs a PDF with the carrier (``qoltanba sign``) and
    ``qoltanba verify`` calls it TOTAL-PASSED."""
    home = tmp_path / "home"
    run(home, "init")
    (tmp_path / "pw").write_text("carrier-password-1\n")
    p12 = tmp_path / "holder.p12"
    run(home, "cert", "issue", "--profile", "government-employee", "--ca", "government", "--iin", new_iin(),
        "--surname", "ТЕСТОВ", "--given-name", "ТЕСТ", "--bin", "190340000017", "--org", "МИНИСТЕРСТВО ТЕСТА",
        "--p12-out", str(p12), "--password-file", str(tmp_path / "pw"))
    key, cert, chain = load_pkcs12(p12.read_bytes(), b"carrier-password-1")
    assert key.algorithm is KeyAlgorithm.GOST_2015_512
    holder = parsed(cert)
    assert holder.public_key["algorithm"]["algorithm"].dotted == GOST_512_KEY
    assert holder["signature_algorithm"]["algorithm"].dotted == GOST_512_SIGNATURE
    verify(holder.public_key, GOST_512_SIGNATURE, key.sign(b"order 1", "streebog512"), b"order 1")
    with pytest.raises(InvalidSignature):
        verify(holder.public_key, GOST_512_SIGNATURE, key.sign(b"order 1", "streebog512"), b"order 2")

    government, root = chain
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "government.der").write_bytes(government.public_bytes(serialization.Encoding.DER))
    (tmp_path / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    _cli_verify(tmp_path / "c.pem", "--trust", tmp_path / "government.der", code=0)
    _cli_verify(tmp_path / "c.pem", "--trust", tmp_path / "root.pem", "--chain", tmp_path / "government.der", code=0)
    # The national CA did not issue it: the same command refuses it there.
    national = pem.unarmor(run(home, "ca", "chain", "--ca", "national").stdout.encode(), multiple=True)
    (tmp_path / "national.der").write_bytes(next(national)[2])
    _cli_verify(tmp_path / "c.pem", "--trust", tmp_path / "national.der", code=1)

    openssl = require_tool("openssl")
    listed = subprocess.run([openssl, "pkcs12", "-in", str(p12), "-nokeys", "-passin", "pass:carrier-password-1"],
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert x509.load_pem_x509_certificates(listed.stdout.encode()) == [cert, government, root]

    # The holder signs with the carrier as handed out: `qoltanba sign` (B-LT, GOST) and `qoltanba verify`.
    (tmp_path / "c.pdf").write_bytes(contract_pdf(pages=1))
    signed = run(home, "sign", str(tmp_path / "c.pdf"), str(tmp_path / "s.pdf"), "--p12", str(p12),
                 "--password-file", str(tmp_path / "pw"))
    assert json.loads(signed.stdout)["serial"] == format(cert.serial_number, "x")
    report = run(home, "verify", str(tmp_path / "s.pdf"))
    assert report.stdout.startswith("TOTAL-PASSED") and "ТЕСТОВ ТЕСТ" in report.stdout
