"""Independent judges of signed PDFs: poppler's pdfsig (NSS), qpdf, pyHanko's validator.

pdfsig checks signatures with NSS; to make it trust our hierarchy the root
is imported into a throwaway NSS database (certutil, libnss3-tools) that
pdfsig reads with ``-nssdir``.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support.tools import require_tool

_TIMEOUT = 120


@dataclass(frozen=True)
class PdfsigSignature:
    field: str
    signature_valid: bool
    certificate: str
    total_document: bool
    raw: str


def nss_database(directory: Path, root: x509.Certificate) -> Path:
    """An NSS database in ``directory`` that trusts ``root`` for signing."""
    certutil = require_tool("certutil")
    directory.mkdir(parents=True, exist_ok=True)
    pem = directory / "root.pem"
    pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    subprocess.run([certutil, "-N", "-d", f"sql:{directory}", "--empty-password"], check=True,
                   capture_output=True, timeout=_TIMEOUT)
    subprocess.run([certutil, "-A", "-d", f"sql:{directory}", "-n", "qoltanba-root", "-t", "CT,C,C",
                    "-i", str(pem)], check=True, capture_output=True, timeout=_TIMEOUT)
    return directory


def pdfsig(path: Path, nss_dir: Path | None = None, *, ocsp: bool = True) -> list[PdfsigSignature]:
    """What ``pdfsig`` says of each signature (it exits non-zero when one is bad).

    ``ocsp`` False: no online OCSP check. pdfsig does not read the DSS, so
    with no responder to reach NSS reports "Unknown issue" instead of a
    trusted chain; the revocation data in the DSS is pyHanko's to judge.
    """
    tool = require_tool("pdfsig")
    args = [tool, *(["-nssdir", f"sql:{nss_dir}"] if nss_dir else []), *([] if ocsp else ["-no-ocsp"]), str(path)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=_TIMEOUT)
    blocks = re.split(r"^Signature #\d+:\s*$", result.stdout, flags=re.M)[1:]
    signatures = []
    for block in blocks:
        field = re.search(r"Signature Field Name: (.*)", block)
        validation = re.search(r"Signature Validation: (.*)", block)
        certificate = re.search(r"Certificate Validation: (.*)", block)
        signatures.append(PdfsigSignature(
            field=field.group(1).strip() if field else "",
            signature_valid=bool(validation and validation.group(1).strip() == "Signature is Valid."),
            certificate=certificate.group(1).strip() if certificate else "",
            total_document="Total document signed" in block, raw=block))
    return signatures


def qpdf_check(path: Path) -> tuple[bool, str]:
    """(no damage found, qpdf's output) for ``qpdf --check``."""
    tool = require_tool("qpdf")
    result = subprocess.run([tool, "--check", str(path)], capture_output=True, text=True, timeout=_TIMEOUT)
    # Exit 0: fine; 3: warnings only; 2: errors.
    return result.returncode == 0, result.stdout + result.stderr


def pyhanko_statuses(pdf: bytes, root: x509.Certificate, *, revocation: bool = False,
                     extra_roots: Sequence[x509.Certificate] = ()):
    """pyHanko's validation status of each embedded signature, trusting ``root`` (and ``extra_roots``).

    With ``revocation`` the revocation data must come from the document
    itself (the DSS, PAdES B-LT): fetching is off and missing data fails.
    ``extra_roots``: e.g. the time-stamp authority's root when the signer's
    certificate is from another hierarchy.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    anchors = [asn1_x509.Certificate.load(r.public_bytes(serialization.Encoding.DER)) for r in (root, *extra_roots)]
    reader = PdfFileReader(io.BytesIO(pdf))
    statuses = []
    for sig in reader.embedded_regular_signatures:
        if revocation:
            from pyhanko.sign.validation.dss import DocumentSecurityStore
            dss = DocumentSecurityStore.read_dss(reader)
            context = dss.as_validation_context({"trust_roots": anchors, "allow_fetching": False,
                                                 "revocation_mode": "hard-fail"})
        else:
            context = ValidationContext(trust_roots=anchors, allow_fetching=False, revocation_mode="soft-fail")
        statuses.append(validate_pdf_signature(sig, context))
    return statuses


def pyhanko_timestamp_statuses(pdf: bytes, root: x509.Certificate):
    """pyHanko's status of each document time-stamp (PAdES B-LTA), trusting ``root``."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    anchor = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    reader = PdfFileReader(io.BytesIO(pdf))
    return [validate_pdf_timestamp(sig, ValidationContext(trust_roots=[anchor], allow_fetching=False,
                                                          revocation_mode="soft-fail"))
            for sig in reader.embedded_timestamp_signatures]


def last_page_text(path: Path, pages: int) -> str:
    """What ``pdftotext`` reads on page ``pages`` (the last one)."""
    tool = require_tool("pdftotext")
    return subprocess.run([tool, "-enc", "UTF-8", "-f", str(pages), "-l", str(pages), str(path), "-"],
                          capture_output=True, text=True, check=True, timeout=_TIMEOUT).stdout


def qr_codes_on_page(path: Path, page: int, workdir: Path) -> list[str]:
    """The QR codes ``zbarimg`` reads on one page rendered by ``pdftoppm`` at 200 dpi."""
    pdftoppm, zbarimg = require_tool("pdftoppm"), require_tool("zbarimg")
    subprocess.run([pdftoppm, "-r", "200", "-png", "-f", str(page), "-l", str(page), "-singlefile", str(path),
                    str(workdir / "page")], check=True, capture_output=True, timeout=_TIMEOUT)
    result = subprocess.run([zbarimg, "--raw", "-q", str(workdir / "page.png")], capture_output=True, text=True,
                            timeout=_TIMEOUT)
    return [line for line in result.stdout.splitlines() if line]
