"""The ``qoltanba`` command line, driven through typer's CliRunner (and once as a real process)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from api import cli
from ca.identity import make_test_iin
from keys import load_pkcs12

BIN = "190340000017"
JOURNAL_COLUMNS = ["number", "state_body", "letter_number", "letter_date", "holder_name", "issued_at",
                   "carrier_serial", "certificate_serial", "form_numbers", "valid_from", "valid_to",
                   "administrator"]  # seed 004 appendix 3
runner = CliRunner()
_serials = iter(range(100, 10000))


def new_iin(sex: str = "M") -> str:
    """A fresh valid IIN per call, so tests sharing a home never collide."""
    while True:
        try:
            return make_test_iin(dt.date(1985, 3, 14), sex, next(_serials))
        except ValueError:
            continue


def run(home: Path, *args: str, code: int = 0, env: dict | None = None):
    result = runner.invoke(cli.app, [*args, "--home", str(home)], env=env, catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    if code:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert "Traceback" not in result.output
    return result


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def pems(text: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(text.encode())


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path


def make_csr(path: Path, cn: str = "ignored") -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    return key


def same_key(a, b) -> bool:
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return a.public_bytes(*fmt) == b.public_bytes(*fmt)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One initialised home shared by the module's tests (each uses its own IINs)."""
    path = tmp_path_factory.mktemp("qoltanba-home")
    run(path, "init")
    return path


# -- init, chain -----------------------------------------------------------------

def test_init_is_idempotent_and_writes_the_bootstrap_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first_run = run(home, "init")
    first = lines(first_run)[0]
    assert first["initialised"] is True and first["home"] == str(home.resolve())
    key_file = Path(first["bootstrap_key_file"])
    assert key_file == home.resolve() / "bootstrap-admin.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert key.startswith("qk_")
    root_before = run(home, "ca", "chain", "--ca", "root").stdout

    second = run(home, "init")
    assert lines(second)[0]["initialised"] is False
    assert lines(second)[0]["bootstrap_key_file"] is None
    assert key not in first_run.output and key not in second.output
    assert key_file.read_text().strip() == key
    assert run(home, "ca", "chain", "--ca", "root").stdout == root_before


def test_chains_issuing_ca_first_root_last(home: Path) -> None:
    root = pems(run(home, "ca", "chain", "--ca", "root").stdout)
    assert len(root) == 1
    for centre in ("national", "government"):
        chain = pems(run(home, "ca", "chain", "--ca", centre).stdout)
        assert len(chain) == 2
        assert chain[1] == root[0]
        assert chain[0].issuer == chain[1].subject
        assert centre.upper() in chain[0].subject.rfc4514_string()


def test_unknown_centre_is_a_usage_error(home: Path) -> None:
    result = runner.invoke(cli.app, ["ca", "chain", "--ca", "moon", "--home", str(home)])
    assert result.exit_code == 2


def test_commands_on_an_uninitialised_home_say_so(tmp_path: Path) -> None:
    run(tmp_path / "empty", "cert", "list", code=1)
    result = run(tmp_path / "empty", "ca", "chain", "--ca", "root", code=1)
    assert "qoltanba init" in result.stderr


def test_invalid_settings_exit_2_naming_the_variable(tmp_path: Path) -> None:
    result = run(tmp_path / "h", "cert", "list", code=2, env={"QOLTANBA_PORT": "0"})
    assert "QOLTANBA_PORT" in result.stderr


# -- cert --------------------------------------------------------------------------

def test_issue_with_a_pkcs12_carrier(home: Path, tmp_path: Path) -> None:
    iin = new_iin()
    (tmp_path / "pw").write_text("correct horse\n")
    p12, pem = tmp_path / "holder.p12", tmp_path / "holder.pem"
    out = lines(run(home, "cert", "issue", "--profile", "individual-sign", "--iin", iin, "--surname", "Ivanov",
                    "--given-name", "Ivan", "--patronymic", "Petrovich", "--email", "ivan@example.kz",
                    "--p12-out", str(p12), "--password-file", str(tmp_path / "pw"), "--cert-out", str(pem)))[0]
    assert out["centre"] == "national" and out["profile"] == "individual-sign"
    assert f"IIN{iin}" in out["subject"] and out["not_after"]
    assert stat.S_IMODE(p12.stat().st_mode) == 0o600
    key, cert, chain = pkcs12.load_key_and_certificates(p12.read_bytes(), b"correct horse")
    assert format(cert.serial_number, "x") == out["serial"]
    assert same_key(key.public_key(), cert.public_key())
    assert len(chain) == 2
    assert x509.load_pem_x509_certificate(pem.read_bytes()) == cert
    # The same file is never overwritten: it may hold the only copy of a key.
    run(home, "cert", "issue", "--profile", "individual-sign", "--iin", new_iin(), "--surname", "Ivanov",
        "--given-name", "Ivan", "--p12-out", str(p12), "--password-file", str(tmp_path / "pw"), code=2)


def test_issue_to_a_csr_then_show_and_list(home: Path, tmp_path: Path) -> None:
    iin = new_iin("F")
    key = make_csr(tmp_path / "req.csr")
    out_file = tmp_path / "cert.pem"
    out = lines(run(home, "cert", "issue", "--profile", "legal-sign", "--iin", iin, "--surname", "Akhmetova",
                    "--given-name", "Aigerim", "--bin", BIN, "--org", "TOO ALMA", "--role", "first-head",
                    "--role", "financial", "--locality", "Almaty", "--state", "Almaty",
                    "--csr", str(tmp_path / "req.csr"), "--cert-out", str(out_file)))[0]
    cert = x509.load_pem_x509_certificate(out_file.read_bytes())
    assert same_key(cert.public_key(), key.public_key())
    assert format(cert.serial_number, "x") == out["serial"]

    shown = lines(run(home, "cert", "show", out["serial"].upper()))[0]
    assert shown["serial"] == out["serial"] and shown["centre"] == "national"
    assert shown["iin"] == iin and shown["bin"] == BIN and shown["status"] == "valid"
    assert shown["key_carrier"] == "holder-csr" and shown["profile"] == "legal-sign"
    assert pems(run(home, "cert", "show", out["serial"], "--pem").stdout) == [cert]
    run(home, "cert", "show", out["serial"], "--ca", "government", code=1)

    listed = lines(run(home, "cert", "list", "--bin", BIN, "--profile", "legal-sign"))
    assert out["serial"] in [row["serial"] for row in listed]


def test_a_bad_iin_is_refused_in_one_line(home: Path, tmp_path: Path) -> None:
    good = new_iin()
    bad = good[:11] + str((int(good[11]) + 1) % 10)
    (tmp_path / "pw").write_text("correct horse\n")
    result = run(home, "cert", "issue", "--profile", "individual-sign", "--iin", bad, "--surname", "Ivanov",
                 "--given-name", "Ivan", "--p12-out", str(tmp_path / "x.p12"),
                 "--password-file", str(tmp_path / "pw"), code=2)
    assert "iin" in result.stderr and "checksum" in result.stderr
    assert not (tmp_path / "x.p12").exists()
    assert lines(run(home, "cert", "list", "--iin", bad)) == []


def test_bad_key_source_and_missing_files_exit_2(home: Path, tmp_path: Path) -> None:
    base = ["cert", "issue", "--profile", "individual-sign", "--iin", new_iin(), "--surname", "Ivanov",
            "--given-name", "Ivan"]
    run(home, *base, code=2)
    run(home, *base, "--csr", str(tmp_path / "missing.csr"), code=2)
    result = run(home, *base, "--csr", str(tmp_path / "missing.csr"), "--cert-out", str(tmp_path / "c.pem"), code=2)
    assert "missing.csr" in result.stderr
    run(home, *base, "--p12-out", str(tmp_path / "no-such-dir" / "a.p12"), "--password-file",
        str(tmp_path / "missing"), code=2)
    run(home, "cert", "show", "not-hex", code=2)
    run(home, "cert", "show", "abcdef", code=1)


# -- applications ---------------------------------------------------------------------

def individual_form(iin: str) -> dict:
    return {"iin": iin, "surname": "Seitkali", "given_name": "Nurlan", "region": "Almaty", "city": "Almaty",
            "email": "nurlan@example.kz", "phone": "+7 701 123 45 67", "usage_areas": ["e-government"],
            "eds_tool": "NCALayer", "algorithm": "ECDSA P-256"}


def test_individual_application_submit_approve_list(home: Path, tmp_path: Path) -> None:
    iin = new_iin()
    make_csr(tmp_path / "req.csr")
    form = write_json(tmp_path / "form.json", individual_form(iin))
    atts = write_json(tmp_path / "atts.json", [{"kind": "id-copy", "name": "id.pdf"}])
    view = lines(run(home, "app", "submit", "--kind", "individual", "--form", str(form), "--attachments", str(atts),
                     "--csr", str(tmp_path / "req.csr"), "--actor", "registrar-1"))[0]
    assert view["status"] == "submitted" and view["centre"] == "national" and view["due_date"]
    assert view["id"] in [v["id"] for v in lines(run(home, "app", "list", "--status", "submitted"))]

    approved = lines(run(home, "app", "approve", str(view["id"])))[0]
    assert approved["status"] == "issued" and len(approved["serials"]) == 1
    assert [row["serial"] for row in lines(run(home, "cert", "list", "--iin", iin))] == approved["serials"]
    shown = lines(run(home, "app", "show", str(view["id"])))[0]
    assert shown["certificate_serials"] == approved["serials"]
    result = run(home, "app", "approve", str(view["id"]), code=2)
    assert "already issued" in result.stderr


def test_application_problems_are_listed_and_nothing_is_written(home: Path, tmp_path: Path) -> None:
    form = write_json(tmp_path / "form.json", {**individual_form("123"), "phone": "12"})
    result = run(home, "app", "submit", "--kind", "individual", "--form", str(form), code=2)
    for field in ("form.iin", "form.phone", "csr", "attachments"):
        assert field in result.stderr
    (tmp_path / "broken.json").write_text("{not json")
    run(home, "app", "submit", "--kind", "individual", "--form", str(tmp_path / "broken.json"), code=2)
    run(home, "app", "show", "999999", code=1)


def test_refuse_an_application(home: Path, tmp_path: Path) -> None:
    make_csr(tmp_path / "req.csr")
    form = write_json(tmp_path / "form.json", individual_form(new_iin()))
    atts = write_json(tmp_path / "atts.json", [{"kind": "id-copy", "name": "id.pdf"}])
    view = lines(run(home, "app", "submit", "--kind", "individual", "--form", str(form), "--attachments", str(atts),
                     "--csr", str(tmp_path / "req.csr")))[0]
    run(home, "app", "refuse", str(view["id"]), "--reason", "no-such-reason", "--detail", "x", code=2)
    refused = lines(run(home, "app", "refuse", str(view["id"]), "--reason", "data-mismatch",
                        "--detail", "the name differs from the ID card"))[0]
    assert refused["status"] == "refused" and refused["refusal_reason"] == "data-mismatch"
    listed = lines(run(home, "app", "list", "--ca", "national", "--status", "refused"))
    assert view["id"] in [v["id"] for v in listed]
    assert lines(run(home, "app", "list", "--overdue")) == []


def government_batch(tmp_path: Path, iins: list[str], letter: str) -> tuple[Path, Path]:
    persons = [{"iin": iin, "surname": "Zhaksylykov", "given_name": "Marat", "position": "chief specialist",
                "region": "Astana"} for iin in iins]
    form = write_json(tmp_path / f"gov-{letter.replace('/', '_')}.json", {
        "state_body": "Ministry of Digital Development", "state_body_bin": BIN, "letter_number": letter,
        "letter_date": "2024-03-01", "form_numbers": "F-1", "persons": persons})
    atts = write_json(tmp_path / f"gov-atts-{letter.replace('/', '_')}.json",
                      [{"kind": "official-letter", "name": "letter.pdf"}]
                      + [{"kind": "id-copy", "name": f"{iin}.pdf", "person_iin": iin} for iin in iins])
    return form, atts


def test_government_batch_carriers_journal_and_gov4(home: Path, tmp_path: Path) -> None:
    first, second = new_iin(), new_iin("F")
    form, atts = government_batch(tmp_path, [first, second], "01-12/345")
    view = lines(run(home, "app", "submit", "--kind", "government-batch", "--form", str(form),
                     "--attachments", str(atts)))[0]
    assert view["centre"] == "government"
    run(home, "app", "approve", str(view["id"]), code=2)  # the keys need somewhere to go

    carriers = tmp_path / "carriers"
    given = write_json(tmp_path / "passwords.json", {first: "first-person-pw"})
    approved = lines(run(home, "app", "approve", str(view["id"]), "--passwords", str(given),
                         "--carrier-dir", str(carriers)))[0]
    assert len(approved["serials"]) == 2
    generated = json.loads((carriers / "passwords.json").read_text())
    assert list(generated) == [second]
    assert stat.S_IMODE((carriers / "passwords.json").stat().st_mode) == 0o600
    for iin, password in ((first, "first-person-pw"), (second, generated[second])):
        p12 = carriers / f"{iin}.p12"
        assert approved["carriers"][iin] == str(p12)
        assert stat.S_IMODE(p12.stat().st_mode) == 0o600
        _key, cert, _chain = load_pkcs12(p12.read_bytes(), password.encode())
        assert format(cert.serial_number, "x") in approved["serials"]

    exported = run(home, "journal", "export", "--ca", "government").stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert exported.splitlines()[0] == ",".join(JOURNAL_COLUMNS)
    batch = [r for r in rows if r["letter_number"] == "01-12/345"]
    assert sorted(r["certificate_serial"] for r in batch) == sorted(approved["serials"])
    assert all(r["state_body"] == "Ministry of Digital Development" and r["letter_date"] == "2024-03-01"
               and r["carrier_serial"].startswith("P12-") and r["administrator"] == "cli" for r in batch)
    numbers = [int(r["number"]) for r in rows]
    assert numbers == sorted(set(numbers))
    out = tmp_path / "journal.csv"
    run(home, "journal", "export", "--ca", "government", "--out", str(out))
    assert out.read_text(encoding="utf-8") == exported

    again, again_atts = government_batch(tmp_path, [second], "01-12/346")
    result = run(home, "app", "submit", "--kind", "government-batch", "--form", str(again),
                 "--attachments", str(again_atts), code=2)
    assert "GOV-4" in result.stderr


# -- API keys, serve, main ----------------------------------------------------------

def test_apikey_create(home: Path) -> None:
    out = lines(run(home, "apikey", "create", "--name", "registrar-anna", "--role", "registrar"))[0]
    assert out["name"] == "registrar-anna" and out["role"] == "registrar" and out["key"].startswith("qk_")
    run(home, "apikey", "create", "--name", "registrar-anna", "--role", "registrar", code=2)
    run(home, "apikey", "create", "--name", "someone", "--role", "emperor", code=2)


def test_serve_initialises_then_runs_uvicorn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    for name in ("QOLTANBA_HOME", "QOLTANBA_HOST", "QOLTANBA_PORT"):
        monkeypatch.setenv(name, "placeholder")  # so the test's end restores the original
        monkeypatch.delenv(name)
    home = tmp_path / "served"
    run(home, "serve", "--port", "8123")
    assert calls == [(("api.http.workers:served_app",), {"factory": True, "host": "127.0.0.1", "port": 8123,
                                               "timeout_keep_alive": 5})]
    assert os.environ["QOLTANBA_HOME"] == str(home.resolve())
    assert (os.environ["QOLTANBA_HOST"], os.environ["QOLTANBA_PORT"]) == ("127.0.0.1", "8123")
    assert (home / "bootstrap-admin.key").exists()
    assert lines(run(home, "init"))[0]["initialised"] is False


def test_main_hides_unexpected_tracebacks(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    def boom() -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli, "app", boom)
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: unexpected failure: RuntimeError: disk on fire"


def test_console_script_end_to_end(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "qoltanba"
    if not script.exists():
        pytest.fail("the console script is not installed: run `make install`")
    home = str(tmp_path / "e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QOLTANBA_")}
    env["QOLTANBA_HOME"] = home  # the --home default
    done = subprocess.run([script, "init"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["initialised"] is True
    done = subprocess.run([script, "ca", "chain", "--ca", "government"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0 and len(pems(done.stdout)) == 2
    done = subprocess.run([script, "app", "show", "42"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and done.stderr.strip() == "error: no application 42"
