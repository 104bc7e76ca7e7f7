"""``qoltanba sign`` as a real process on a home with no server running (issue 4).

The home's TSA and OCSP responder answer in-process; the independent judges
(pyHanko's validator from the DSS alone, pdfsig trusting our root through
NSS, qpdf) decide whether the result is a good PAdES signature. A second
home, served over HTTP, plays another issuer whose revocation data has to be
fetched.
"""

from __future__ import annotations

import hashlib
import io
import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

from api.wiring import Services
from tests.support import factories as f
from tests.support.pdf_judges import nss_database, pdfsig, pyhanko_statuses, qpdf_check
from tests.support.pdfs import contract_pdf, encrypted_pdf, not_a_pdf
from tests.support.server import Home, prepare_home, running_server

PASSWORD = "пароль carrier\n"   # the file's one trailing newline is not part of the password


@dataclass(frozen=True)
class Signer:
    p12: Path
    password_file: Path
    serial: str
    root: x509.Certificate


def _carrier(home: Home, directory: Path, name: str) -> Signer:
    """A PKCS#12 from the home's national CA, issued in-process as the revocation tests do."""
    services = Services.build(home.settings())
    try:
        issued = f.issue_person(services, password=PASSWORD.rstrip("\n").encode())
        root = services.hierarchy.chain("national")[-1]
    finally:
        services.close()
    p12, password_file = directory / f"{name}.p12", directory / f"{name}.pw"
    p12.write_bytes(issued.pkcs12)
    password_file.write_text(PASSWORD)
    return Signer(p12, password_file, issued.serial, root)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return prepare_home(tmp_path_factory.mktemp("cli-sign") / "home")


@pytest.fixture(scope="module")
def signer(home: Home, tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return _carrier(home, tmp_path_factory.mktemp("carrier"), "holder")


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("contract") / "contract.pdf"
    path.write_bytes(contract_pdf(pages=2))
    return path


def sign(home: Home, signer: Signer, source: Path, target: Path, *extra: str) -> dict:
    result = home.cli("sign", str(source), str(target), "--p12", str(signer.p12), "--password-file",
                      str(signer.password_file), *extra, check=False)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    [line] = result.stdout.splitlines()
    return json.loads(line)


def refused(home: Home, *args: str) -> str:
    result = home.cli("sign", *args, check=False)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    return lines[0]


def no_server(home: Home) -> None:
    with pytest.raises(OSError):
        urllib.request.urlopen(home.url + "/health", timeout=1)


def audit_entries(home: Home, action: str) -> list:
    services = Services.build(home.settings())
    try:
        with services.registry.transaction(readonly=True) as tx:
            return [row for row in tx.audit.entries(limit=100_000) if row.action == action]
    finally:
        services.close()


def test_b_lt_on_the_home_alone_is_valid_for_pyhanko_pdfsig_and_qpdf(home: Home, signer: Signer,
                                                                     contract: Path, tmp_path: Path) -> None:
    no_server(home)
    out = tmp_path / "signed.pdf"
    shown = sign(home, signer, contract, out, "--level", "B-LT", "--reason", "Contract MK-2026/001",
                 "--location", "Алматы")
    pdf = out.read_bytes()
    assert shown == {"out": str(out), "field": "Signature1", "level": "B-LT", "signer": "ТЕСТОВ ТЕСТ",
                     "serial": signer.serial, "sha256": hashlib.sha256(pdf).hexdigest()}
    assert pdf.startswith(contract.read_bytes())   # an incremental update of the input

    [status] = pyhanko_statuses(pdf, signer.root, revocation=True)   # revocation data from the DSS only
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.signing_cert.serial_number == int(signer.serial, 16)
    sig = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[0].sig_object
    assert (sig["/Reason"], sig["/Location"]) == ("Contract MK-2026/001", "Алматы")

    # pdfsig reads no DSS and the home's responder is not served: its chain check runs offline.
    [judged] = pdfsig(out, nss_database(tmp_path / "nss", signer.root), ocsp=False)
    assert judged.signature_valid and judged.certificate == "Certificate is Trusted.", judged.raw
    ok, report = qpdf_check(out)
    assert ok, report

    in_sha256 = hashlib.sha256(contract.read_bytes()).hexdigest()
    [entry] = [e for e in audit_entries(home, "document.signed.cli")
               if e.details["out_sha256"] == shown["sha256"]]
    assert (entry.actor, entry.subject, entry.details["in_sha256"]) == ("cli", f"document:{in_sha256[:32]}",
                                                                        in_sha256)
    assert (entry.details["signer_serial"], entry.details["level"], entry.details["field"]) == \
        (signer.serial, "B-LT", "Signature1")
    assert "пароль" not in json.dumps(entry.details, ensure_ascii=False)


def test_a_locking_second_signature_keeps_the_first_valid_and_then_nothing_more(
        home: Home, signer: Signer, contract: Path, tmp_path: Path) -> None:
    # A co-signer with a certificate of their own: poppler 22.12's pdfsig
    # reports "Unknown issue" for the second of two signatures by one certificate.
    cosigner = _carrier(home, tmp_path, "lender")
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    sign(home, signer, contract, first)
    shown = sign(home, cosigner, first, second, "--lock")
    assert (shown["field"], shown["level"], shown["serial"]) == ("Signature2", "B-LT", cosigner.serial)
    pdf = second.read_bytes()
    statuses = pyhanko_statuses(pdf, signer.root, revocation=True)
    assert [s.signing_cert.serial_number for s in statuses] == [int(signer.serial, 16), int(cosigner.serial, 16)]
    for status in statuses:
        assert status.bottom_line, status.pretty_print_details()
    lock = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[1].sig_field["/Lock"]
    assert lock["/Action"] == "/All" and lock["/P"] == 1
    judged = pdfsig(second, nss_database(tmp_path / "nss", signer.root), ocsp=False)
    assert [j.field for j in judged] == ["Signature1", "Signature2"]
    assert all(j.signature_valid and j.certificate == "Certificate is Trusted." for j in judged), judged
    # A third signature would break the lock: refused.
    assert "locked by its signature Signature2" in refused(
        home, str(second), str(tmp_path / "third.pdf"), "--p12", str(signer.p12),
        "--password-file", str(signer.password_file))
    assert not (tmp_path / "third.pdf").exists()


@pytest.mark.parametrize("level", ["B-B", "B-LTA"])
def test_b_b_has_no_dss_and_b_lta_adds_a_document_time_stamp(home: Home, signer: Signer, contract: Path,
                                                              tmp_path: Path, level: str) -> None:
    out = tmp_path / "signed.pdf"
    assert sign(home, signer, contract, out, "--level", level.lower())["level"] == level
    reader = PdfFileReader(io.BytesIO(out.read_bytes()))
    [signature] = reader.embedded_regular_signatures
    unsigned = signature.signer_info["unsigned_attrs"].native or []
    assert any(a["type"] == "signature_time_stamp_token" for a in unsigned) == (level == "B-LTA")
    assert ("/DSS" in reader.root) == (level == "B-LTA")
    assert len(reader.embedded_timestamp_signatures) == (1 if level == "B-LTA" else 0)
    [status] = pyhanko_statuses(out.read_bytes(), signer.root, revocation=level == "B-LTA")
    assert status.bottom_line, status.pretty_print_details()


def _bad_inputs(home: Home, signer: Signer, contract: Path, tmp: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (arguments, what the one-line refusal says)."""
    (tmp / "wrong.pw").write_text("not the password\n")
    (tmp / "word.pdf").write_bytes(not_a_pdf())
    (tmp / "encrypted.pdf").write_bytes(encrypted_pdf())
    (tmp / "exists.pdf").write_bytes(b"an earlier result")
    (tmp / "empty-home").mkdir()
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp / "keyonly.p12").write_bytes(pkcs12.serialize_key_and_certificates(
        b"no certificate", key, None, None, serialization.BestAvailableEncryption(PASSWORD.rstrip("\n").encode())))
    carrier = ["--p12", str(signer.p12), "--password-file", str(signer.password_file)]
    out = str(tmp / "out.pdf")
    return {
        "wrong-password": ([str(contract), out, "--p12", str(signer.p12), "--password-file",
                            str(tmp / "wrong.pw")], "wrong password"),
        "not-a-pkcs12": ([str(contract), out, "--p12", str(contract), "--password-file",
                          str(signer.password_file)], "not a PKCS#12"),
        "no-certificate": ([str(contract), out, "--p12", str(tmp / "keyonly.p12"), "--password-file",
                            str(signer.password_file)], "no certificate"),
        "not-a-pdf": ([str(tmp / "word.pdf"), out, *carrier], "is not a PDF"),
        "encrypted": ([str(tmp / "encrypted.pdf"), out, *carrier], "encrypted"),
        "missing-file": ([str(tmp / "absent.pdf"), out, *carrier], "No such file"),
        "existing-out": ([str(contract), str(tmp / "exists.pdf"), *carrier], "--force"),
        "unwritable-out": ([str(contract), str(tmp / "no-such-dir" / "out.pdf"), *carrier],
                           "not a writable directory"),
        "unknown-level": ([str(contract), out, *carrier, "--level", "B-XL"], "unknown level"),
        "field-present": ([str(home.path / "signed-once.pdf"), out, *carrier, "--field", "Signature1"],
                          "Signature1"),
        "uninitialised-home": ([str(contract), out, *carrier, "--home", str(tmp / "empty-home")],
                               "qoltanba init"),
        "no-home": ([str(contract), out, *carrier, "--home", str(tmp / "absent-home")], "does not exist"),
    }


BAD = ["wrong-password", "not-a-pkcs12", "no-certificate", "not-a-pdf", "encrypted", "missing-file",
       "existing-out", "unwritable-out", "unknown-level", "field-present", "uninitialised-home", "no-home"]


@pytest.fixture(scope="module")
def signed_once(home: Home, signer: Signer, contract: Path) -> Path:
    path = home.path / "signed-once.pdf"
    sign(home, signer, contract, path, "--level", "B-B")
    return path


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(home: Home, signer: Signer, contract: Path,
                                                         signed_once: Path, tmp_path: Path, case: str) -> None:
    before = len(audit_entries(home, "document.signed.cli")) if case == "wrong-password" else None
    args, says = _bad_inputs(home, signer, contract, tmp_path)[case]
    assert says in refused(home, *args)
    assert not (tmp_path / "out.pdf").exists()
    assert (tmp_path / "exists.pdf").read_bytes() == b"an earlier result"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []   # no temporary file
    assert not (tmp_path / "absent-home").exists()
    if before is not None:
        assert len(audit_entries(home, "document.signed.cli")) == before


def test_a_revoked_certificate_of_ours_signs_nothing(home: Home, contract: Path, tmp_path: Path) -> None:
    from ca.revocation import RevocationRequest

    holder = _carrier(home, tmp_path, "revoked")
    services = Services.build(home.settings())
    try:
        services.revocations.revoke(RevocationRequest(serial=holder.serial, actor="test", reason="key-compromise",
                                                      ground="holder-application", administrator=True))
    finally:
        services.close()
    assert "is revoked" in refused(home, str(contract), str(tmp_path / "out.pdf"), "--p12", str(holder.p12),
                                   "--password-file", str(holder.password_file))
    assert not (tmp_path / "out.pdf").exists()


def test_force_overwrites_an_existing_out(home: Home, signer: Signer, contract: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    out.write_bytes(b"an earlier result")
    shown = sign(home, signer, contract, out, "--level", "B-B", "--force", "--field", "Borrower")
    assert shown["field"] == "Borrower" and hashlib.sha256(out.read_bytes()).hexdigest() == shown["sha256"]


def test_another_issuers_certificate_gets_its_revocation_data_over_http(
        home: Home, contract: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The second home's national CA is "another issuer": its OCSP answers over HTTP, the TSA is still ours."""
    work = tmp_path_factory.mktemp("other-issuer")
    other = prepare_home(work / "other-home")
    foreign = _carrier(other, work, "foreign")
    ours = _carrier(home, work, "ours")   # for our root, which the TSA chains to
    out = work / "signed.pdf"
    offline = home.cli("sign", str(contract), str(out), "--p12", str(foreign.p12), "--password-file",
                       str(foreign.password_file), check=False)
    assert offline.returncode == 1 and not out.exists(), offline.stderr
    [line] = offline.stderr.strip().splitlines()
    assert line.startswith("error: cannot embed revocation data") and "Connection refused" in line, line
    with running_server(other):
        shown = sign(home, foreign, contract, out, "--level", "B-LT")
    assert shown["serial"] == foreign.serial
    pdf = out.read_bytes()
    # Only the other home's responder knows this serial: its answer is in the DSS.
    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(pdf)))
    answered = {ocsp.load_der_ocsp_response(ref.get_object().data).serial_number for ref in dss.ocsps}
    assert int(foreign.serial, 16) in answered
    [status] = pyhanko_statuses(pdf, foreign.root, revocation=True, extra_roots=[ours.root])
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
