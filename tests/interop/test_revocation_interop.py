"""Revocation as independent clients see it, against a real server with two worker processes.

openssl (ocsp, crl, verify), pkilint and pyhanko-certvalidator fetch live
from the server over loopback; the revocation itself is made by the
``qoltanba`` command line, a third process.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from tests.support import factories as f
from tests.support.judges import pkilint_crl_findings, pkilint_ocsp_findings
from tests.support.server import Home, fetch, prepare_home, running_server
from tests.support.tools import require_tool

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> tuple[Home, Path]:
    require_tool("openssl")
    home = prepare_home(tmp_path_factory.mktemp("live") / "home")
    with running_server(home, workers=2):
        yield home, home.path.parent


def _pem(path: Path, *certs: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return path


def _issue(home: Home, work: Path, name: str) -> tuple[x509.Certificate, Path]:
    from api.wiring import Services

    services = Services.build(home.settings())
    try:
        cert = f.issue_person(services).certificate
    finally:
        services.close()
    return cert, _pem(work / f"{name}.pem", cert)


def _chain(home: Home, work: Path) -> tuple[Path, Path, Path]:
    root = x509.load_der_x509_certificate(fetch(home.url + "/ca/root.cer"))
    national = x509.load_der_x509_certificate(fetch(home.url + "/ca/national.cer"))
    return _pem(work / "root.pem", root), _pem(work / "national.pem", national), _pem(work / "chain.pem", national, root)


def _openssl_ocsp(home: Home, work: Path, leaf: Path, *extra: str) -> str:
    _, national, chain = _chain(home, work)
    result = subprocess.run(["openssl", "ocsp", "-issuer", str(national), "-cert", str(leaf),
                             "-url", home.url + "/ocsp/national", "-CAfile", str(chain), *extra],
                            capture_output=True, text=True, timeout=30)
    return result.stdout + result.stderr


def test_openssl_ocsp_good_then_revoked_within_one_second_of_the_cli(live):
    """The must-show: `openssl ocsp` says good, then revoked after `qoltanba cert revoke`, within one second."""
    home, work = live
    cert, leaf = _issue(home, work, "leaf-ocsp")
    before = _openssl_ocsp(home, work, leaf)
    assert "Response verify OK" in before and f"{leaf}: good" in before
    national = x509.load_der_x509_certificate(fetch(home.url + "/ca/national.cer"))
    get_path = home.url + "/ocsp/national/" + base64.urlsafe_b64encode(
        ocsp.OCSPRequestBuilder().add_certificate(cert, national, hashes.SHA1()).build().public_bytes(
            serialization.Encoding.DER)).decode()
    for _ in range(10):   # both workers cache the GET answer on their fast path
        assert ocsp.load_der_ocsp_response(fetch(get_path)).certificate_status == ocsp.OCSPCertStatus.GOOD
    home.cli("cert", "revoke", "--serial", format(cert.serial_number, "x"), "--reason", "key-compromise")
    revoked_at = time.monotonic()
    seen = None
    while time.monotonic() - revoked_at < 1.0:
        answer = _openssl_ocsp(home, work, leaf, "-no_nonce")
        if ": revoked" in answer:
            seen = time.monotonic() - revoked_at
            break
    assert seen is not None, "no worker answered revoked within one second"
    time.sleep(max(0.0, 1.0 - (time.monotonic() - revoked_at)))
    for _ in range(10):
        answer_get = ocsp.load_der_ocsp_response(fetch(get_path))
        assert answer_get.certificate_status == ocsp.OCSPCertStatus.REVOKED, national
    # Every worker process answers revoked from then on (nonce-less: the pre-signed cache path).
    for _ in range(8):
        answer = _openssl_ocsp(home, work, leaf, "-no_nonce")
        assert ": revoked" in answer and "Reason: keyCompromise" in answer, answer


def test_openssl_accepts_the_crls_and_rejects_the_revoked_certificate(live):
    home, work = live
    revoked, revoked_pem = _issue(home, work, "leaf-crl-revoked")
    good, good_pem = _issue(home, work, "leaf-crl-good")
    home.cli("cert", "revoke", "--serial", format(revoked.serial_number, "x"), "--reason", "superseded")
    root, national, chain = _chain(home, work)
    for name in ("national.crl", "national-delta.crl", "root.crl", "root-delta.crl"):
        path = work / name
        path.write_bytes(fetch(f"{home.url}/crl/{name}"))
        out = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", str(path), "-CAfile", str(chain), "-noout"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0 and "verify OK" in out.stderr + out.stdout, (name, out.stderr)
    crl_pem = work / "national-crl.pem"
    crl_pem.write_bytes(x509.load_der_x509_crl((work / "national.crl").read_bytes()).public_bytes(
        serialization.Encoding.PEM))
    verify = ["openssl", "verify", "-crl_check", "-CAfile", str(chain), "-CRLfile", str(crl_pem)]
    bad = subprocess.run([*verify, str(revoked_pem)], capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "certificate revoked" in bad.stdout + bad.stderr
    ok = subprocess.run([*verify, str(good_pem)], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_pkilint_finds_no_error_in_crls_and_ocsp_responses(live, tmp_path):
    home, work = live
    cert, leaf = _issue(home, work, "leaf-lint")
    good = _openssl_ocsp(home, work, leaf, "-respout", str(tmp_path / "good.der"))
    assert ": good" in good
    home.cli("cert", "revoke", "--serial", format(cert.serial_number, "x"), "--reason", "affiliation-changed")
    time.sleep(0.5)
    assert ": revoked" in _openssl_ocsp(home, work, leaf, "-respout", str(tmp_path / "revoked.der"))
    for kind, name in (("CRL", "national.crl"), ("DELTA_CRL", "national-delta.crl"), ("CRL", "root.crl")):
        findings = pkilint_crl_findings(fetch(f"{home.url}/crl/{name}"), kind, tmp_path)
        assert not [x for x in findings if x.severity in ("ERROR", "FATAL")], (name, findings)
    for name in ("good.der", "revoked.der"):
        findings = pkilint_ocsp_findings((tmp_path / name).read_bytes(), tmp_path)
        assert not [x for x in findings if x.severity in ("ERROR", "FATAL")], (name, findings)


def test_pyhanko_certvalidator_fetching_live_rejects_the_revoked_certificate(live):
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import RevokedError
    from asn1crypto import x509 as asn1_x509

    home, work = live
    revoked, _ = _issue(home, work, "leaf-pyhanko-revoked")
    good, _ = _issue(home, work, "leaf-pyhanko-good")
    home.cli("cert", "revoke", "--serial", format(revoked.serial_number, "x"), "--reason", "key-compromise")
    time.sleep(0.5)
    root = asn1_x509.Certificate.load(fetch(home.url + "/ca/root.cer"))
    national = asn1_x509.Certificate.load(fetch(home.url + "/ca/national.cer"))

    def validator(cert: x509.Certificate, mode: str) -> CertificateValidator:
        context = ValidationContext(trust_roots=[root], other_certs=[national], allow_fetching=True,
                                    revocation_mode=mode)
        return CertificateValidator(asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
                                    validation_context=context)

    for mode in ("require", "hard-fail"):
        with pytest.raises(RevokedError):
            asyncio.run(validator(revoked, mode).async_validate_usage({"digital_signature"}))
        asyncio.run(validator(good, mode).async_validate_usage({"digital_signature"}))


def test_root6_revoking_a_ca_certificate_fails_everything_below_it(tmp_path):
    """ROOT-6: the root revokes the national CA's certificate; openssl then refuses its holders' certificates."""
    require_tool("openssl")
    from api.wiring import Services

    home = prepare_home(tmp_path / "home")
    services = Services.build(home.settings())
    try:
        leaf = f.issue_person(services).certificate
        root, national = (services.hierarchy.issuing_ca(c).certificate for c in ("root", "national"))
        chain = _pem(tmp_path / "chain.pem", national, root)
        leaf_pem = _pem(tmp_path / "leaf.pem", leaf)

        def verify() -> subprocess.CompletedProcess:
            crls = b"".join(x509.load_der_x509_crl(services.publisher.latest(c, "full").der).public_bytes(
                serialization.Encoding.PEM) for c in ("root", "national"))
            (tmp_path / "crls.pem").write_bytes(crls)
            return subprocess.run(["openssl", "verify", "-crl_check_all", "-CAfile", str(chain), "-CRLfile",
                                   str(tmp_path / "crls.pem"), str(leaf_pem)], capture_output=True, text=True)

        assert verify().returncode == 0
        # A CA certificate: asked by one administrator, carried out when a second approves (issue 8).
        asked = services.dual_control.request("ca-certificate.revoke", {"serial": format(national.serial_number, "x"),
                                                                        "ground": "ca-liquidation"},
                                              "admin", administrator=True)
        services.dual_control.approve(asked.id, "second-admin", administrator=True)
        result = verify()
        assert result.returncode != 0 and "certificate revoked" in result.stdout + result.stderr
    finally:
        services.close()
