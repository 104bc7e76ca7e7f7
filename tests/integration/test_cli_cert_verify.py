"""``qoltanba cert verify``: one certificate's signature and chain, any algorithm (issue 7).

NCA RK vectors (tests/vectors/nca-rk, KZ-6) for GOST 2015, GOST 2004 and
RSA; our own hierarchy (ECDSA) for a root and an intermediate as anchors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from typer.testing import CliRunner

from api import cli
from tests.integration.test_cli import lines, make_csr, new_iin, run

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk"
GOST_EE, GOST_CA = VECTORS / "certs/individual_gost2015.cer", VECTORS / "ca/nca_gost2015_test.cer"
runner = CliRunner()


def verify(*args: str, code: int):
    result = runner.invoke(cli.app, ["cert", "verify", *map(str, args)], catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    if code == 2:
        lines_ = result.stderr.strip().splitlines()
        assert len(lines_) == 1 and lines_[0].startswith("error: "), result.stderr
    return result


def test_kz5_nca_gost2015_certificate_is_valid_at_a_moment_of_its_validity() -> None:
    result = verify(GOST_EE, "--trust", GOST_CA, "--at", "2024-06-01", "--json", code=0)
    report = json.loads(result.stdout)
    assert report["valid"] and report["signature_algorithm"] == "kz_gost3410_2015_512_streebog512"
    assert len(report["path"]) == 2


def test_kz5_nca_gost2015_certificate_is_invalid_now_because_it_expired() -> None:
    result = verify(GOST_EE, "--trust", GOST_CA, "--json", code=1)
    assert "expired" in json.loads(result.stdout)["reason"]


def test_gost_certificate_with_a_flipped_signature_bit_is_invalid(tmp_path: Path) -> None:
    der = bytearray(pem.unarmor(GOST_EE.read_bytes())[2])
    der[-10] ^= 0x01
    (tmp_path / "bad.cer").write_bytes(bytes(der))
    result = verify(tmp_path / "bad.cer", "--trust", GOST_CA, "--at", "2024-06-01", code=1)
    assert result.stdout.startswith("invalid: ") and "signature" in result.stdout


def test_wrong_issuer_is_invalid() -> None:
    result = verify(GOST_EE, "--trust", VECTORS / "ca/nca_gost_test.crt", "--at", "2024-06-01", code=1)
    assert "no chain" in result.stdout


def test_kz5_nca_gost2004_and_rsa_certificates_are_valid_in_2022() -> None:
    verify(VECTORS / "certs/ceo_valid_sign_2004_gost.cer", "--trust", VECTORS / "ca/nca_gost_test.crt",
           "--at", "2022-06-01T00:00:00Z", code=0)
    verify(VECTORS / "certs/individual_valid_sign_2004_rsa.cer", "--trust", VECTORS / "ca/nca_rsa_test.crt",
           "--at", "2022-06-01", code=0)


@pytest.mark.parametrize("args", [
    ("README.md", "--trust", str(GOST_CA)),
    (str(GOST_EE), "--trust", "README.md"),
    (str(GOST_EE), "--trust", "/nonexistent/ca.pem"),
    (str(GOST_EE), "--trust", str(GOST_CA), "--at", "yesterday"),
])
def test_unusable_input_is_one_line_exit_2(args: tuple[str, ...]) -> None:
    verify(*args, code=2)


def test_our_ecdsa_certificate_verifies_under_the_intermediate_or_the_root(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run(home, "init")
    make_csr(tmp_path / "req.csr")
    lines(run(home, "cert", "issue", "--profile", "individual-sign", "--iin", new_iin(), "--surname", "ТЕСТОВ",
              "--given-name", "ТЕСТ", "--csr", str(tmp_path / "req.csr"), "--cert-out", str(tmp_path / "c.pem")))
    chain = [der for _k, _h, der in pem.unarmor(run(home, "ca", "chain", "--ca", "national").stdout.encode(),
                                                 multiple=True)]
    (tmp_path / "national.der").write_bytes(chain[0])
    (tmp_path / "root.pem").write_bytes(pem.armor("CERTIFICATE", chain[-1]))
    (tmp_path / "chain.pem").write_bytes(b"".join(pem.armor("CERTIFICATE", der) for der in chain))
    verify(tmp_path / "c.pem", "--trust", tmp_path / "national.der", code=0)
    # With only the root as anchor the intermediate must come along (--chain), or be trusted too.
    verify(tmp_path / "c.pem", "--trust", tmp_path / "chain.pem", code=0)
    assert asn1_x509.Certificate.load(chain[-1]).self_signed == "maybe"
    verify(tmp_path / "c.pem", "--trust", tmp_path / "root.pem", code=1)
    verify(tmp_path / "c.pem", "--trust", tmp_path / "root.pem", "--chain", tmp_path / "national.der", code=0)
