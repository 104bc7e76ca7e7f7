"""The signature stamp in a contract signed twice through pyHanko's PdfSigner, judged by other tools.

A 2-page contract is signed by a client (a person with an IIN, Kazakh
letters in the name) and then by the MFO's seal (a legal entity with a
BIN), each with our stamp on the last page; the seal's stamp uses the
other options (QR code on the right, a fixed mask). Then: pyHanko's validator
(both signatures intact and trusted, the second one no illegal change to
the first), ``qpdf --check``, ``pdftotext`` on the last page, ``pdftoppm``
and ``zbarimg`` for the QR codes, and qpdf's object listing for the one
embedded font.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.stamps import QoltanbaStampStyle, StampContent, field_spec, last_page_size, stamp_text_params
from tests.support.stamp_pdfs import Holder, ThrowawayCA, contract_pdf
from tests.support.tools import require_tool

pytestmark = pytest.mark.interop

_TIMEOUT = 120
URL = "https://qoltanba.example.kz/verify/3f2b8c1e-9a7d-4e5f-8b6a-1c2d3e4f5a6b"
CLIENT_NAME = "ӘБДІҒАППАР ҚҰРМАНҒАЛИ ТӨЛЕУҰЛЫ"
CLIENT_IIN = "123456789012"
SEAL_NAME = "ТОО «МҚҰ ШАҢЫРАҚ ҮЙ»"
SEAL_BIN = "190340000017"
CLIENT_TIME = dt.datetime(2026, 11, 21, 10, 4, 5, tzinfo=dt.timezone.utc)
SEAL_TIME = dt.datetime(2026, 11, 21, 10, 4, 7, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class SignedContract:
    pdf: bytes
    root: Holder
    client: Holder
    seal: Holder


def _hex_serial(holder: Holder) -> str:
    serial = holder.certificate.serial_number
    return serial.to_bytes((serial.bit_length() + 7) // 8, "big").hex().upper()


def _simple_signer(holder: Holder, root: Holder) -> SimpleSigner:
    key = holder.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    return SimpleSigner(asn1_x509.Certificate.load(holder.certificate_der()), asn1_keys.PrivateKeyInfo.load(key),
                        SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(root.certificate_der())]))


def _sign(pdf: bytes, holder: Holder, root: Holder, name: str, index: int, content: StampContent,
          style: QoltanbaStampStyle) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    signer = PdfSigner(PdfSignatureMetadata(field_name=name), signer=_simple_signer(holder, root), stamp_style=style,
                       new_field_spec=field_spec(name, index, last_page_size(writer)))
    return signer.sign_pdf(writer, appearance_text_params=stamp_text_params(content)).getvalue()


@pytest.fixture(scope="module")
def signed() -> SignedContract:
    ca = ThrowawayCA()
    client = ca.issue(CLIENT_NAME, iin=CLIENT_IIN)
    seal = ca.issue(SEAL_NAME, bin_=SEAL_BIN, organisation=SEAL_NAME)
    pdf = _sign(contract_pdf(2), client, ca.root, "Client", 0, StampContent(
        signer_name=CLIENT_NAME, serial=client.certificate.serial_number, signed_at=CLIENT_TIME,
        role="Client", verify_url=URL, iin=CLIENT_IIN), QoltanbaStampStyle())
    pdf = _sign(pdf, seal, ca.root, "Seal", 1, StampContent(
        signer_name=SEAL_NAME, serial=seal.certificate.serial_number, signed_at=SEAL_TIME,
        role="MFO seal", verify_url=URL, bin=SEAL_BIN), QoltanbaStampStyle(qr_mask=0, qr_side="right"))
    return SignedContract(pdf, ca.root, client, seal)


@pytest.fixture
def pdf_file(signed: SignedContract, tmp_path: Path) -> Path:
    path = tmp_path / "contract-signed.pdf"
    path.write_bytes(signed.pdf)
    return path


def _run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=_TIMEOUT)


def test_pyhanko_finds_both_signatures_intact_and_trusted(signed: SignedContract) -> None:
    reader = PdfFileReader(io.BytesIO(signed.pdf))
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(signed.root.certificate_der())],
                                allow_fetching=False)
    statuses = {s.field_name: validate_pdf_signature(s, context) for s in reader.embedded_signatures}
    assert set(statuses) == {"Client", "Seal"}
    for name, status in statuses.items():
        assert status.intact and status.valid and status.trusted, f"{name}: {status.pretty_print_details()}"
        assert status.bottom_line, name
    assert statuses["Seal"].coverage == SignatureCoverageLevel.ENTIRE_FILE
    # The seal's revision (new field, its widget and stamp, reusing the font)
    # is form filling at most for the client's signature: nothing illegal.
    client = statuses["Client"]
    assert client.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert client.docmdp_ok
    assert client.modification_level is not None
    assert client.modification_level <= ModificationLevel.FORM_FILLING
    assert client.diff_result.changed_form_fields == {"Seal"}


def test_qpdf_check_finds_no_errors(pdf_file: Path) -> None:
    qpdf = require_tool("qpdf")
    proc = _run(qpdf, "--check", pdf_file)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No syntax or stream encoding errors found" in proc.stdout


def _page_count(pdf_file: Path) -> int:
    proc = _run(require_tool("qpdf"), "--show-npages", pdf_file)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout)


def test_pdftotext_reads_both_stamps_on_the_last_page(signed: SignedContract, pdf_file: Path) -> None:
    pdftotext = require_tool("pdftotext")
    last = _page_count(pdf_file)
    assert last == 2
    proc = _run(pdftotext, "-enc", "UTF-8", "-f", str(last), "-l", str(last), pdf_file, "-")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for expected in (CLIENT_NAME, f"IIN {CLIENT_IIN}", f"Serial {_hex_serial(signed.client)}",
                     "2026-11-21 15:04:05 (Asia/Almaty, UTC+5)", "Client",
                     SEAL_NAME, f"BIN {SEAL_BIN}", f"Serial {_hex_serial(signed.seal)}",
                     "2026-11-21 15:04:07 (Asia/Almaty, UTC+5)", "MFO seal"):
        assert expected in text, f"{expected!r} not in:\n{text}"
    first_page = _run(pdftotext, "-enc", "UTF-8", "-f", "1", "-l", "1", pdf_file, "-").stdout
    assert CLIENT_IIN not in first_page


def test_both_qr_codes_decode_to_the_verification_url(pdf_file: Path, tmp_path: Path) -> None:
    pdftoppm = require_tool("pdftoppm")
    zbarimg = require_tool("zbarimg")
    last = str(_page_count(pdf_file))
    proc = _run(pdftoppm, "-r", "200", "-png", "-f", last, "-l", last, "-singlefile", pdf_file, tmp_path / "page")
    assert proc.returncode == 0, proc.stderr
    proc = _run(zbarimg, "--raw", "-q", tmp_path / "page.png")
    assert proc.returncode == 0, f"zbarimg found no symbol: {proc.stderr}"
    assert proc.stdout.split() == [URL, URL]


def test_font_is_embedded_once_for_both_stamps(pdf_file: Path) -> None:
    qpdf = require_tool("qpdf")
    proc = _run(qpdf, "--json=2", "--json-key=qpdf", pdf_file)
    assert proc.returncode == 0, proc.stderr
    objects = json.loads(proc.stdout)["qpdf"][1]
    descriptors = [o["value"] for o in objects.values()
                   if isinstance(o.get("value"), dict) and "/FontFile2" in o["value"]]
    ours = [d for d in descriptors if d["/FontName"].endswith("+DejaVuSansCondensed")]
    assert len(ours) == 1, descriptors
    type0 = [o["value"] for o in objects.values()
             if isinstance(o.get("value"), dict) and o["value"].get("/Subtype") == "/Type0"]
    assert len(type0) == 1 and type0[0]["/Encoding"] == "/Identity-H" and "/ToUnicode" in type0[0]
