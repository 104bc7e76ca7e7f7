"""The credit dossier (LOAN-14) read by tools that are not ours: Info-ZIP's unzip and zipinfo, and OpenSSL.

No ASiC-E validator is packaged for Debian here (the EU DSS and DigiDoc are
not in the machine's package lists), so the container's parts are judged
one by one: ``unzip -t`` tests every entry's CRC, ``zipinfo`` shows
``mimetype`` first and stored (ETSI EN 319 162-1 A.1), and ``openssl cms
-verify`` checks the manifest's CAdES signature over the extracted manifest
against our root alone, and refuses it over a manifest changed by one byte.
"""

from __future__ import annotations

import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from signing.verification.asic import MANIFEST, MIMETYPE, SIGNATURE
from tests.integration.test_dossier import world  # noqa: F401 - the module's signed loan and its dossier
from tests.support.tools import require_tool

pytestmark = pytest.mark.interop


def _run(*args: str, cwd) -> subprocess.CompletedProcess:  # noqa: ANN001
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=60)


def test_LOAN14_unzip_and_openssl_accept_the_dossier_and_refuse_a_changed_manifest(world, tmp_path) -> None:  # noqa: F811
    services, _http, _keys, loan = world
    (tmp_path / "dossier.asice").write_bytes(loan["asice"])
    tested = _run(require_tool("unzip"), "-t", "dossier.asice", cwd=tmp_path)
    assert tested.returncode == 0 and "No errors detected" in tested.stdout, tested.stdout + tested.stderr
    listed = _run(require_tool("zipinfo"), "dossier.asice", cwd=tmp_path).stdout.splitlines()
    first = next(line for line in listed if line.endswith("mimetype") or " mimetype" in line)
    assert listed.index(first) == 2 and " stor " in first, listed[:4]           # after the two header lines
    extracted = _run(require_tool("unzip"), "-q", "dossier.asice", "-d", "out", cwd=tmp_path)
    assert extracted.returncode == 0, extracted.stderr
    assert (tmp_path / "out" / "mimetype").read_bytes() == MIMETYPE.encode()
    root = services.hierarchy.chain("national")[-1]
    (tmp_path / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    verify = [require_tool("openssl"), "cms", "-verify", "-binary", "-inform", "DER", "-in", f"out/{SIGNATURE}",
              "-content", f"out/{MANIFEST}", "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null"]
    verified = _run(*verify, cwd=tmp_path)
    assert verified.returncode == 0 and "Verification successful" in verified.stderr, verified.stderr
    # Every evidence report inside verifies the same way against its sealed signature.
    evidence = sorted((tmp_path / "out" / "evidence").glob("*.json"))
    assert len(evidence) == 5
    for report in evidence:
        checked = _run(*verify[:7], str(report.with_suffix(".json.p7s").relative_to(tmp_path)), "-content",
                       str(report.relative_to(tmp_path)), *verify[10:], cwd=tmp_path)
        assert checked.returncode == 0, checked.stderr
    manifest = tmp_path / "out" / MANIFEST
    manifest.write_bytes(manifest.read_bytes().replace(b"application/pdf", b"application/PDF", 1))
    refused = _run(*verify, cwd=tmp_path)
    assert refused.returncode != 0 and "Verification successful" not in refused.stderr
