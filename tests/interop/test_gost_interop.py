"""GOST-signed PDFs (DOMAIN.md KZ-5) before the independent judges: qpdf, pyHanko, and what pdfsig can say.

poppler's pdfsig (NSS) has no GOST: it reads the signature dictionary and
the signer but answers "Unrecognized Hash ID" for Streebog. So the judges
of the signature itself are pyHanko's validation (with only
``keys.gost.GOST_SIGNATURE_VALIDATOR`` added) and ``qpdf --check`` for the
file's structure; pdfsig is asked only what it can read.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from keys.gost import GOST_SIGNATURE_VALIDATOR, TC26_256_A, TC26_512_A, GostPrivateKey
from tests.support.gost_pdfs import SIGNED_AT, engine_signed_pdf, pyhanko_signed_pdf
from tests.support.gost_pki import gost_end_entity, gost_root
from tests.support.pdf_judges import pdfsig, qpdf_check
from tests.support.verification import tampered

AT = SIGNED_AT


@pytest.fixture(scope="module")
def root():
    return gost_root()


@pytest.fixture(scope="module", params=[("pyhanko", 512), ("engine", 512), ("pyhanko", 256), ("engine", 256)],
                ids=lambda p: f"{p[0]}-{p[1]}")
def signed(request, root):
    maker, bits = request.param
    key = GostPrivateKey.generate(TC26_512_A if bits == 512 else TC26_256_A)
    cert = gost_end_entity(root, key.public_key())
    make = pyhanko_signed_pdf if maker == "pyhanko" else engine_signed_pdf
    return make(key, cert, (root.certificate,))


def _status(pdf: bytes, root):
    (embedded,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    context = ValidationContext(trust_roots=[root.certificate], moment=AT,
                                signature_validator=GOST_SIGNATURE_VALIDATOR)
    return validate_pdf_signature(embedded, context)


def test_kz5_qpdf_finds_no_damage_in_a_gost_signed_pdf(signed, tmp_path: Path) -> None:
    path = tmp_path / "gost.pdf"
    path.write_bytes(signed)
    ok, output = qpdf_check(path)
    assert ok, output


def test_kz5_pyhanko_validation_with_the_gost_validator_accepts_ours_and_refuses_a_changed_byte(signed, root) -> None:
    status = _status(signed, root)
    assert (status.intact, status.valid, status.trusted) == (True, True, True), status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.pkcs7_signature_mechanism.startswith("kz_gost3410_2015_")
    spoilt = _status(tampered(signed), root)
    assert not spoilt.intact and not spoilt.trusted


def test_pdfsig_reads_the_gost_signature_but_cannot_check_streebog(signed, tmp_path: Path) -> None:
    path = tmp_path / "gost.pdf"
    path.write_bytes(signed)
    (entry,) = pdfsig(path, ocsp=False)
    assert entry.field == "Client-Signature" and entry.total_document
    assert "ТЕСТОВ ТЕСТ" in entry.raw
    # NSS has no Streebog: pdfsig neither confirms nor (wrongly) calls the signature forged by content.
    assert not entry.signature_valid
