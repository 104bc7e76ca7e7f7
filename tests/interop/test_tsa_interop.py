"""The TSA judged by OpenSSL, against a real server with two worker processes.

``openssl ts`` writes the queries (with and without a nonce, with a policy
we do not serve), they are POSTed as ``application/timestamp-query``, and
``openssl ts -reply -text`` and ``openssl ts -verify`` read the replies:
policy, accuracy, nonce, signature, ESS certificate identifier, and the
chain up to our root. The verify also demands what RFC 3161 §2.3 asks of
the TSA certificate: a critical extended key usage of only timeStamping.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ca.tsp import read_response
from tests.support.server import Home, fetch, prepare_home, running_server
from tests.support.tools import require_tool

pytestmark = pytest.mark.interop

KZ3_TSA = "1.2.398.3.3.2.6.1"
QUERY = {"Content-Type": "application/timestamp-query"}


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> tuple[Home, Path]:
    require_tool("openssl")
    work = tmp_path_factory.mktemp("tsa-live")
    home = prepare_home(work / "home")
    with running_server(home, workers=2):
        (work / "chain.pem").write_bytes(fetch(home.url + "/ca/national/chain"))
        (work / "contract.txt").write_bytes("Заем: договор № 1\n".encode())
        (work / "other.txt").write_bytes(b"another document\n")
        yield home, work


def _openssl_ts(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("openssl"), "ts", *args], cwd=work, capture_output=True, text=True,
                          timeout=60)


def _stamp(home: Home, work: Path, name: str, *options: str) -> tuple[Path, Path]:
    made = _openssl_ts(work, "-query", "-data", "contract.txt", "-sha256", "-cert", *options, "-out", f"{name}.tsq")
    assert made.returncode == 0, made.stderr
    reply = fetch(home.url + "/tsa", (work / f"{name}.tsq").read_bytes(), QUERY)
    (work / f"{name}.tsr").write_bytes(reply)
    return work / f"{name}.tsq", work / f"{name}.tsr"


@pytest.mark.parametrize("options", [(), ("-no_nonce",)], ids=["nonce", "no-nonce"])
def test_openssl_reads_our_policy_and_accuracy_and_verifies_the_token(live, options):
    home, work = live
    tsq, tsr = _stamp(home, work, "stamp" + "".join(options), *options)
    text = _openssl_ts(work, "-reply", "-in", tsr.name, "-text")
    assert text.returncode == 0, text.stderr
    assert "Status: Granted." in text.stdout
    assert f"Policy OID: {KZ3_TSA}" in text.stdout
    assert "Accuracy: 0x01 seconds" in text.stdout
    assert ("Nonce: unspecified" in text.stdout) == bool(options)
    by_data = _openssl_ts(work, "-verify", "-data", "contract.txt", "-in", tsr.name, "-CAfile", "chain.pem")
    assert "Verification: OK" in by_data.stdout, by_data.stdout + by_data.stderr
    # -queryfile also checks the nonce and the imprint against the query OpenSSL wrote.
    by_query = _openssl_ts(work, "-verify", "-queryfile", tsq.name, "-in", tsr.name, "-CAfile", "chain.pem")
    assert "Verification: OK" in by_query.stdout, by_query.stdout + by_query.stderr


def test_a_token_does_not_verify_for_other_data(live):
    home, work = live
    _tsq, tsr = _stamp(home, work, "for-contract")
    other = _openssl_ts(work, "-verify", "-data", "other.txt", "-in", tsr.name, "-CAfile", "chain.pem")
    assert "Verification: OK" not in other.stdout
    assert "Verification: FAILED" in other.stdout, other.stdout + other.stderr


def test_a_policy_we_do_not_serve_is_rejected(live):
    home, work = live
    _tsq, tsr = _stamp(home, work, "other-policy", "-tspolicy", "1.2.3.4.5")
    assert read_response(tsr.read_bytes()).fail_info == {"unacceptedPolicy"}
    text = _openssl_ts(work, "-reply", "-in", tsr.name, "-text")
    assert "Status: Rejected." in text.stdout, text.stdout
    assert "the requested TSA policy is not supported" in text.stdout, text.stdout
