"""Signed contracts judged by poppler's pdfsig (NSS), qpdf and pyHanko (issue 4 must-show)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import factories as f
from tests.support.pdf_judges import last_page_text, nss_database, pdfsig, qr_codes_on_page, pyhanko_statuses, pyhanko_timestamp_statuses, qpdf_check
from tests.support.pdfs import contract_pdf
from tests.support.server import served_services
from tests.support.signing import TENANT, client_with_held_key, latest_pdf, sign_client_and_seal, upload


@pytest.fixture(scope="module")
def sqlite_services(tmp_path_factory):
    """A home served on loopback: pdfsig (NSS) asks its OCSP responder online, as a reader would."""
    with served_services(tmp_path_factory.mktemp("signing-interop")) as svc:
        yield svc


@pytest.fixture(scope="module")
def nss(sqlite_services, tmp_path_factory) -> Path:
    return nss_database(tmp_path_factory.mktemp("nss"), sqlite_services.hierarchy.chain("national")[-1])


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
def test_client_plus_seal_contract_is_valid_and_trusted_for_pdfsig_pyhanko_and_qpdf(sqlite_services, nss, tmp_path,
                                                                                   level: str) -> None:
    services = sqlite_services
    client = client_with_held_key(services)
    doc = upload(services, client.iin)
    sign_client_and_seal(services, client, doc.id, level=level)
    pdf = latest_pdf(services, doc.id)
    path = _write(tmp_path, "contract.pdf", pdf)
    # pdfsig lists document time-stamps (B-LTA) too but leaves them unverified; pyHanko checks them below.
    signatures = [s for s in pdfsig(path, nss) if not s.field.endswith("-TS")]
    assert [s.field for s in signatures] == ["Client-Signature", "MFO-Seal"], signatures
    for signature in signatures:
        assert signature.signature_valid, signature.raw
        assert signature.certificate == "Certificate is Trusted.", signature.raw
    ok, output = qpdf_check(path)
    assert ok, output
    statuses = pyhanko_statuses(pdf, services.hierarchy.chain("national")[-1], revocation=True)
    assert len(statuses) == 2 and all(s.bottom_line for s in statuses)
    # The stamps (last page): the client's name and IIN, the seal's BIN, both serials, the QR codes.
    text = last_page_text(path, 2)
    seal = services.tenants.get(TENANT).seal   # the tenant's own seal (issue 15)
    for expected in ("СӘРСЕНБАЕВА", client.iin, seal.bin, seal.serial.upper(), client.serial.upper(), "Asia/Almaty"):
        assert expected.lower() in text.lower(), (expected, text)
    assert qr_codes_on_page(path, 2, tmp_path) == [f"{services.settings.base_url}/verify/{doc.id}"] * 2
    if level == "B-LTA":
        stamps = pyhanko_timestamp_statuses(pdf, services.hierarchy.chain("national")[-1])
        assert stamps and all(s.intact and s.valid and s.trusted for s in stamps)


def test_amendment_signed_the_same_way_refers_to_its_contract_and_both_verify(sqlite_services, nss,
                                                                             tmp_path) -> None:
    """LOAN-10: the amendment is concluded like the contract and chained to its signed version."""
    services = sqlite_services
    client = client_with_held_key(services)
    contract = upload(services, client.iin)
    sign_client_and_seal(services, client, contract.id)
    meta = f.loan_metadata(client_id_number=client.iin, kind="amendment", contract=contract.id,
                           contract_number=contract.metadata.contract_number)
    amendment = services.documents.upload("mfo", TENANT, contract_pdf(pages=1, text="Supplementary agreement 1"),
                                          meta)
    sign_client_and_seal(services, client, amendment.id)
    assert services.documents.get(TENANT, amendment.id).contract == contract.id
    for name, document in (("contract.pdf", contract.id), ("amendment.pdf", amendment.id)):
        path = _write(tmp_path, name, latest_pdf(services, document))
        signatures = pdfsig(path, nss)
        assert len(signatures) == 2 and all(s.signature_valid and s.certificate == "Certificate is Trusted."
                                            for s in signatures), [s.raw for s in signatures]
        assert qpdf_check(path)[0]


def test_one_changed_byte_makes_pdfsig_and_pyhanko_report_the_signatures_invalid(sqlite_services, nss,
                                                                                tmp_path) -> None:
    services = sqlite_services
    client = client_with_held_key(services)
    doc = upload(services, client.iin)
    sign_client_and_seal(services, client, doc.id, level="B-T")
    pdf = bytearray(latest_pdf(services, doc.id))
    position = pdf.index(b"Microcredit contract")
    pdf[position] ^= 0x20          # 'M' -> 'm': still a well-formed PDF, one byte different
    path = _write(tmp_path, "tampered.pdf", bytes(pdf))
    signatures = pdfsig(path, nss)
    assert len(signatures) == 2 and not any(s.signature_valid for s in signatures), [s.raw for s in signatures]
    statuses = pyhanko_statuses(bytes(pdf), services.hierarchy.chain("national")[-1])
    assert not any(s.intact for s in statuses)
