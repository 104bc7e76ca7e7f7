"""External judges of the certificates we issue: pkilint and OpenSSL.

OpenSSL has no GOST: chains with a GOST key or signature (the government
CA, issue 7) are verified by our GOST verifier instead (``gost_verify``),
the code path that verifies the NCA RK's real GOST certificates; pkilint
still lints their structure.

The product never grades its own homework: these helpers run independent
tools on the certificates and return what they say, for the tests to assert
on. Missing tools skip the test (or fail it under CI, see tools.py).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support.tools import require_tool, skip_or_fail

# pkilint's severities, weakest first (pkilint.validation.ValidationFindingSeverity).
SEVERITIES = ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "FATAL")
BLOCKING = frozenset({"ERROR", "FATAL"})

_TIMEOUT = 120


class Finding(NamedTuple):
    """One pkilint finding: severity, the validator that raised it, and what it says.

    ``message`` is the finding code, pkilint's message if it has one, and the
    node path, e.g. ``pkix.foo (bar) @ certificate.tbsCertificate.extensions.1``.
    """

    severity: str
    validator: str
    message: str

    def __str__(self) -> str:
        return f"({self.severity}) {self.validator}: {self.message}"


def _pem(data: bytes) -> bytes:
    """PEM text of a certificate given as PEM or DER."""
    if data.lstrip().startswith(b"-----BEGIN"):
        return data
    return x509.load_der_x509_certificate(data).public_bytes(serialization.Encoding.PEM)


def _der(data: bytes) -> bytes:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
    return data


def _fresh_file(tmp_dir: Path, suffix: str, content: bytes) -> Path:
    tmp_dir = Path(tmp_dir)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="judge-", suffix=suffix, dir=tmp_dir)
    with open(fd, "wb") as fh:
        fh.write(content)
    return Path(name)


# --- pkilint -----------------------------------------------------------------


def pkilint_executable(name: str = "lint_pkix_cert") -> Path:
    """A pkilint command (``lint_pkix_cert``, ``lint_crl``, ``lint_ocsp_response``) of this venv."""
    exe = Path(sys.executable).parent / name
    if not exe.is_file():
        skip_or_fail(f"pkilint is not installed in this environment ({exe} missing)")
    return exe


def pkilint_findings(der_or_pem: bytes, tmp_dir: Path) -> list[Finding]:
    """Every finding (all severities) of ``lint_pkix_cert lint`` on the certificate.

    pkilint's exit code is the number of findings at or above the threshold,
    so it says nothing about success; a load failure is told apart by the
    absence of a JSON report. Raises AssertionError if pkilint cannot run.
    """
    return _pkilint("lint_pkix_cert", (), _fresh_file(tmp_dir, ".der", _der(der_or_pem)))


def pkilint_crl_findings(der: bytes, kind: str, tmp_dir: Path) -> list[Finding]:
    """``lint_crl`` against the PKIX profile; a delta CRL is linted as a CRL (pkilint tells them apart)."""
    crl_type = "ARL" if kind == "ARL" else "CRL"
    return _pkilint("lint_crl", ("-t", crl_type, "-p", "PKIX"), _fresh_file(tmp_dir, ".crl", der))


def pkilint_ocsp_findings(der: bytes, tmp_dir: Path) -> list[Finding]:
    return _pkilint("lint_ocsp_response", (), _fresh_file(tmp_dir, ".der", der))


def _pkilint(command: str, options: Sequence[str], path: Path) -> list[Finding]:
    proc = subprocess.run(
        [str(pkilint_executable(command)), "lint", *options, "--format", "JSON", "--severity", "ALL",
         "--document-format", "DER", str(path)],
        capture_output=True, text=True, timeout=_TIMEOUT,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(
            f"pkilint produced no report (exit code {proc.returncode}):\n{proc.stdout}{proc.stderr}"
        ) from None
    findings: list[Finding] = []
    for result in report.get("results", ()):
        for description in result.get("finding_descriptions", ()):
            text = description.get("code", "?")
            if description.get("message"):
                text += f" ({description['message']})"
            text += f" @ {result.get('node_path', '?')}"
            findings.append(Finding(description.get("severity", "?"), result.get("validator", "?"), text))
    return findings


def blocking(findings: Sequence[Finding]) -> list[Finding]:
    """The ERROR and FATAL findings."""
    return [f for f in findings if f.severity in BLOCKING]


def format_findings(findings: Sequence[Finding]) -> str:
    return "\n".join(str(f) for f in findings) or "(no findings)"


# --- OpenSSL -----------------------------------------------------------------


def openssl_verify(cert_pem: bytes, chain: Sequence[x509.Certificate], tmp_dir: Path,
                   at: dt.datetime | None = None, *, purpose: str | None = None,
                   strict: bool = True) -> tuple[bool, str]:
    """Run ``openssl verify`` on a certificate against ``chain``.

    ``chain`` is as ``Hierarchy.chain`` gives it: issuing CA
    first, root last. The root is the only trust anchor (``-CAfile``), the
    others are ``-untrusted`` intermediates. ``at`` sets ``-attime``;
    ``purpose`` adds ``-purpose`` (e.g. ``smimesign``, ``sslclient``);
    ``strict`` adds ``-x509_strict``. Returns (accepted, OpenSSL's output).
    """
    openssl = require_tool("openssl")
    if not chain:
        raise ValueError("the chain needs at least the root certificate")
    pem = serialization.Encoding.PEM
    root = _fresh_file(tmp_dir, "-root.pem", chain[-1].public_bytes(pem))
    target = _fresh_file(tmp_dir, "-cert.pem", _pem(cert_pem))
    argv = [openssl, "verify", "-CAfile", str(root)]
    if len(chain) > 1:
        untrusted = _fresh_file(tmp_dir, "-untrusted.pem", b"".join(c.public_bytes(pem) for c in chain[:-1]))
        argv += ["-untrusted", str(untrusted)]
    if strict:
        argv.append("-x509_strict")
    if purpose:
        argv += ["-purpose", purpose]
    if at is not None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.timezone.utc)
        argv += ["-attime", str(int(at.timestamp()))]
    argv.append(str(target))
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT)
    output = (proc.stdout + proc.stderr).strip()
    ok = proc.returncode == 0 and output.endswith(": OK")
    return ok, f"$ {' '.join(argv)}\n{output}"


def openssl_text(pem: bytes) -> str:
    """``openssl x509 -noout -text`` of a certificate (PEM or DER)."""
    openssl = require_tool("openssl")
    proc = subprocess.run([openssl, "x509", "-noout", "-text"], input=_pem(pem),
                          capture_output=True, timeout=_TIMEOUT)
    if proc.returncode != 0:
        raise AssertionError(f"openssl x509 -text failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode("utf-8", errors="replace")


# --- GOST: our verifier where OpenSSL has no GOST ---------------------------------

# What ``openssl verify -purpose`` checks, as extended key usages for pyhanko-certvalidator.
_PURPOSE_EKUS = {
    "smimesign": {"email_protection"},
    "sslclient": {"client_auth"},
    "timestampsign": {"time_stamping"},
    "ocsphelper": {"ocsp_signing"},
    "any": set(),
}


def involves_gost(cert_pem: bytes, chain: Sequence[x509.Certificate]) -> bool:
    """True when OpenSSL cannot judge: a GOST key or GOST signature in the certificate or its chain."""
    from keys.gost import is_gost_key, is_gost_signature

    for der in [_der(cert_pem)] + [c.public_bytes(serialization.Encoding.DER) for c in chain]:
        cert = asn1_x509.Certificate.load(der)
        if is_gost_key(cert.public_key) or is_gost_signature(cert["signature_algorithm"]["algorithm"].dotted):
            return True
    return False


def gost_verify(cert_pem: bytes, chain: Sequence[x509.Certificate], purposes: Sequence[str] = (),
                at: dt.datetime | None = None) -> tuple[bool, str]:
    """OpenSSL's ``verify`` done by our verifier for chains with GOST (issue 7).

    The path (RFC 5280 §6) is pyhanko-certvalidator's with our GOST
    signature hook (``ca.certcheck``, which ``qoltanba cert verify`` runs);
    each purpose becomes the extended key usage OpenSSL's purpose needs.
    Returns (accepted, why not).
    """
    import asyncio

    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import InvalidCertificateError, PathBuildingError, PathValidationError

    from ca.certcheck import check_certificate
    from keys.gost import GOST_SIGNATURE_VALIDATOR

    load = asn1_x509.Certificate.load
    cert = load(_der(cert_pem))
    anchors = [load(chain[-1].public_bytes(serialization.Encoding.DER))]
    intermediates = [load(c.public_bytes(serialization.Encoding.DER)) for c in chain[:-1]]
    at = at or dt.datetime.now(dt.timezone.utc)
    result = check_certificate(cert, anchors, at, intermediates)
    if not result.valid:
        return False, result.reason or "invalid"
    for purpose in purposes:
        context = ValidationContext(trust_roots=anchors, moment=at, allow_fetching=False,
                                    revocation_mode="soft-fail", signature_validator=GOST_SIGNATURE_VALIDATOR)
        validator = CertificateValidator(cert, intermediate_certs=intermediates, validation_context=context)
        try:
            asyncio.run(validator.async_validate_usage(set(), _PURPOSE_EKUS[purpose]))
        except (PathBuildingError, PathValidationError, InvalidCertificateError) as error:
            return False, f"purpose {purpose}: {error}"
    return True, "OK"


def verify_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    """``cert.verify_directly_issued_by(issuer)``, by our GOST verifier when the issuer's key is GOST."""
    from keys.gost import is_gost_key, verify

    issuer_info = asn1_x509.Certificate.load(issuer.public_bytes(serialization.Encoding.DER))
    if not is_gost_key(issuer_info.public_key):
        cert.verify_directly_issued_by(issuer)
        return
    if cert.issuer != issuer.subject:
        raise ValueError("the issuer's subject is not the certificate's issuer")
    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    verify(issuer_info.public_key, parsed["signature_algorithm"]["algorithm"].dotted,
           parsed["signature_value"].native, parsed["tbs_certificate"].dump())
