"""Real PDFs for the document tests, made with pyHanko's writer, and the bad inputs a service meets.

``contract_pdf`` makes an N-page contract with text in a standard font;
``incremental_update`` appends a revision the way a signature does; the
other makers spoil a good file in one precise way each.
"""

from __future__ import annotations

import io
import re

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.crypt import StandardSecurityHandler
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PdfFileWriter

_A4 = (0, 0, 595, 842)


def _name(value: str) -> generic.NameObject:
    return generic.pdf_name(value)


def _writer(pages: int, text: str, *, stream_xrefs: bool = True) -> PdfFileWriter:
    writer = PdfFileWriter(stream_xrefs=stream_xrefs)
    font = writer.add_object(generic.DictionaryObject({
        _name("/Type"): _name("/Font"), _name("/Subtype"): _name("/Type1"),
        _name("/BaseFont"): _name("/Helvetica"), _name("/Encoding"): _name("/WinAnsiEncoding")}))
    for number in range(1, pages + 1):
        lines = [text, f"Page {number} of {pages}", "The borrower had two hours to read the terms: LOAN-5."]
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 770 Td"]
        ops += [f"({line.replace('(', '[').replace(')', ']')}) Tj T*" for line in lines]
        ops.append("ET")
        content = writer.add_object(generic.StreamObject(stream_data="\n".join(ops).encode("latin-1")))
        writer.insert_page(generic.DictionaryObject({
            _name("/Type"): _name("/Page"),
            _name("/MediaBox"): generic.ArrayObject([generic.NumberObject(x) for x in _A4]),
            _name("/Resources"): generic.DictionaryObject({
                _name("/Font"): generic.DictionaryObject({_name("/F1"): font})}),
            _name("/Contents"): content}))
    return writer


def _bytes(writer: PdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def contract_pdf(pages: int = 2, text: str = "Microcredit contract MK-2026/001") -> bytes:
    return _bytes(_writer(pages, text))


def incremental_update(pdf: bytes, note: str = "signature") -> bytes:
    """A new revision appended to ``pdf`` (what a signature, DSS or time-stamp does): same bytes, then more."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    info = generic.DictionaryObject({_name("/Subject"): generic.TextStringObject(note)})
    writer.trailer["/Info"] = writer.add_object(info)
    out = io.BytesIO()
    writer.write(out)
    updated = out.getvalue()
    assert updated.startswith(pdf) and len(updated) > len(pdf)
    return updated


def encrypted_pdf(pages: int = 1) -> bytes:
    """Opens without a password but is encrypted (an owner password restricts it): /Encrypt in the trailer."""
    writer = _writer(pages, "Encrypted contract")
    writer._assign_security_handler(StandardSecurityHandler.build_from_pw("owner-secret", ""))  # noqa: SLF001
    return _bytes(writer)


def no_pages_pdf() -> bytes:
    return _bytes(PdfFileWriter())


def broken_xref_pdf() -> bytes:
    """A classic cross-reference table whose every offset points three bytes too far."""
    pdf = _bytes(_writer(2, "Contract with a broken xref", stream_xrefs=False))
    start = pdf.rindex(b"\nxref\n") + 1
    table = re.sub(rb"(\d{10}) (\d{5}) n", lambda m: b"%010d %s n" % (int(m.group(1)) + 3, m.group(2)), pdf[start:])
    return pdf[:start] + table


def bad_startxref_pdf() -> bytes:
    """``startxref`` names an offset where no cross-reference section starts."""
    pdf = contract_pdf(1)
    found = list(re.finditer(rb"startxref\s+(\d+)", pdf))[-1]
    return pdf[:found.start(1)] + str(int(found.group(1)) + 7).encode() + pdf[found.end(1):]


def truncated_pdf() -> bytes:
    pdf = contract_pdf(3)
    return pdf[: len(pdf) // 2]


def not_a_pdf() -> bytes:
    return b"PK\x03\x04 this is a word-processor file, not a PDF" + bytes(200)


BAD_INPUTS = {
    "encrypted": (encrypted_pdf, "encrypted"),
    "broken-xref": (broken_xref_pdf, "cross-reference"),
    "bad-startxref": (bad_startxref_pdf, "cross-reference"),
    "truncated": (truncated_pdf, "cross-reference"),
    "not-a-pdf": (not_a_pdf, "not a PDF"),
    "no-pages": (no_pages_pdf, "no pages"),
}
"""name -> (maker, what the refusal says)."""
