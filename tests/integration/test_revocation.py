"""Revocation rules of the three centres (DOMAIN.md §1: ROOT-6, GOV-5, NAT-5), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from cryptography import x509

from ca.approvals import DualControlRequired
from ca.errors import ConflictError, InvalidInput, NotPermitted
from ca.revocation import CourtDecision, RevocationRequest
from tests.support import factories as f


def _row(services, serial):
    with services.registry.transaction() as tx:
        return tx.certificates.by_serial(serial)[0]


def _audit_actions(services):
    with services.registry.transaction() as tx:
        return [e.action for e in tx.audit.entries()]


def test_nat5_registry_records_date_time_and_reason(services):
    """NAT-5: the registry records the date and time of revocation; the reason maps to RFC 5280."""
    issued = f.issue_person(services)
    revocation = services.revocations.revoke(RevocationRequest(serial=issued.serial, actor="registrar-1",
                                                               reason="key-compromise"))
    row = _row(services, issued.serial)
    assert row.status == "revoked" and row.revocation_reason == "key-compromise"
    assert row.revoked_at == revocation.revoked_at and row.revoked_at.tzinfo is not None
    entry = services.revocations.journal("national")[-1]
    assert (entry.serial, entry.ground, entry.administrator) == (issued.serial, "holder-application", "registrar-1")
    assert "certificate.revoked" in _audit_actions(services)


def test_nat8_revocation_is_published_in_the_crl_at_once(services):
    """NAT-8/ROOT-6: the official notice is the CRL, re-issued right after the revocation."""
    issued = f.issue_person(services)
    services.revocations.revoke(RevocationRequest(serial=issued.serial, actor="t", reason="superseded"))
    crl = x509.load_der_x509_crl(services.publisher.latest("national", "full").der)
    entry = crl.get_revoked_certificate_by_serial_number(issued.certificate.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.superseded


def test_bad_revocation_lists_every_problem_and_writes_nothing(services):
    issued = f.issue_person(services)
    with pytest.raises(InvalidInput) as caught:
        services.revocations.revoke(RevocationRequest(serial="xyz!", actor="t", reason="certificate-hold",
                                                      ground="no-such-ground", centre="nowhere"))
    fields = {p.field for p in caught.value.problems}
    assert {"serial", "reason", "ground", "centre"} <= fields
    assert _row(services, issued.serial).status == "valid"
    assert services.revocations.journal("national") == []


def test_court_decision_needs_its_number_and_is_recorded(services):
    """NAT-5/GOV-5/ROOT-6: a court decision in force, with its number and date."""
    issued = f.issue_person(services)
    with pytest.raises(InvalidInput) as caught:
        services.revocations.revoke(RevocationRequest(serial=issued.serial, actor="t", ground="court-decision"))
    assert [p.field for p in caught.value.problems] == ["court_decision.number"]
    services.revocations.revoke(RevocationRequest(
        serial=issued.serial, actor="t", ground="court-decision",
        court_decision=CourtDecision("2-1234/2026", dt.date(2026, 11, 1))))
    entry = services.revocations.journal("national")[-1]
    assert (entry.court_decision_number, entry.court_decision_date, entry.reason) == (
        "2-1234/2026", dt.date(2026, 11, 1), "privilege-withdrawn")


def test_gov5_left_job_is_government_only_and_late_reports_are_flagged(services):
    """GOV-5: a holder leaving the job is reported within 3 days; the national CA has no such ground."""
    national = f.issue_person(services)
    with pytest.raises(InvalidInput) as caught:
        services.revocations.revoke(RevocationRequest(serial=national.serial, actor="t", ground="left-job",
                                                      left_job_on=dt.date(2026, 1, 5)))
    assert any("does not revoke on left-job" in p.message for p in caught.value.problems)
    gov = f.issue_person(services, centre="government", password=b"carrier-pass")
    today = services.clock.now().date()
    late = services.revocations.revoke(RevocationRequest(serial=gov.serial, actor="t", ground="left-job",
                                                         left_job_on=today - dt.timedelta(days=10)))
    assert late.reason == "affiliation-changed" and late.reported_late
    gov2 = f.issue_person(services, centre="government", password=b"carrier-pass")
    on_time = services.revocations.revoke(RevocationRequest(serial=gov2.serial, actor="t", ground="left-job",
                                                            left_job_on=today - dt.timedelta(days=1)))
    assert not on_time.reported_late


def test_gov5_holder_application_states_the_key_carrier(services):
    """GOV-5: revocation on application comes with the key carrier returned (recorded in the journal)."""
    gov = f.issue_person(services, centre="government", password=b"carrier-pass")
    with pytest.raises(InvalidInput) as caught:
        services.revocations.revoke(RevocationRequest(serial=gov.serial, actor="t"))
    assert [p.field for p in caught.value.problems] == ["carrier_returned"]
    services.revocations.revoke(RevocationRequest(serial=gov.serial, actor="admin-7", carrier_returned=True,
                                                  letter_number="01-15/9", letter_date=dt.date(2026, 11, 2)))
    table = list(csv.DictReader(io.StringIO(services.revocations.journal_csv("government"))))
    assert table[-1]["certificate_serial"] == gov.serial
    assert table[-1]["carrier_returned"] == "true" and table[-1]["letter_number"] == "01-15/9"
    assert table[-1]["administrator"] == "admin-7" and table[-1]["state_body"] == "МИНИСТЕРСТВО ТЕСТА"


def test_gov5_journal_csv_has_the_appendix_5_columns(services):
    header = next(csv.reader(io.StringIO(services.revocations.journal_csv("government"))))
    for column in ("number", "holder_name", "state_body", "letter_number", "letter_date", "valid_from", "valid_to",
                   "revoked_at", "certificate_serial", "administrator"):
        assert column in header


def test_gov4_a_revoked_holder_may_get_a_new_key(services):
    """GOV-4: one key per holder; after revocation the slot is free again."""
    holder = f.iin()
    first = f.issue_person(services, centre="government", password=b"carrier-pass", holder_iin=holder)
    with pytest.raises(ConflictError):
        f.issue_person(services, centre="government", password=b"carrier-pass", holder_iin=holder)
    services.revocations.revoke(RevocationRequest(serial=first.serial, actor="t", carrier_returned=True))
    second = f.issue_person(services, centre="government", password=b"carrier-pass", holder_iin=holder)
    assert second.serial != first.serial


def test_revoking_twice_is_a_conflict_and_changes_nothing(services):
    issued = f.issue_person(services)
    services.revocations.revoke(RevocationRequest(serial=issued.serial, actor="t"))
    before = services.publisher.numbers("national")
    with pytest.raises(ConflictError):
        services.revocations.revoke(RevocationRequest(serial=issued.serial, actor="t", reason="key-compromise"))
    assert _row(services, issued.serial).revocation_reason == "unspecified"
    assert services.publisher.numbers("national") == before


def test_root6_ca_certificates_need_an_administrator_and_a_root_ground(services):
    """ROOT-6: the root revokes CA certificates (liquidation, accreditation expired, ...); administrators only."""
    national_ca = services.hierarchy.issuing_ca("national").certificate
    serial = format(national_ca.serial_number, "x")
    with pytest.raises(NotPermitted):
        services.revocations.revoke(RevocationRequest(serial=serial, actor="registrar", ground="ca-liquidation"))
    person = f.issue_person(services)
    with pytest.raises(InvalidInput) as caught:
        services.revocations.revoke(RevocationRequest(serial=person.serial, actor="a", ground="ca-liquidation",
                                                      administrator=True))
    assert any("CA certificates only" in p.message for p in caught.value.problems)
    # Issue 8: one administrator alone cannot; a second, different one approves, then it is done.
    with pytest.raises(DualControlRequired):
        services.revocations.revoke(RevocationRequest(serial=serial, actor="admin", ground="accreditation-expired",
                                                      administrator=True))
    asked = services.dual_control.request("ca-certificate.revoke", {"serial": serial,
                                                                    "ground": "accreditation-expired"},
                                          "admin", administrator=True)
    done = services.dual_control.approve(asked.id, "second-admin", administrator=True).result
    assert (done["centre"], done["reason"]) == ("root", "privilege-withdrawn")
    root_crl = x509.load_der_x509_crl(services.publisher.latest("root", "full").der)
    assert root_crl.get_revoked_certificate_by_serial_number(national_ca.serial_number) is not None


def test_root_certificate_cannot_be_revoked(services):
    root = services.hierarchy.issuing_ca("root").certificate
    with pytest.raises(InvalidInput):
        services.revocations.revoke(RevocationRequest(serial=format(root.serial_number, "x"), actor="a",
                                                      administrator=True))


def test_centre_stopping_revokes_everything_it_issued_and_its_own_certificate(services):
    """NAT-5: the centre stops work: every certificate it issued is revoked; it issues nothing more."""
    people = [f.issue_person(services) for _ in range(3)]
    with pytest.raises(DualControlRequired):   # issue 8: not by one administrator alone
        services.revocations.stop_centre("national", "admin", administrator=True)
    asked = services.dual_control.request("centre.stop", {"centre": "national"}, "admin", administrator=True)
    done = services.dual_control.approve(asked.id, "second-admin", administrator=True).result["revoked"]
    assert {p.serial for p in people} <= {r["serial"] for r in done}
    assert all(r["reason"] == "cessation-of-operation" for r in done)
    national_ca = services.hierarchy.issuing_ca("national").certificate
    assert any(r["centre"] == "root" and int(r["serial"], 16) == national_ca.serial_number for r in done)
    with services.registry.transaction() as tx:
        ca = services.hierarchy.issuing_ca("national", tx)
        assert tx.certificates.valid_issued_by(ca.centre_id) == []
    with pytest.raises(ConflictError):
        f.issue_person(services)
    national_crl = x509.load_der_x509_crl(services.publisher.latest("national", "full").der)
    assert len(national_crl) == len([r for r in done if r["centre"] == "national"])
