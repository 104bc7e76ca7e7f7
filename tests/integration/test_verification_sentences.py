"""Every sentence a verification answers is one a lawyer can read: no exception's name (issue 14, item 5).

The junk detached CMS of the issue goes through ``POST /verify`` (the
route, its worker process, problem+json); every hostile input of the
robustness suite goes through the verifier in process, and each refusal,
warning, reason and sentence it gives is searched for a Python or library
exception's class name.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from signing.verification.context import UnverifiableInput
from signing.verification.words import CMS_UNREADABLE, why_unreadable
from tests.support.hostile_pdfs import HOSTILE
from tests.support.pdfs import BAD_INPUTS
from tests.support.signing import embedded_services
from tests.support.verification import signed_contract, verifier_of

PROBLEM = "application/problem+json"
# A class name as Python and the libraries spell them: ValueError, PdfReadError, CMSStructuralError, KeyError ...
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*(Error|Exception|Exceeded)\b")
JUNK_CMS = b"\x30\x82\xff\xff" + bytes(64)


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    with embedded_services(tmp_path_factory.mktemp("verify-words") / "home", "77" * 32) as svc:
        yield svc


@pytest.fixture(scope="module")
def anon(services):
    from api.http.app import create_app

    with TestClient(create_app(services=services)) as client:
        yield client


def _texts(report) -> list[str]:  # noqa: ANN001 - VerificationReport
    texts = [report.sentence(), *report.warnings]
    for entry in report.signatures:
        texts += [entry.sentence or "", entry.verdict.reason or "", *entry.warnings]
    return texts


def test_post_verify_with_a_junk_detached_cms_answers_a_sentence_not_an_exception_name(anon) -> None:
    """The issue's case: 422 problem+json saying what is wrong with the CMS, in words, and nothing else."""
    response = anon.post("/verify", files={"file": ("s.p7s", JUNK_CMS), "detached": ("s.txt", b"the contract")})
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM), response.text
    problem = response.json()
    assert problem["code"] == "unverifiable"
    assert problem["detail"] == CMS_UNREADABLE
    assert not EXCEPTION_NAME.search(response.text), response.text


def test_no_refusal_warning_reason_or_sentence_names_an_exception(services) -> None:
    verifier = verifier_of(services)
    signed = signed_contract(services, "B-LT")[0]
    inputs = {name: make() for name, make in HOSTILE.items() if name != "huge-array"}
    inputs.update({f"bad-{name}": make() for name, (make, _reason) in BAD_INPUTS.items()})
    inputs.update({"signed-truncated": signed[: len(signed) // 2],
                   "signed-xref-shifted": signed.replace(b"startxref\n", b"startxref\n1", 1),
                   "signature-garbled": signed.replace(b"/Contents <30", b"/Contents <31", 1),
                   "cms-garbage": JUNK_CMS, "cms-base64-garbage": b"MIIB" + b"A" * 60})
    said = {}
    for name, data in inputs.items():
        try:
            said[name] = _texts(verifier.verify(data))
        except UnverifiableInput as refusal:
            said[name] = [refusal.detail]
    named = {name: text for name, texts in said.items() for text in texts if EXCEPTION_NAME.search(text)}
    assert not named, named
    # The refusals and failed entries still say something.
    assert all(any(texts) for texts in said.values()), said
    assert said["cms-garbage"] == [CMS_UNREADABLE]


@pytest.mark.parametrize(("error", "words"), [
    (ValueError("bad tag"), "its bytes do not form the structure the standard prescribes"),
    (RecursionError(), "its parts refer to each other in an endless loop"),
    (KeyError("/Root"), "a part the standard requires is missing"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "it holds text in an encoding that cannot be read"),
    (RuntimeError("anything else"), "its content could not be interpreted"),
])
def test_why_unreadable_says_the_kind_of_failure_in_words(error: BaseException, words: str) -> None:
    assert why_unreadable(error) == words
    assert not EXCEPTION_NAME.search(words)


def test_pdf_parser_failures_are_named_by_what_is_wrong_with_the_file() -> None:
    from pyhanko.pdf_utils.misc import PdfReadError, PdfStrictReadError

    assert "PDF standard" in why_unreadable(PdfReadError("xref broken"))
    assert "strict reading" in why_unreadable(PdfStrictReadError("xref out of order"))
