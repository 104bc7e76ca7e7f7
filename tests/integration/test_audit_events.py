"""Security-relevant events that reach the audit log (issue 8): CRL issuance, key generation, settings changes.

The other events the issue lists have their own tests: application
decisions and issuance (test_applications.py, test_api.py), revocation
(test_revocation.py), logins and failed logins (test_people.py), factor
failures and lockouts (test_factors.py::test_brute_force_the_6th_wrong_code_locks_the_request),
signing-policy changes and dual-control approvals (test_dual_control.py);
docs/SECURITY.md lists them together.
"""

from __future__ import annotations

import json

from api.wiring import Services
from api.settings import Settings, settings_snapshot
from tests.support import factories as f


def _entries(services, action: str) -> list:
    with services.registry.transaction(readonly=True) as tx:
        return [e for e in tx.audit.entries(limit=100_000) if e.action == action]


def test_each_crl_issued_is_an_audit_entry_naming_its_number_and_the_key_that_signed_it(services, http) -> None:
    before = {(e.details["centre"], e.details["number"]) for e in _entries(services, "crl.issued")}
    published = http.post("/crl/national/publish")
    assert published.status_code == 200, published.text
    numbers = {("national", crl["number"]) for crl in published.json()}
    entries = [e for e in _entries(services, "crl.issued") if (e.details["centre"], e.details["number"]) not in before]
    assert {(e.details["centre"], e.details["number"]) for e in entries} == numbers
    key_handle = services.hierarchy.issuing_ca("national").key_handle
    assert all(e.actor == "admin" and e.details["key_handle"] == key_handle for e in entries)
    centre_id = services.hierarchy.issuing_ca("national").centre_id
    with services.registry.transaction(readonly=True) as tx:
        stored = {row.number: row.sha256 for row in (tx.crls.latest(centre_id, kind) for kind in ("full", "delta"))
                  if row is not None}
        assert tx.audit.verify() is None
    assert {e.details["number"] for e in entries} <= set(stored)
    assert all(stored[e.details["number"]] == e.details["sha256"] for e in entries)


def test_issuance_entry_says_who_made_the_key_the_centre_or_the_holder(services) -> None:
    generated = f.issue_person(services, password=b"carrier-password")      # centre-made key on a PKCS#12 carrier
    by_csr = f.issue_person(services)                                         # the holder's CSR
    details = {e.subject: e.details for e in _entries(services, "certificate.issued")}
    assert details[generated.serial]["key"] == "generated" and details[generated.serial]["key_algorithm"]
    assert details[by_csr.serial]["key"] == "holder-csr"
    assert "carrier-password" not in json.dumps(details)


def test_settings_in_force_are_audited_when_they_change_and_never_show_a_secret(services, tmp_path) -> None:
    """The first start records every setting; an unchanged start records nothing; a changed one names the change."""
    first = services.record_settings()
    assert "crl_next_update_hours" in first and "master_key" in first
    assert services.record_settings() == []
    changed = Settings(home=services.settings.home, database_url=services.settings.database_url,
                       master_key="11" * 32, crl_next_update_hours=12)
    again = Services.build(changed, clock=services.clock)
    try:
        assert again.record_settings() == ["crl_next_update_hours"]
    finally:
        again.close()
    entries = _entries(services, "settings.changed")
    assert [e.details["changed"] for e in entries][-1] == ["crl_next_update_hours"]
    assert entries[-1].details["settings"]["crl_next_update_hours"] == 12
    text = json.dumps([e.details for e in entries])
    assert "11" * 32 not in text                                   # the master key: a fingerprint only
    assert entries[-1].details["settings"]["master_key"].startswith("sha256:")


def test_the_server_start_records_the_settings(services, http) -> None:
    """The app's start-up (lifespan) is where the settings in force are compared with the last recorded."""
    assert _entries(services, "settings.changed"), "starting the app recorded no settings"


def test_a_database_password_never_reaches_the_snapshot(tmp_path) -> None:
    settings = Settings(home=tmp_path, database_url="postgresql+psycopg://qoltanba:s3cr3t-pw@db.internal/registry",
                        master_key="22" * 32)
    snapshot = settings_snapshot(settings)
    assert snapshot["database_url"] == "postgresql+psycopg://qoltanba:***@db.internal/registry"
    assert "s3cr3t-pw" not in json.dumps(snapshot) and "22" * 32 not in json.dumps(snapshot)
