"""Revocation applications: on paper (reviewed, due in 2 working days) or signed with the holder's EDS (NAT-7)."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from ca.applications import ALMATY
from ca.clock import FrozenClock
from ca.errors import InvalidInput
from ca.revocation import RevocationRequest
from tests.support import factories as f

PASSWORD = b"carrier-pass-1"
ID_COPY = [{"kind": "id-copy", "name": "id.pdf"}]


def _form(issued, **overrides) -> dict:
    cert = issued.certificate
    iin = cert.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)[0].value[3:]
    form = {"serial": issued.serial, "issued_on": cert.not_valid_before_utc.astimezone(ALMATY).date().isoformat(),
            "iin": iin, "surname": "Тестов", "given_name": "Тест", "email": "t@example.kz",
            "phone": "+7 701 123 45 67", "reason": "key-compromise"}
    form.update(overrides)
    return form


def _signed(form: dict, issued) -> bytes:
    key, cert, _ = pkcs12.load_key_and_certificates(issued.pkcs12, PASSWORD)
    content = json.dumps(form, ensure_ascii=False).encode()
    return (pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(cert, key, hashes.SHA256())
            .sign(serialization.Encoding.DER, []))


def _status(services, serial):
    with services.registry.transaction() as tx:
        return tx.certificates.by_serial(serial)[0].status


def test_nat6_paper_application_is_due_in_two_working_days_then_flagged_overdue(services):
    """NAT-6: carried out within 2 working days of the application; overdue ones are flagged."""
    issued = f.issue_person(services)
    view, revocation = services.revocation_applications.submit("revocation-individual", _form(issued), ID_COPY, "reg")
    assert revocation is None and view.status == "submitted" and view.target_serial == issued.serial
    today = services.clock.now().astimezone(ALMATY).date()
    assert view.due_date == services.calendar.add_working_days(today, 2) and not view.overdue
    services.issuance.clock = FrozenClock(services.clock.now() + dt.timedelta(days=10))
    services.applications.clock = services.issuance.clock
    assert view.id in [v.id for v in services.applications.list(overdue=True)]
    done, revocation = services.revocation_applications.approve(view.id, "reg", administrator=False)
    assert done.status == "revoked" and revocation.reason == "key-compromise"
    assert services.revocations.journal("national")[-1].application_id == view.id


def test_nat5_application_not_matching_the_certificate_lists_every_problem(services):
    issued = f.issue_person(services)
    form = _form(issued, iin=f.iin(), issued_on="2001-01-01")
    with pytest.raises(InvalidInput) as caught:
        services.revocation_applications.submit("revocation-individual", form, [], "reg")
    fields = {p.field for p in caught.value.problems}
    assert {"form.iin", "form.issued_on", "attachments"} <= fields
    assert services.applications.list() == [] and _status(services, issued.serial) == "valid"


def test_refusal_uses_the_revocation_reasons(services):
    issued = f.issue_person(services)
    view, _ = services.revocation_applications.submit("revocation-individual", _form(issued), ID_COPY, "reg")
    with pytest.raises(InvalidInput):
        services.applications.refuse(view.id, "key-unacceptable", "issuance reason", "reg")
    refused = services.applications.refuse(view.id, "not-the-holder", "the person at the desk was not the holder",
                                           "reg")
    assert refused.status == "refused" and _status(services, issued.serial) == "valid"


def test_nat7_signed_application_is_verified_and_carried_out_at_once(services):
    """NAT-7: an electronic application signed with the applicant's valid EDS; no paper needed."""
    issued = f.issue_person(services, password=PASSWORD)
    form = _form(issued)
    view, revocation = services.revocation_applications.submit("revocation-individual", None, [], "web",
                                                               signed_document=_signed(form, issued))
    assert view.signed and view.status == "revoked" and revocation is not None
    assert _status(services, issued.serial) == "revoked"


def test_nat7_signature_by_someone_else_or_by_a_revoked_certificate_is_refused(services):
    holder = f.issue_person(services, password=PASSWORD)
    stranger = f.issue_person(services, password=PASSWORD)
    form = _form(holder)
    with pytest.raises(InvalidInput) as caught:
        services.revocation_applications.submit("revocation-individual", None, [], "web",
                                                signed_document=_signed(form, stranger))
    assert any("someone other than the applicant" in p.message for p in caught.value.problems)
    second = f.issue_person(services, password=PASSWORD, holder_iin=form["iin"])
    services.revocations.revoke(RevocationRequest(serial=second.serial, actor="t"))
    with pytest.raises(InvalidInput) as caught:
        services.revocation_applications.submit("revocation-individual", None, [], "web",
                                                signed_document=_signed(form, second))
    assert any("signing certificate is revoked" in p.message for p in caught.value.problems)
    tampered = bytearray(_signed(form, holder))
    tampered[len(tampered) // 3] ^= 0x01
    with pytest.raises(InvalidInput) as caught:
        services.revocation_applications.submit("revocation-individual", None, [], "web",
                                                signed_document=bytes(tampered))
    assert [p.field for p in caught.value.problems] == ["signed_document"]
    assert _status(services, holder.serial) == "valid" and services.applications.list() == []


def test_gov5_government_application_with_the_letter_and_carrier(services):
    gov = f.issue_person(services, centre="government", password=PASSWORD)
    form = {k: v for k, v in _form(gov).items() if k not in ("email", "phone", "reason")}
    form.update(state_body="МИНИСТЕРСТВО ТЕСТА", state_body_bin=f.VALID_BIN, letter_number="05-1/77",
                letter_date="2026-11-19", ground="left-job", left_job_on=services.clock.now().date().isoformat(),
                carrier_returned=True)
    view, _ = services.revocation_applications.submit("revocation-government", form,
                                                      [{"kind": "official-letter", "name": "l.pdf"}], "reg")
    services.revocation_applications.approve(view.id, "gov-admin", administrator=False)
    entry = services.revocations.journal("government")[-1]
    assert (entry.letter_number, entry.ground, entry.carrier_returned, entry.reason) == (
        "05-1/77", "left-job", True, "affiliation-changed")


def test_signed_application_over_http(services, http):
    issued = f.issue_person(services, password=PASSWORD)
    signed = base64.b64encode(_signed(_form(issued), issued)).decode()
    response = http.post("/applications", json={"kind": "revocation-individual", "signed_document": signed})
    assert response.status_code == 201, response.text
    assert response.json()["revocation"]["serial"] == issued.serial
    bad = http.post("/applications", json={"kind": "revocation-individual", "signed_document": "AAAA"})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "signed_document"
