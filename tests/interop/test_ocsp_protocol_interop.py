"""The OCSP protocol layer judged by tools we did not write: OpenSSL and pkilint.

OpenSSL writes the requests (with and without a nonce, SHA-1 and SHA-256
CertIDs) that ``parse_request`` must read, and checks the responses we sign:
signature and delegated-responder chain ("Response verify OK"), the nonce
against its own request, and the status it reads for the leaf. pkilint's RFC
6960 linter must find no ERROR or FATAL in good, revoked and unknown answers.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from keys import KeySigner
from ca.ocsp import ParsedRequest, issuer_hashes, parse_request
from ca.ocsp_response import ResponseSigner, SingleStatus, error_response
from tests.support.judges import BLOCKING, Finding, format_findings
from tests.support.tools import require_tool, skip_or_fail
from tests.unit.test_ocsp_protocol import PKI

pytestmark = pytest.mark.interop

_TIMEOUT = 120
STATUSES = ("good", "revoked", "unknown")


@pytest.fixture(scope="module")
def now() -> dt.datetime:
    # OpenSSL checks thisUpdate/nextUpdate and the responder certificate against the real clock.
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory, now: dt.datetime) -> PKI:
    return PKI(tmp_path_factory.mktemp("ocsp-interop-keys"), now)


@pytest.fixture(scope="module")
def files(pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ocsp-interop")
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(pki.ca.public_bytes(pem))
    (directory / "leaf.pem").write_bytes(pki.leaf.public_bytes(pem))
    return directory


def _openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("openssl"), "ocsp", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=_TIMEOUT)


def _openssl_request(files: Path, *options: str) -> tuple[Path, ParsedRequest]:
    name = "req" + "".join(o.replace("-", "_") for o in options) + ".der"
    # OpenSSL takes the CertID digest only before -cert.
    proc = _openssl(*options, "-issuer", "ca.pem", "-cert", "leaf.pem", "-reqout", name, cwd=files)
    assert proc.returncode == 0, proc.stderr
    return files / name, parse_request((files / name).read_bytes())


def _status(parsed: ParsedRequest, status: str, now: dt.datetime) -> SingleStatus:
    if status == "revoked":
        return SingleStatus(parsed.cert_ids[0], status, revoked_at=now - dt.timedelta(hours=1), reason_code=1)
    return SingleStatus(parsed.cert_ids[0], status)


def _respond(pki: PKI, parsed: ParsedRequest, status: str, now: dt.datetime,
             signer: ResponseSigner | None = None) -> bytes:
    return (signer or pki.signer()).sign([_status(parsed, status, now)], produced_at=now,
                                         this_update=now, next_update=now + dt.timedelta(days=1),
                                         nonce=parsed.nonce)


# --- requests OpenSSL writes --------------------------------------------------------


@pytest.mark.parametrize("options", [(), ("-no_nonce",), ("-sha256",), ("-sha256", "-no_nonce")])
def test_parses_requests_openssl_writes(pki: PKI, files: Path, options: tuple[str, ...]) -> None:
    hash_name = "sha256" if "-sha256" in options else "sha1"
    _, parsed = _openssl_request(files, *options)
    (cert_id,) = parsed.cert_ids
    assert cert_id.hash_algorithm == hash_name
    assert (cert_id.issuer_name_hash, cert_id.issuer_key_hash) == issuer_hashes(pki.ca)[hash_name]
    assert cert_id.serial == pki.leaf.serial_number
    if "-no_nonce" in options:
        assert parsed.nonce is None
    else:
        # OpenSSL's default nonce: 16 random octets in the Nonce OCTET STRING.
        assert parsed.nonce is not None and parsed.nonce[:2] == b"\x04\x10" and len(parsed.nonce) == 18


# --- responses OpenSSL checks -----------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_openssl_verifies_response_and_nonce(pki: PKI, files: Path, now: dt.datetime, status: str) -> None:
    request, parsed = _openssl_request(files)
    (files / f"resp-{status}.der").write_bytes(_respond(pki, parsed, status, now))
    # With -reqin OpenSSL checks the echoed nonce against the request it wrote.
    proc = _openssl("-reqin", request.name, "-respin", f"resp-{status}.der", "-CAfile", "ca.pem",
                    "-resp_text", cwd=files)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Response verify OK" in output, output
    assert "Nonce Verify error" not in output and "no nonce" not in output, output
    assert f"Cert Status: {status}" in output, output
    if status == "revoked":
        assert "Revocation Reason: keyCompromise" in output, output


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("hash_option", ["-sha1", "-sha256"])
def test_openssl_reads_the_status_of_the_leaf(pki: PKI, files: Path, now: dt.datetime,
                                               status: str, hash_option: str) -> None:
    _, parsed = _openssl_request(files, hash_option, "-no_nonce")
    name = f"resp-{status}{hash_option}.der"
    (files / name).write_bytes(_respond(pki, parsed, status, now))
    proc = _openssl("-respin", name, hash_option, "-issuer", "ca.pem", "-cert", "leaf.pem",
                    "-CAfile", "ca.pem", "-no_nonce", cwd=files)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Response verify OK" in output, output
    assert f"leaf.pem: {status}" in output, output


def test_openssl_notices_a_wrong_nonce(pki: PKI, files: Path, now: dt.datetime) -> None:
    # The control for the nonce test above: OpenSSL does compare nonces.
    request, parsed = _openssl_request(files)
    other = ParsedRequest(parsed.cert_ids, b"\x04\x10" + bytes(16))
    (files / "resp-wrong-nonce.der").write_bytes(_respond(pki, other, "good", now))
    proc = _openssl("-reqin", request.name, "-respin", "resp-wrong-nonce.der", "-CAfile", "ca.pem",
                    cwd=files)
    assert "Nonce Verify error" in proc.stdout + proc.stderr


def test_openssl_verifies_a_response_the_ca_signs_itself(pki: PKI, files: Path, now: dt.datetime) -> None:
    _, parsed = _openssl_request(files, "-no_nonce")
    signer = ResponseSigner(KeySigner(pki.backend, pki.ca_handle), pki.ca)
    (files / "resp-by-ca.der").write_bytes(_respond(pki, parsed, "good", now, signer))
    proc = _openssl("-respin", "resp-by-ca.der", "-issuer", "ca.pem", "-cert", "leaf.pem",
                    "-CAfile", "ca.pem", "-no_nonce", cwd=files)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Response verify OK" in output and "leaf.pem: good" in output, output


@pytest.mark.parametrize("status", ["malformedRequest", "internalError", "tryLater", "sigRequired",
                                    "unauthorized"])
def test_openssl_reads_error_responses(files: Path, status: str) -> None:
    (files / f"err-{status}.der").write_bytes(error_response(status))
    proc = _openssl("-respin", f"err-{status}.der", "-resp_text", "-noverify", cwd=files)
    assert f"responder error: {status.lower()}" in (proc.stdout + proc.stderr).lower()


# --- pkilint ----------------------------------------------------------------------------


def _lint_ocsp_findings(der: bytes, path: Path) -> list[Finding]:
    """Every finding of pkilint's RFC 6960 linter (``lint_ocsp_response``)."""
    exe = Path(sys.executable).parent / "lint_ocsp_response"
    if not exe.is_file():
        skip_or_fail(f"pkilint is not installed in this environment ({exe} missing)")
    path.write_bytes(der)
    proc = subprocess.run([str(exe), "lint", "--format", "JSON", "--severity", "ALL",
                           "--document-format", "DER", str(path)],
                          capture_output=True, text=True, timeout=_TIMEOUT)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"pkilint produced no report ({proc.returncode}):\n{proc.stdout}{proc.stderr}") from None
    return [Finding(d.get("severity", "?"), r.get("validator", "?"),
                    f"{d.get('code', '?')} {d.get('message') or ''} @ {r.get('node_path', '?')}")
            for r in report.get("results", ()) for d in r.get("finding_descriptions", ())]


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("with_nonce", [True, False])
def test_pkilint_finds_no_error_in_responses(pki: PKI, files: Path, now: dt.datetime,
                                             status: str, with_nonce: bool) -> None:
    _, parsed = _openssl_request(files, *(() if with_nonce else ("-no_nonce",)))
    findings = _lint_ocsp_findings(_respond(pki, parsed, status, now),
                                   files / f"lint-{status}-{with_nonce}.der")
    assert not [f for f in findings if f.severity in BLOCKING], format_findings(findings)
