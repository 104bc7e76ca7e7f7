"""The root centre's rules that no test named before issue 16: ROOT-1 and ROOT-4 (DOMAIN.md §1, seed 004).

Both are implemented in ca/ (the profiles' issuing centres, ca/profiles.py; the root's refusal reasons,
ca/policy.py, and the application review, ca/forms.py); these tests hold them over the API.
"""

from __future__ import annotations

from ca.profiles import PROFILES, HolderKind
from tests.integration.test_api import issue_body, problem
from tests.support import factories as f

CA_FORM = {"country": "KZ", "region": "Астана", "city": "Астана", "organisation": "TEST CA LLP",
           "ca_name": "TEST ACCREDITED CA", "email": "ca@example.kz", "usage_areas": ["signing"],
           "validity_years": 5, "accreditation_number": "A-17", "accreditation_date": "2026-01-15"}


def test_ROOT_1_the_root_certifies_only_other_centres_keys(http, services) -> None:
    """ROOT-1: the root issues CA certificates (and its own OCSP responder's), never a person's or an entity's."""
    issued_by_root = {p.name: p.holder_kind for p in PROFILES.values() if "root" in p.centres}
    assert set(issued_by_root.values()) <= {HolderKind.CA, HolderKind.SERVICE}
    assert {n for n, kind in issued_by_root.items() if kind is HolderKind.SERVICE} == {"ocsp-responder"}
    before = http.get("/certificates", params={"iin": "000000000000"}).status_code
    for profile in ("individual-sign", "individual-auth", "legal-sign"):
        if profile not in PROFILES:
            continue
        body = {**issue_body(), "profile": profile, "centre": "root"}
        refused = problem(http.post("/certificates", json=body), 422)
        assert any(p["field"] == "centre" and "root centre does not issue" in p["message"]
                   for p in refused["problems"]), refused
    assert http.get("/certificates", params={"iin": "000000000000"}).status_code == before
    # What the root does issue: a subordinate centre's certificate, on a CA's application.
    view = services.applications.submit("ca", CA_FORM, [{"kind": "accreditation-certificate", "name": "acc.pdf"}],
                                        f.csr_pem(), "registrar")
    (certificate,) = services.applications.approve(view.id, "administrator").certificates
    assert certificate.certificate.issuer == services.hierarchy.chain("root")[0].subject


def test_ROOT_4_the_root_refuses_missing_documents_or_unreliable_information(http, services) -> None:
    """ROOT-4: a CA's application without its documents is refused, listing them; the root's refusal reasons are
    exactly "documents missing" and "information unreliable", and another centre's reason is not the root's."""
    csr = f.csr_pem()
    body = {"kind": "ca", "form": CA_FORM, "attachments": [], "csr_pem": csr.decode() if isinstance(csr, bytes) else csr}
    refused = problem(http.post("/applications", json=body), 422)
    assert any("accreditation-certificate" in p["message"] for p in refused["problems"]), refused
    reasons = http.get("/refusal-reasons").json()
    root = reasons["root"] if isinstance(reasons, dict) else [r for r in reasons if r.get("centre") == "root"]
    codes = {r["code"] for r in root}
    assert codes == {"documents-missing", "information-unreliable"}, root
    view = services.applications.submit("ca", CA_FORM, [{"kind": "accreditation-certificate", "name": "acc.pdf"}],
                                        f.csr_pem(), "registrar")
    wrong = problem(http.post(f"/applications/{view.id}/refuse", json={"reason": "data-mismatch",
                                                                      "detail": "not the root's reason"}), 422)
    assert "documents-missing" in str(wrong["problems"])
    done = http.post(f"/applications/{view.id}/refuse", json={"reason": "information-unreliable",
                                                              "detail": "the accreditation number is not on record"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "refused" and done.json()["refusal_reason"] == "information-unreliable"
