"""CRLs from ca/crl.py, judged by tools we did not write: OpenSSL and pkilint.

``openssl crl -verify`` checks the signature against the CA certificate and
parses every entry; pkilint's CRL linter (``lint_crl``, RFC 5280 profile)
checks the structure. pkilint 0.13 knows the CRL types "CRL" and "ARL" only,
with no separate delta type, so deltas are linted as CRLs: the RFC 5280
validations (version, CRL number, AKI, reasonCode criticality, times,
serials) are the same for both.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from ca.crl import REASON_CODES, CRLParams, sign_crl
from keys import KeyAlgorithm, KeySigner, SoftwareKeyBackend, sign_certificate
from tests.support.judges import BLOCKING
from tests.support.tools import require_tool, skip_or_fail

pytestmark = pytest.mark.interop

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(microsecond=0)
KEY_KINDS = (KeyAlgorithm.EC_P256, KeyAlgorithm.RSA_2048)
KINDS = ("full", "delta", "empty")


class CA:
    def __init__(self, backend: SoftwareKeyBackend, algorithm: KeyAlgorithm) -> None:
        self.backend = backend
        self.handle = backend.generate(algorithm, f"crl interop {algorithm.value}").handle
        public_key = backend.public_key(self.handle)
        self.name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
                               x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Qoltanba"),
                               x509.NameAttribute(NameOID.COMMON_NAME, f"CRL Interop CA {algorithm.value}")])
        self.ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(self.name).issuer_name(self.name).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .add_extension(self.ski, critical=False)
        )
        self.certificate = sign_certificate(backend, self.handle, builder)

    def crl(self, kind: str, entries: list) -> bytes:
        params = CRLParams(
            issuer_name_der=self.name.public_bytes(), authority_key_identifier=self.ski.digest,
            this_update=NOW, next_update=NOW + dt.timedelta(days=1),
            crl_number=41 if kind == "delta" else 40,
            delta_base=40 if kind == "delta" else None,
            freshest_crl_url=None if kind == "delta" else "http://pki.example.kz/crl/interop-delta.crl",
        )
        return sign_crl(KeySigner(self.backend, self.handle), params, [] if kind == "empty" else entries)


def some_entries(count: int, seed: int) -> list[tuple[int, int, int | None]]:
    """159-bit serials like ours, a few small ones, one with its top bit set; all reasons."""
    rng = random.Random(seed)
    codes = [None, *REASON_CODES.values()]
    now = int(NOW.timestamp())
    entries = [((1 << 158) | rng.getrandbits(158), now - rng.randrange(10**8), rng.choice(codes))
               for _ in range(count)]
    entries += [(1, now - 60, 1), (0x80, now - 61, None), (0x8000000000000000, now - 62, 4)]
    return entries


@pytest.fixture(scope="module")
def cas(tmp_path_factory: pytest.TempPathFactory) -> dict[KeyAlgorithm, CA]:
    backend = SoftwareKeyBackend(tmp_path_factory.mktemp("keys"), bytes(range(32)))
    return {algorithm: CA(backend, algorithm) for algorithm in KEY_KINDS}


def openssl_crl(args: list[str], crl_der: bytes, ca: CA, tmp_path: Path) -> subprocess.CompletedProcess:
    openssl = require_tool("openssl")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    crl_file = tmp_path / "list.crl"
    crl_file.write_bytes(crl_der)
    return subprocess.run([openssl, "crl", *args, "-CAfile", str(ca_file), "-in", str(crl_file),
                           "-inform", "DER"], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("algorithm", KEY_KINDS, ids=lambda a: a.value)
@pytest.mark.parametrize("kind", KINDS)
def test_openssl_verifies_the_crl(cas: dict[KeyAlgorithm, CA], algorithm: KeyAlgorithm, kind: str,
                                  tmp_path: Path) -> None:
    ca = cas[algorithm]
    proc = openssl_crl(["-verify", "-noout"], ca.crl(kind, some_entries(50, seed=1)), ca, tmp_path)
    assert proc.returncode == 0 and "verify OK" in proc.stderr, proc.stdout + proc.stderr


def test_openssl_rejects_a_tampered_crl(cas: dict[KeyAlgorithm, CA], tmp_path: Path) -> None:
    # The judge must be able to say no: one changed revocation-date digit.
    ca = cas[KeyAlgorithm.EC_P256]
    der = bytearray(ca.crl("full", some_entries(5, seed=2)))
    position = der.index(b"\x17\x0d") + 5
    der[position] ^= 0x01
    proc = openssl_crl(["-verify", "-noout"], bytes(der), ca, tmp_path)
    assert "verify OK" not in proc.stderr, proc.stdout + proc.stderr


def test_openssl_reads_a_large_crl_entry_by_entry(cas: dict[KeyAlgorithm, CA], tmp_path: Path) -> None:
    ca = cas[KeyAlgorithm.EC_P256]
    entries = some_entries(20000, seed=3)
    proc = openssl_crl(["-verify", "-text", "-noout"], ca.crl("full", entries), ca, tmp_path)
    assert proc.returncode == 0 and "verify OK" in proc.stderr, proc.stderr
    assert proc.stdout.count("Serial Number:") == len(entries)
    assert "X509v3 Freshest CRL" in proc.stdout and "Delta CRL Indicator" not in proc.stdout


def test_openssl_sees_the_delta_indicator_as_critical(cas: dict[KeyAlgorithm, CA], tmp_path: Path) -> None:
    ca = cas[KeyAlgorithm.EC_P256]
    proc = openssl_crl(["-text", "-noout"], ca.crl("delta", some_entries(3, seed=4)), ca, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "X509v3 Delta CRL Indicator: critical" in proc.stdout
    assert "X509v3 CRL Number:" in proc.stdout and "Freshest CRL" not in proc.stdout


# --- pkilint ---------------------------------------------------------------------------


def lint_crl(crl_der: bytes, tmp_path: Path) -> list[tuple[str, str, str]]:
    """Every finding of ``lint_crl lint -t CRL -p PKIX``: (severity, validator, code @ node)."""
    executable = Path(sys.executable).parent / "lint_crl"
    if not executable.is_file():
        skip_or_fail(f"pkilint is not installed in this environment ({executable} missing)")
    path = tmp_path / "lint.crl"
    path.write_bytes(crl_der)
    proc = subprocess.run([str(executable), "lint", "-t", "CRL", "-p", "PKIX", "-f", "JSON", "-s", "ALL",
                           "--document-format", "DER", str(path)], capture_output=True, text=True, timeout=120)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"lint_crl produced no report (exit {proc.returncode}): {proc.stderr}") from None
    return [(d.get("severity", "?"), r.get("validator", "?"), f"{d.get('code')} @ {r.get('node_path')}")
            for r in report.get("results", ()) for d in r.get("finding_descriptions", ())]


@pytest.mark.parametrize("algorithm", KEY_KINDS, ids=lambda a: a.value)
@pytest.mark.parametrize("kind", KINDS)
def test_pkilint_finds_no_error(cas: dict[KeyAlgorithm, CA], algorithm: KeyAlgorithm, kind: str,
                                tmp_path: Path) -> None:
    findings = lint_crl(cas[algorithm].crl(kind, some_entries(50, seed=5)), tmp_path)
    assert not [f for f in findings if f[0] in BLOCKING], findings


def test_pkilint_is_a_real_judge(cas: dict[KeyAlgorithm, CA], tmp_path: Path) -> None:
    # A CRL without its version field (v1) must draw an ERROR, or the test above proves nothing.
    der = cas[KeyAlgorithm.EC_P256].crl("full", some_entries(1, seed=6))
    tampered = der.replace(b"\x02\x01\x01\x30", b"\x30", 1)
    tampered = _fix_lengths(tampered, removed=3)
    findings = lint_crl(tampered, tmp_path)
    assert any(f[0] in BLOCKING and "version" in f[2] for f in findings), findings


def _fix_lengths(der: bytes, removed: int) -> bytes:
    """Shorten the CertificateList's and TBSCertList's lengths after cutting ``removed`` octets."""
    out = bytearray(der)
    for offset in (0, _tbs_offset(der)):
        width = out[offset + 1] & 0x7F if out[offset + 1] & 0x80 else 0
        if width:
            length = int.from_bytes(out[offset + 2:offset + 2 + width], "big") - removed
            out[offset + 2:offset + 2 + width] = length.to_bytes(width, "big")
        else:
            out[offset + 1] -= removed
    return bytes(out)


def _tbs_offset(der: bytes) -> int:
    return 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)
