"""Revocation over HTTP: roles, problem+json, journal export, centre stop."""

from __future__ import annotations

from ca.access import AccessService
from tests.support import factories as f


def _registrar(services) -> dict:
    key = AccessService(services.registry, services.clock).create_key("reg-1", "registrar", by="test").key
    return {"X-API-Key": key}


def test_registrar_revokes_a_person_but_not_a_ca(services, http):
    registrar = _registrar(services)
    issued = f.issue_person(services)
    ok = http.post(f"/certificates/{issued.serial}/revoke", json={"reason": "superseded"}, headers=registrar)
    assert ok.status_code == 200 and ok.json()["reason"] == "superseded"
    national_ca = format(services.hierarchy.issuing_ca("national").certificate.serial_number, "x")
    denied = http.post(f"/certificates/{national_ca}/revoke", json={"ground": "ca-liquidation"}, headers=registrar)
    assert denied.status_code == 403 and denied.headers["content-type"] == "application/problem+json"
    assert http.post(f"/ca/national/stop", headers=registrar).status_code == 403


def test_bad_revocation_lists_every_field_and_changes_nothing(services, http):
    issued = f.issue_person(services)
    bad = http.post(f"/certificates/{issued.serial}/revoke",
                    json={"reason": "certificate-hold", "ground": "left-job", "court_decision": {"number": "1",
                                                                                                  "date": "2026-01-01"}})
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["problems"]}
    assert {"reason", "court_decision", "left_job_on"} <= fields
    unknown = http.post(f"/certificates/{issued.serial}/revoke", json={"reasn": "typo"})
    assert unknown.status_code == 422
    assert http.get(f"/certificates/{issued.serial}").json()["status"] == "valid"


def test_journal_grounds_and_publish(services, http):
    gov = f.issue_person(services, centre="government", password=b"carrier-pass")
    assert http.post(f"/certificates/{gov.serial}/revoke", json={"carrier_returned": True,
                                                                 "letter_number": "9/9"}).status_code == 200
    csv_text = http.get("/revocations/journal?centre=government&format=csv").text
    assert gov.serial in csv_text and "9/9" in csv_text
    assert http.get("/revocations/journal?centre=government").json()[0]["serial"] == gov.serial
    grounds = http.get("/revocation-grounds", headers={"X-API-Key": ""}).json()
    assert {"left-job", "court-decision", "ca-liquidation"} <= {g["code"] for g in grounds["grounds"]}
    published = http.post("/crl/root/publish").json()
    assert [c["kind"] for c in published] == ["full", "delta"]
    assert http.post("/retention/run").status_code == 200
