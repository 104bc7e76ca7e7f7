"""Other validators accept what we embed (issue 14, item 3): pyHanko's AdES validator offline, and pdfsig.

What was found (pyHanko 0.38, pyhanko-certvalidator 0.33): the DSS of our
B-LT and B-LTA files holds all pyHanko needs: the certificates, an OCSP
answer for the signer, the national CA and the TSA, each from a delegated
responder certificate with id-pkix-ocsp-nocheck issued by the CA it answers
for. ``pyhanko sign adesverify`` without ``--validation-time`` validates "now"
with fetching allowed (RevinfoOnlineFetchingRule.NO_HISTORICAL_FETCH): for a
certificate whose AIA names an OCSP responder it asks that responder first,
and when the responder cannot be reached it never looks at the DSS
(``RevinfoManager.async_retrieve_ocsps`` raises before returning the local
answers), reports "no revocation information could be found" (a
CERTIFICATE_CHAIN_GENERAL_FAILURE, which stops its past validation). That
is the message of the issue: offline, pyHanko validates from the document
alone only at a point in time (``--validation-time``), and there it accepts
our files. These tests run the real CLI that way, with no server anywhere.

B-LT is accepted only while the embedded OCSP answers are current (pyHanko
gives a B-LT signature no proof of existence of its own, EN 319 102-1
§5.6.2.1); B-LTA is accepted afterwards too, on its archive time-stamp.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from keys import KeyAlgorithm
from tests.support import factories as f
from tests.support.pdf_judges import nss_database, pdfsig
from tests.support.pdfs import contract_pdf
from tests.support.signing import client_with_held_key, embedded_services, latest_pdf, sign_client_and_seal, upload
from tests.support.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
MASTER_KEY = "99" * 32
PASSWORD = "carrier password"
ALGORITHMS = {"RSA-2048": KeyAlgorithm.RSA_2048, "P-256": KeyAlgorithm.EC_P256}


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ltv-interop") / "home"


@pytest.fixture(scope="module")
def services(home):
    with embedded_services(home, MASTER_KEY) as svc:
        yield svc


@pytest.fixture(scope="module")
def root_pem(services, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("anchor") / "root.pem"
    path.write_bytes(services.hierarchy.chain("national")[-1].public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture(scope="module")
def nss(services, tmp_path_factory) -> Path:
    return nss_database(tmp_path_factory.mktemp("nss"), services.hierarchy.chain("national")[-1])


def _adesverify(path: Path, root_pem: Path, at: dt.datetime) -> tuple[int, dict[str, str]]:
    """The real ``pyhanko`` CLI, our root the only anchor, validating offline at ``at``."""
    tool = require_tool("pyhanko", [str(Path(sys.executable).parent)])
    result = subprocess.run([tool, "sign", "adesverify", "--trust", str(root_pem), "--trust-replace",
                             "--validation-time", at.strftime("%Y-%m-%dT%H:%M:%SZ"), str(path)],
                            capture_output=True, text=True, timeout=180)
    lines = {}
    for line in result.stdout.splitlines():
        field, _, rest = line.partition(":")
        if rest:
            lines[field] = rest.split(":", 1)[1]   # drop the certificate fingerprint
    return result.returncode, lines


def _service_contract(services, algorithm: KeyAlgorithm, level: str) -> bytes:
    client = client_with_held_key(services, algorithm=algorithm)
    document = upload(services, client.iin, pages=1)
    sign_client_and_seal(services, client, document.id, level=level)
    return latest_pdf(services, document.id)


def _cli_signed(services, home: Path, directory: Path, algorithm: KeyAlgorithm, level: str) -> bytes:
    """``qoltanba sign`` as a real process with a PKCS#12 carrier the national CA issued."""
    from ca.issuance import IssueRequest, KeySource
    from ca.subject import SubjectData

    issued = services.issuance.issue(IssueRequest(
        centre="national", profile="individual-sign", actor="test",
        subject=SubjectData(surname="Тестов", given_name="Тест", iin=f.iin()),
        key=KeySource(pkcs12_password=PASSWORD.encode(), algorithm=algorithm)))
    p12, password, source, target = (directory / n for n in ("c.p12", "c.pw", "in.pdf", "out.pdf"))
    p12.write_bytes(issued.pkcs12)
    password.write_text(PASSWORD)
    source.write_bytes(contract_pdf(pages=1))
    env = {**os.environ, "QOLTANBA_HOME": str(home), "QOLTANBA_MASTER_KEY": MASTER_KEY, "PYTHONPATH": str(ROOT)}
    env.pop("QOLTANBA_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "api.cli", "sign", str(source), str(target), "--p12", str(p12),
                             "--password-file", str(password), "--level", level, "--home", str(home)],
                            env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return target.read_bytes()


@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
@pytest.mark.parametrize("made_by", ["service", "qoltanba sign"])
def test_pyhanko_adesverify_offline_and_pdfsig_accept_our_long_term_signatures(
        services, home, root_pem, nss, tmp_path, made_by: str, algorithm: str, level: str) -> None:
    if made_by == "service":
        pdf = _service_contract(services, ALGORITHMS[algorithm], level)
        fields = ["Client-Signature", "MFO-Seal"]
    else:
        pdf = _cli_signed(services, home, tmp_path, ALGORITHMS[algorithm], level)
        fields = ["Signature1"]
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    # A minute after signing, no network: pyHanko judges from the DSS alone.
    code, lines = _adesverify(path, root_pem, dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1))
    assert code == 0 and sorted(lines) == sorted(fields), lines
    for field in fields:
        assert lines[field].startswith("INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>"), (field, lines)
    if level == "B-LTA" and made_by == "service":
        # A year and a half later (the signer's certificate expired): the archive time-stamps carry it.
        # (A file with one signature and one archive time-stamp, as `qoltanba sign` makes, is not yet
        # accepted by pyHanko that late: its past validation finds no control time for the TSA's path.
        # Open, see the branch report of issue 14.)
        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=550)
        code, lines = _adesverify(path, root_pem, later)
        assert code == 0 and all(lines[f].startswith("INTACT:TRUSTED") for f in fields), lines
    # pdfsig (NSS) with our root in its database, no OCSP request: every signature value verifies.
    signatures = [s for s in pdfsig(path, nss, ocsp=False) if not s.field.endswith("-TS")]
    assert [s.field for s in signatures] == fields, [s.raw for s in signatures]
    assert all(s.signature_valid for s in signatures), [s.raw for s in signatures]
