"""Applications and their review at each centre, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from ca.errors import ConflictError, InvalidInput
from keys import KeyAlgorithm, certificate_public_key, load_pkcs12, spki_of
from tests.support import factories as f

ID_COPY = [{"kind": "id-copy", "name": "id.pdf"}]
LEGAL_ATTACHMENTS = ID_COPY + [{"kind": "state-registration", "name": "reg.pdf"},
                               {"kind": "power-of-attorney", "name": "poa.pdf"}]


def counts(services) -> tuple[int, int, int]:
    with services.registry.transaction() as tx:
        return (tx.certificates.count(), len(tx.applications.search(limit=10_000)),
                len(tx.audit.entries(limit=100_000)))


def fields(error: InvalidInput) -> set[str]:
    return {p.field for p in error.problems}


def test_nat2_nat3_refusal_lists_every_problem_and_writes_nothing(services):
    """NAT-2/NAT-3: bad IIN checksum, short name over 64 characters and a CSR whose
    signature does not verify are all reported at once; nothing is written."""
    before = counts(services)
    form = f.legal_form(iin=f.bad_iin(), short_name="Ш" * 65)
    with pytest.raises(InvalidInput) as caught:
        services.applications.submit("legal-entity", form, LEGAL_ATTACHMENTS, f.csr_pem(tamper=True), "registrar")
    assert {"form.iin", "form.short_name", "csr"} <= fields(caught.value)
    assert any("64" in p.message for p in caught.value.problems if p.field == "form.short_name")
    assert any("signature" in p.message for p in caught.value.problems if p.field == "csr")
    assert counts(services) == before


def test_nat2_required_attachments_and_fields(services):
    """NAT-2: the ID copy, state registration and power of attorney are required; phone and e-mail checked."""
    with pytest.raises(InvalidInput) as caught:
        services.applications.submit("legal-entity", f.legal_form(phone="12345", email="nobody"), [],
                                     f.csr_pem(), "registrar")
    messages = " ".join(p.message for p in caught.value.problems)
    assert {"form.phone", "form.email", "attachments"} <= fields(caught.value)
    for kind in ("id-copy", "state-registration", "power-of-attorney"):
        assert kind in messages


def test_individual_application_approved_issues_certificate(services):
    """NAT-4: the certificate carries the applicant's IIN, names and e-mail."""
    form = f.individual_form()
    view = services.applications.submit("individual", form, ID_COPY, f.csr_pem(), "registrar")
    assert view.status == "submitted" and view.due_date > view.submitted_at.date() - dt.timedelta(days=1)
    approval = services.applications.approve(view.id, "registrar")
    cert = approval.certificates[0].certificate
    assert cert.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)[0].value == f"IIN{form['iin']}"
    assert cert.subject.get_attributes_for_oid(x509.NameOID.EMAIL_ADDRESS)[0].value == form["email"]
    shown = services.applications.get(view.id)
    assert shown.status == "issued" and shown.certificate_serials == [approval.certificates[0].serial]
    with pytest.raises(ConflictError):
        services.applications.approve(view.id, "registrar")


def test_refusal_needs_an_enumerated_reason(services):
    """DOMAIN §4: refusal reasons are an exhaustive list per centre."""
    view = services.applications.submit("individual", f.individual_form(), ID_COPY, f.csr_pem(), "registrar")
    with pytest.raises(InvalidInput) as caught:
        services.applications.refuse(view.id, "because", "no", "registrar")
    assert "form-incorrect" in caught.value.problems[0].message
    refused = services.applications.refuse(view.id, "data-mismatch", "name differs from the ID", "registrar")
    assert refused.status == "refused" and refused.refusal_reason == "data-mismatch"


def test_root3_ca_application_due_in_15_working_days_and_root5_signed_by_root(services):
    """ROOT-2/ROOT-3/ROOT-5: a CA's application needs the accreditation copy, is due in
    15 working days, and the issued CA certificate is signed by the root."""
    form = {"country": "KZ", "region": "Астана", "city": "Астана", "organisation": "TEST CA LLP",
            "ca_name": "TEST ACCREDITED CA", "email": "ca@example.kz", "usage_areas": ["signing"],
            "validity_years": 5, "accreditation_number": "A-17", "accreditation_date": "2026-01-15"}
    with pytest.raises(InvalidInput) as caught:
        services.applications.submit("ca", form, [], f.csr_pem(), "registrar")
    assert any("accreditation-certificate" in p.message for p in caught.value.problems)
    view = services.applications.submit("ca", form, [{"kind": "accreditation-certificate", "name": "acc.pdf"}],
                                        f.csr_pem(), "registrar")
    assert services.calendar.working_days_between(view.submitted_at.date(), view.due_date) in (15, 16)
    issued = services.applications.approve(view.id, "administrator").certificates[0].certificate
    root = services.hierarchy.chain("root")[0]
    issued.verify_directly_issued_by(root)
    assert issued.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_gov3_gov4_batch_issues_carriers_journal_and_refuses_second_key(services):
    """GOV-3: the centre generates each key onto a PKCS#12 carrier and journals it; GOV-7: a GOST
    2015-512 key, the government centre's algorithm; GOV-4: a second key for the same holder is refused
    with nothing written."""
    people = [f.iin(), f.iin()]
    view = services.applications.submit("government-batch", f.government_form(people),
                                        f.government_attachments(people), None, "registrar")
    approval = services.applications.approve(view.id, "operator")
    assert len(approval.certificates) == 2
    for issued in approval.certificates:
        iin = issued.certificate.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)[0].value[3:]
        key, cert, _chain = load_pkcs12(issued.pkcs12, approval.generated_passwords[iin].encode())
        assert key.algorithm is KeyAlgorithm.GOST_2015_512
        assert cert == issued.certificate
        assert spki_of(key.public_key()) == spki_of(certificate_public_key(cert))
    csv_text = services.catalogue.journal_csv("government")
    rows = [line for line in csv_text.splitlines() if "01-15/123" in line]
    assert len(rows) == 2 and all(issued.carrier_serial in csv_text for issued in approval.certificates)

    before = counts(services)
    with pytest.raises(InvalidInput) as caught:
        services.applications.submit("government-batch", f.government_form([people[0], f.iin()], "02"),
                                     f.government_attachments([people[0]]), None, "registrar")
    messages = " ".join(p.message for p in caught.value.problems)
    assert "GOV-4" in messages and "ID copy" in messages
    assert counts(services) == before


def test_gov4_registry_refuses_second_active_key_even_past_the_review(services):
    """GOV-4: the unique index refuses a second key even when the review is bypassed (a race)."""
    person = f.iin()
    first = services.applications.submit("government-batch", f.government_form([person], "A"),
                                         f.government_attachments([person]), None, "registrar")
    second = services.applications.submit("government-batch", f.government_form([person], "B"),
                                          f.government_attachments([person]), None, "registrar")
    services.applications.approve(first.id, "operator")
    before = counts(services)
    with pytest.raises(ConflictError) as caught:
        services.applications.approve(second.id, "operator")
    assert "GOV-4" in str(caught.value)
    assert counts(services) == before
    assert services.applications.get(second.id).status == "submitted"


def test_overdue_applications_are_flagged(services):
    """DOMAIN §4: a pending application past its due date is visible as overdue."""
    from ca.clock import FrozenClock

    view = services.applications.submit("individual", f.individual_form(), ID_COPY, f.csr_pem(), "registrar")
    assert not services.applications.get(view.id).overdue
    services.applications.clock = FrozenClock(services.clock.now() + dt.timedelta(days=30))
    assert services.applications.get(view.id).overdue
    assert view.id in [v.id for v in services.applications.list(overdue=True)]
