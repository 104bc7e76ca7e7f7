"""The revocation commands of ``qoltanba``: cert revoke, crl, journal revocations, ca stop, retention run."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from cryptography import x509

from tests.integration.test_cli import lines, make_csr, new_iin, run


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("qoltanba-revocation-home")
    run(path, "init")
    return path


def _issue(home: Path, tmp_path: Path) -> str:
    make_csr(tmp_path / "req.csr")
    return lines(run(home, "cert", "issue", "--profile", "individual-sign", "--iin", new_iin(), "--surname", "ТЕСТОВ",
                     "--given-name", "ТЕСТ", "--csr", str(tmp_path / "req.csr"),
                     "--cert-out", str(tmp_path / "c.pem")))[0]["serial"]


def test_revoke_then_crl_lists_it_with_its_reason(home: Path, tmp_path: Path) -> None:
    serial = _issue(home, tmp_path)
    done = lines(run(home, "cert", "revoke", "--serial", serial.upper(), "--reason", "key-compromise"))[0]
    assert done["serial"] == serial and done["reason"] == "key-compromise" and done["centre"] == "national"
    shown = lines(run(home, "cert", "show", serial))[0]
    assert shown["status"] == "revoked"
    out = lines(run(home, "crl", "--ca", "national", "--out", str(tmp_path / "n.crl")))[0]
    crl = x509.load_der_x509_crl((tmp_path / "n.crl").read_bytes())
    entry = crl.get_revoked_certificate_by_serial_number(int(serial, 16))
    assert entry is not None and out["kind"] == "full"
    delta = lines(run(home, "crl", "--ca", "national", "--out", str(tmp_path / "d.crl"), "--delta", "--new"))[0]
    assert delta["kind"] == "delta" and delta["number"] > out["number"]


def test_revoke_refusals_are_one_line_exit_2(home: Path, tmp_path: Path) -> None:
    serial = _issue(home, tmp_path)
    assert "reason" in run(home, "cert", "revoke", "--serial", serial, "--reason", "certificate-hold",
                           code=2).stderr
    assert "court_decision" in run(home, "cert", "revoke", "--serial", serial, "--ground", "court-decision",
                                   code=2).stderr
    run(home, "cert", "revoke", "--serial", "abcdef0123", code=1)      # not found
    run(home, "cert", "revoke", "--serial", serial, "--court-decision", "2-77/2026", "--court-date", "2026-11-01")
    assert "already revoked" in run(home, "cert", "revoke", "--serial", serial, code=2).stderr


def test_government_revocation_journal_csv(home: Path, tmp_path: Path) -> None:
    result = run(home, "journal", "revocations", "--ca", "government")
    header = next(csv.reader(io.StringIO(result.stdout)))
    assert header[:4] == ["number", "holder_name", "state_body", "letter_number"]


def test_stop_needs_confirmation_and_retention_is_repeatable(home: Path) -> None:
    assert "--yes" in run(home, "ca", "stop", "--ca", "government", code=2).stderr
    first = lines(run(home, "retention", "run"))
    assert {r["centre"] for r in first} == {"root", "national", "government"}
    assert all(r["archived"] == 0 for r in lines(run(home, "retention", "run")))
