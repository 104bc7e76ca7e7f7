"""LOAN-1: a contract and its accession application are one document — one upload, one signature (issue 16, item 4).

Seed 003 (line 450): the contract and the application to accede to it "are
integral parts of each other and together form one document". So the MFO
uploads one PDF holding both, the borrower signs it once, and that one
signature covers every byte of both parts; the accession application cannot
be uploaded as a document of its own (signing/documents/metadata.py).
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support.factors import SigningPage, own_token, register, services  # noqa: F401 - fixture
from tests.support.pdf_judges import pyhanko_statuses
from tests.support.pdfs import contract_pdf

ONE_DOCUMENT = "Microcredit contract MK-L1 and the application to accede to it: one document"


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


def _post(http, headers, pdf: bytes, meta: dict):
    return http.post("/documents", headers=headers, files={"file": ("c.pdf", pdf, "application/pdf")},
                     data={"metadata": json.dumps(meta)})


def test_LOAN_1_the_contract_and_its_accession_application_are_one_upload_and_one_signature(http, services,
                                                                                             alpha) -> None:
    iin = f.iin()
    token = own_token(services, iin)
    client = register(http, alpha, services, iin=iin, eds=token)
    contract = contract_pdf(pages=2, text=ONE_DOCUMENT)   # page 1 the contract, page 2 the accession application
    meta = f.loan_metadata(client_id_number=iin, contract_number="MK-L1")

    # The accession application is no document of its own: refused, naming LOAN-1, nothing written.
    before = http.get("/documents", headers=alpha).json()
    for kind in ("accession_application", "accession"):
        refused = problem(_post(http, alpha, contract_pdf(pages=1), {**meta, "kind": kind}), 422)
        (kind_problem,) = [p for p in refused["problems"] if p["field"] == "metadata.kind"]
        assert kind_problem["message"].startswith("LOAN-1:") and "one document" in kind_problem["message"]
    assert http.get("/documents", headers=alpha).json() == before

    # One upload holds both parts.
    uploaded = _post(http, alpha, contract, {**meta, "kind": "contract"})
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()["id"]
    assert [d["id"] for d in http.get("/documents", headers=alpha, params={"contract_number": "MK-L1"}).json()] \
        == [document]

    # One signing request, one signature of the borrower (LOAN-2's factors), over every byte of both parts.
    created = http.post("/signing-requests", headers=alpha, json={"document": document, "client": client["id"],
                                                                  "level": "B-T"})
    assert created.status_code == 201, created.text
    page = SigningPage(http, services, created.json())
    services.clock.advance(dt.timedelta(hours=2, seconds=1))   # LOAN-5
    assert page.biometrics(iin).status_code == 200
    assert page.eds(token).json()["status"] == "sealed"
    signed = http.get(f"/documents/{document}/pdf", headers=alpha).content
    reader = PdfFileReader(io.BytesIO(signed))
    assert len(reader.root["/Pages"]["/Kids"]) == 2
    borrower, seal = reader.embedded_regular_signatures
    assert borrower.signer_cert.serial_number == int(token.serial, 16)
    start, first, second, length = borrower.byte_range
    assert start == 0 and signed.startswith(contract) and len(contract) <= first   # the upload, whole, is signed
    assert seal.signer_cert.serial_number != borrower.signer_cert.serial_number
    assert all(s.bottom_line for s in pyhanko_statuses(signed, services.hierarchy.chain("national")[-1]))
    assert http.get(f"/signing-requests/{created.json()['id']}", headers=alpha).json()["document"] == document
    versions = http.get(f"/documents/{document}", headers=alpha).json()["versions"]
    assert versions[0]["sha256"] == uploaded.json()["versions"][0]["sha256"] and len(versions) >= 2
