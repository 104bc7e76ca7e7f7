"""``qoltanba verify`` and ``qoltanba trust`` on a home, no server (issue 6): exit codes 0, 1, 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from tests.support.signing import embedded_services
from tests.support.verification import signed_contract, tampered

ROOT = Path(__file__).resolve().parents[2]
NCA_ROOT = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk" / "ca" / "nca_rsa_test.crt"
runner = CliRunner()


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    with embedded_services(tmp_path_factory.mktemp("verify-cli") / "home", "55" * 32) as svc:
        yield svc


@pytest.fixture(scope="module")
def files(services, tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("verify-cli-files")
    pdf, _client, _document = signed_contract(services, "B-LT")
    paths = {"good": directory / "contract.pdf", "tampered": directory / "tampered.pdf",
             "junk": directory / "notes.pdf", "root": directory / "root.pem", "archived": directory / "archived.pdf"}
    paths["good"].write_bytes(pdf)
    paths["archived"].write_bytes(signed_contract(services, "B-LTA")[0])
    paths["tampered"].write_bytes(tampered(pdf))
    paths["junk"].write_bytes(b"%PDF-1.7\n this is not really a PDF \n%%EOF")
    paths["root"].write_bytes(services.hierarchy.chain("national")[-1].public_bytes(serialization.Encoding.PEM))
    return paths


def qoltanba(*args: str) -> subprocess.CompletedProcess:
    """The console script as a real process (exit codes as a shell sees them)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("QOLTANBA_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def run(*args: str):
    """The same commands in-process (typer's CliRunner): quicker, the worker is forked from the test."""
    from api import cli

    return runner.invoke(cli.app, list(args), catch_exceptions=False)


def test_verify_as_a_process_exits_0_when_every_signature_passes_and_2_when_unreadable(services, files) -> None:
    result = qoltanba("verify", str(files["good"]), "--home", str(services.settings.home))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("TOTAL-PASSED") and "All 2 signatures valid." in result.stdout
    junk = qoltanba("verify", str(files["junk"]), "--home", str(services.settings.home))
    assert junk.returncode == 2 and junk.stdout == ""
    assert junk.stderr.startswith("error: ") and junk.stderr.count("\n") == 1, junk.stderr


def test_verify_exits_1_when_a_signature_fails_and_prints_the_json_report(services, files) -> None:
    result = run("verify", str(files["tampered"]), "--json", "--home", str(services.settings.home))
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["indication"] == "TOTAL-FAILED"
    assert {s["sub_indication"] for s in report["signatures"]} == {"HASH_FAILURE"}


def test_verify_exits_2_with_one_line_for_a_missing_file_or_a_bad_time(services, files, tmp_path) -> None:
    home = str(services.settings.home)
    for args in ([str(tmp_path / "missing.pdf")], [str(files["good"]), "--at", "next tuesday"]):
        result = run("verify", *args, "--home", home)
        assert result.exit_code == 2 and result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_verify_without_a_home_trusts_only_the_given_anchors(files, tmp_path) -> None:
    nowhere = str(tmp_path / "no-home")
    untrusted = run("verify", str(files["good"]), "--json", "--home", nowhere)
    assert untrusted.exit_code == 1 and "only --trust anchors" in untrusted.stderr
    assert {s["sub_indication"] for s in json.loads(untrusted.stdout)["signatures"]} == \
        {"NO_CERTIFICATE_CHAIN_FOUND"}
    # Years later, with only the root given: the archive time-stamp (B-LTA) still proves when it was signed.
    trusted = run("verify", str(files["archived"]), "--trust", str(files["root"]), "--at", "2030-01-01T00:00:00Z",
                  "--home", nowhere)
    assert trusted.exit_code == 0, trusted.stdout + trusted.stderr
    # The B-LT contract has no archive time-stamp: once the signer's certificate has expired (one year), nothing
    # proves the signature is older (issue 14, item 2).
    expired = run("verify", str(files["good"]), "--json", "--trust", str(files["root"]), "--at",
                  "2030-01-01T00:00:00Z", "--home", nowhere)
    assert expired.exit_code != 0, expired.stdout + expired.stderr
    assert {s["sub_indication"] for s in json.loads(expired.stdout)["signatures"]} == {"OUT_OF_BOUNDS_NO_POE"}
    assert not (tmp_path / "no-home").exists()


def test_trust_commands_add_list_and_remove_an_anchor(services) -> None:
    home = str(services.settings.home)
    added = run("trust", "add", "--pem", str(NCA_ROOT), "--label", "NCA RK RSA test root", "--home", home)
    assert added.exit_code == 0, added.stderr
    sha256 = json.loads(added.stdout)["sha256"]
    listed = [json.loads(line) for line in run("trust", "list", "--home", home).stdout.splitlines()]
    assert [a["source"] for a in listed] == ["hierarchy", "imported"]
    again = run("trust", "add", "--pem", str(NCA_ROOT), "--label", "again", "--home", home)
    assert again.exit_code == 2 and again.stderr.startswith("error: ")
    assert run("trust", "remove", sha256, "--home", home).exit_code == 0


def test_verify_trusts_what_trust_add_put_in_the_home_and_no_longer_what_trust_remove_took(
        files, tmp_path, monkeypatch) -> None:
    """Verify reads the home's trust store as it stands, without building the services (start-up, issue 21)."""
    from tests.support import golden

    other = golden.prepare(tmp_path, f"sqlite:///{tmp_path / 'home' / 'registry.db'}")   # another centre's home
    monkeypatch.setenv("QOLTANBA_MASTER_KEY", golden.MASTER_KEY)
    home = str(other)

    def verdicts() -> tuple[int, set, list[str]]:
        result = run("verify", str(files["good"]), "--json", "--home", home)
        report = json.loads(result.stdout)
        return (result.exit_code, {s["sub_indication"] for s in report["signatures"]},
                [a["sha256"] for a in report["trust_anchors"]])

    untrusted = verdicts()
    code, subs, anchors = untrusted
    # Its own root only, of the same name as the signer's: a chain is built to it and fails.
    assert (code, subs, len(anchors)) == (1, {"CERTIFICATE_CHAIN_GENERAL_FAILURE"}, 1)
    own_root = anchors[0]
    added = run("trust", "add", "--pem", str(files["root"]), "--label", "the signer's centre", "--home", home)
    assert added.exit_code == 0, added.stderr
    sha256 = json.loads(added.stdout)["sha256"]
    assert verdicts() == (0, {None}, [own_root, sha256])   # our root first, then the imported anchor
    assert run("trust", "remove", sha256, "--home", home).exit_code == 0
    assert verdicts() == untrusted
