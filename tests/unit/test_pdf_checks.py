"""The PDF checks run before a document is stored: each bad input is refused with its own reason."""

from __future__ import annotations

import re

import pytest

from signing.documents.pdf_checks import field_taken, locked_by, pdf_problems, signature_fields
from tests.support import pdfs


def test_a_generated_contract_passes_and_so_does_its_incremental_update():
    pdf = pdfs.contract_pdf(3)
    assert pdf_problems(pdf, max_bytes=len(pdf)) == []
    assert pdf_problems(pdfs.incremental_update(pdf), max_bytes=None) == []


@pytest.mark.parametrize("name", sorted(pdfs.BAD_INPUTS))
def test_each_bad_pdf_is_refused_with_its_reason(name):
    maker, reason = pdfs.BAD_INPUTS[name]
    problems = pdf_problems(maker(), max_bytes=None)
    assert len(problems) == 1 and problems[0].field == "file"
    assert reason in problems[0].message


def test_over_the_size_limit_is_refused_before_it_is_parsed():
    pdf = pdfs.contract_pdf(1)
    (problem,) = pdf_problems(pdf, max_bytes=len(pdf) - 1)
    assert "over the limit" in problem.message


def test_an_empty_upload_is_refused():
    (problem,) = pdf_problems(b"", max_bytes=None, field="pdf")
    assert problem.field == "pdf" and "empty" in problem.message


def test_a_page_tree_that_loops_is_damaged():
    pdf = pdfs.contract_pdf(1)
    # Point /Kids of the page tree root (object 2) back at itself; same length, so every offset still holds.
    looped, count = re.subn(rb"/Kids \[ \d 0 R \]", b"/Kids [ 2 0 R ]", pdf)
    assert count == 1 and len(looped) == len(pdf)
    (problem,) = pdf_problems(looped, max_bytes=None)
    assert "damaged" in problem.message and "twice" in problem.message


def _with_fields(pdf: bytes) -> bytes:
    """An empty signature field ``Witness`` and a text field ``Amount``, as an incremental update."""
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    fields.append_signature_field(writer, fields.SigFieldSpec("Witness", box=(10, 10, 100, 40)))
    text = writer.add_object(generic.DictionaryObject({
        generic.pdf_name("/FT"): generic.pdf_name("/Tx"), generic.pdf_name("/T"): generic.pdf_string("Amount")}))
    writer.root["/AcroForm"]["/Fields"].append(text)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_new_signature_field_may_not_reuse_the_name_of_any_field():
    pdf = _with_fields(pdfs.contract_pdf(1))
    assert signature_fields(pdfs.contract_pdf(1)) == [] and signature_fields(pdf) == ["Witness"]
    assert field_taken(pdf, "Witness") and field_taken(pdf, "Amount")
    assert not field_taken(pdf, "Signature1")


def test_an_unsigned_document_is_locked_by_nothing():
    assert locked_by(_with_fields(pdfs.contract_pdf(1))) is None
