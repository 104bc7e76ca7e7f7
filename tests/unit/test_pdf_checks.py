"""The PDF checks run before a document is stored: each bad input is refused with its own reason."""

from __future__ import annotations

import re

import pytest

from signing.pdf_checks import pdf_problems
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
