"""Contract forms (issue 15, seed 002) and the policy a document is signed under, over HTTP; SQLite and PostgreSQL.

A tenant registers each version of its standard forms; a contract form's
version carries the regulator's consent, or (a later one) the reason it
needs none. Once a tenant has forms, each document names the version it
was made on, and the signing policy follows the registered form's kind: a
contract declared as a consent is refused (LOAN-2 is the floor for
documents with loan terms, not LOAN-6) and the refusal is audited; an
unregistered form version, or another tenant's, is refused like an unknown
one. A tenant's own policy may ask for more than DOMAIN.md, never less.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key, post_document  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support import pdfs
from tests.support.factors import own_token, register, upload
from tests.support.tenants import legal_bin

CONSENT_DAY = "2025-03-14"


def _form(http, headers, tenant: str, **body):
    return http.post(f"/tenants/{tenant}/forms", headers=headers, json=body)


def _registered(http, headers, tenant: str, **body) -> dict:
    response = _form(http, headers, tenant, **body)
    assert response.status_code == 201, response.text
    return response.json()


def _count(services, what: str) -> int:
    with services.registry.transaction(readonly=True) as tx:
        if what == "forms":
            return sum(len(tx.contract_forms.of_tenant(t.code)) for t in tx.tenants.all())
        if what == "documents":
            return len(tx.documents.list_across_tenants(limit=10_000))
        return len(tx.audit.entries(limit=100_000))


def _downgrades(services) -> list:
    with services.registry.transaction(readonly=True) as tx:
        return [e for e in tx.audit.entries(limit=100_000) if e.action == "document.downgrade_refused"]


def test_a_tenant_registers_its_contract_form_with_the_regulators_consent_seed_002(http, services, mfo_key) -> None:  # noqa: F811
    alpha = mfo_key("alpha")
    pdf = pdfs.contract_pdf(1)
    first = _registered(http, alpha, "alpha", kind="contract", version="2026-01", consent_date=CONSENT_DAY,
                        pdf=base64.b64encode(pdf).decode())
    assert first["sha256"] == hashlib.sha256(pdf).hexdigest() and first["has_pdf"] is True
    assert first["consent_date"] == CONSENT_DAY and first["tenant"] == "alpha"
    # A changed contract form needs the consent again, unless the change follows the law or the requisites.
    before = (_count(services, "forms"), _count(services, "audit"))
    again = problem(_form(http, alpha, "alpha", kind="contract", version="2026-02", sha256="b" * 64), 422)
    assert [p["field"] for p in again["problems"]] == ["consent_date"] and "seed 002" not in again["problems"][0][
        "message"] and "again" in again["problems"][0]["message"]
    assert (_count(services, "forms"), _count(services, "audit")) == before
    requisites = _registered(http, alpha, "alpha", kind="contract", version="2026-02", sha256="b" * 64,
                             no_consent_reason="change-of-requisites", note="the MFO's bank account changed")
    assert requisites["no_consent_reason"] == "change-of-requisites" and requisites["consent_date"] is None
    # A schedule's form needs no consent; a reason to skip one is refused there.
    _registered(http, alpha, "alpha", kind="schedule", version="S-1", sha256="c" * 64)
    skip = problem(_form(http, alpha, "alpha", kind="schedule", version="S-2", sha256="c" * 64,
                         no_consent_reason="change-of-law"), 422)
    assert [p["field"] for p in skip["problems"]] == ["no_consent_reason"]
    listed = http.get("/tenants/alpha/forms", headers=alpha).json()
    assert [(v["kind"], v["version"]) for v in listed] == [("contract", "2026-01"), ("contract", "2026-02"),
                                                            ("schedule", "S-1")]
    assert http.get(f"/tenants/alpha/forms/{first['id']}", headers=alpha).json() == first
    with services.registry.transaction(readonly=True) as tx:
        registered = [e for e in tx.audit.entries(limit=100_000) if e.action == "form.registered"]
    assert [e.details["version"] for e in registered] == ["2026-01", "2026-02", "S-1"]
    assert registered[1].details["previous"] == first["id"]


def test_bad_forms_list_every_problem_and_write_nothing(http, services, mfo_key) -> None:  # noqa: F811
    alpha = mfo_key("alpha")
    before = (_count(services, "forms"), _count(services, "audit"))
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    answer = problem(_form(http, alpha, "alpha", kind="contract", version="v 1!", pdf=base64.b64encode(
        b"not a pdf").decode(), sha256="a" * 64, consent_date=tomorrow), 422)
    assert {p["field"] for p in answer["problems"]} == {"version", "pdf", "consent_date"}, answer
    first_without_consent = problem(_form(http, alpha, "alpha", kind="contract", version="1", sha256="d" * 64), 422)
    assert [p["field"] for p in first_without_consent["problems"]] == ["consent_date"]
    assert (_count(services, "forms"), _count(services, "audit")) == before
    _registered(http, alpha, "alpha", kind="consent", version="1", sha256="d" * 64)
    twice = problem(_form(http, alpha, "alpha", kind="consent", version="1", sha256="e" * 64), 422)
    assert [p["field"] for p in twice["problems"]] == ["version"]
    # A suspended tenant registers nothing.
    assert http.post("/tenants/alpha/suspend", json={}).status_code == 200
    suspended = problem(_form(http, alpha, "alpha", kind="consent", version="2", sha256="e" * 64), 409)
    assert suspended["code"] == "tenant-suspended"


def test_a_contract_declared_as_a_consent_is_refused_and_the_downgrade_audited_LOAN2_LOAN6(
        http, services, mfo_key) -> None:  # noqa: F811
    """LOAN-2 is the floor for a contract; declared as a consent it would be signed under LOAN-6 (EDS alone)."""
    alpha = mfo_key("alpha")
    contract = _registered(http, alpha, "alpha", kind="contract", version="2026-01", consent_date=CONSENT_DAY,
                           sha256="a" * 64)
    before = (_count(services, "documents"), len(_downgrades(services)))
    refused = problem(post_document(http, alpha, metadata=f.loan_metadata(kind="consent", form=contract["id"],
                                                                          template_version="2026-01")), 422)
    [kind] = [p for p in refused["problems"] if p["field"] == "metadata.kind"]
    assert "registered as a contract" in kind["message"] and "LOAN-2" in kind["message"]
    assert _count(services, "documents") == before[0]
    [entry] = _downgrades(services)[before[1]:]
    assert entry.details["declared_kind"] == "consent" and entry.details["form_kind"] == "contract"
    assert entry.details["form"] == contract["id"] and entry.subject == "tenant:alpha" and "LOAN-2" in \
        entry.details["why"]
    # Declared as what its form is, it is taken, and a signing request puts it under LOAN-2.
    iin = f.iin()
    client = register(http, alpha, services, iin=iin, eds=own_token(services, iin))
    document = upload(http, alpha, iin=iin, form=contract["id"], template_version="2026-01")
    assert http.get(f"/documents/{document}", headers=alpha).json()["metadata"]["form"] == contract["id"]
    created = http.post("/signing-requests", headers=alpha, json={"document": document, "client": client["id"]})
    assert created.status_code == 201, created.text
    assert created.json()["policy"]["name"] == "LOAN-2"


def test_an_unregistered_or_another_tenants_form_version_is_refused(http, services, mfo_key) -> None:  # noqa: F811
    alpha, beta = mfo_key("alpha"), mfo_key("beta")
    ours = _registered(http, alpha, "alpha", kind="schedule", version="S-1", sha256="a" * 64)
    theirs = _registered(http, beta, "beta", kind="schedule", version="S-1", sha256="a" * 64)
    before = _count(services, "documents")
    foreign = problem(post_document(http, alpha, metadata=f.loan_metadata(kind="schedule", form=theirs["id"],
                                                                         template_version="S-1")), 422)
    unknown = problem(post_document(http, alpha, metadata=f.loan_metadata(kind="schedule", form="f" * 32,
                                                                          template_version="S-1")), 422)
    for answer in (foreign, unknown):
        [form] = [p for p in answer["problems"] if p["field"] == "metadata.form"]
        assert form["message"].startswith("not found")
    # The same words for both: nothing tells alpha that beta's form exists.
    assert foreign["problems"][0]["message"].replace(theirs["id"], "X") == \
        unknown["problems"][0]["message"].replace("f" * 32, "X")
    # Once alpha has forms, a document names one; its template_version is the form's.
    missing = problem(post_document(http, alpha, metadata=f.loan_metadata(kind="schedule")), 422)
    assert [p["field"] for p in missing["problems"]] == ["metadata.form"]
    other = problem(post_document(http, alpha, metadata=f.loan_metadata(kind="schedule", form=ours["id"],
                                                                        template_version="S-9")), 422)
    assert [p["field"] for p in other["problems"]] == ["metadata.template_version"]
    assert _count(services, "documents") == before
    assert _downgrades(services) == []
    # Another tenant's forms are not found on its routes either (404, as an unknown id).
    assert problem(http.get(f"/tenants/beta/forms/{theirs['id']}", headers=alpha), 404)
    assert problem(http.get(f"/tenants/alpha/forms/{theirs['id']}", headers=alpha), 404)
    assert [v["id"] for v in http.get("/tenants/alpha/forms", headers=alpha).json()] == [ours["id"]]


def test_a_tenants_own_policy_may_ask_more_than_the_floor_never_less(http, services, mfo_key) -> None:  # noqa: F811
    """The consent's rule (LOAN-6: the EDS or two kinds of factor) made stricter for one tenant: the EDS only."""
    from signing.policies.policy import default_policies

    alpha, beta = mfo_key("alpha"), mfo_key("beta")
    policy = default_policies().as_json()
    for rule in policy["rules"]:
        if rule["name"] == "LOAN-6":
            rule["any_of"] = [{"all_of": ["eds"]}]
    assert http.put("/tenants/alpha/policy", json={"policy": policy}).status_code == 200
    lower = default_policies().as_json()
    for rule in lower["rules"]:
        if rule["name"] == "LOAN-2":
            rule["review_minutes"] = 30
    refused = problem(http.put("/tenants/beta/policy", json={"policy": lower}), 422)
    assert [p["field"] for p in refused["problems"]] == ["policy"] and "LOAN-5" in refused["problems"][0]["message"]
    assert http.get("/tenants/beta").json()["own_policy"] is False
    wants = {}
    for headers in (alpha, beta):
        iin = f.iin()
        client = register(http, headers, services, iin=iin, eds=own_token(services, iin))
        document = upload(http, headers, iin=iin, kind="consent")
        created = http.post("/signing-requests", headers=headers, json={"document": document, "client": client["id"]})
        assert created.status_code == 201, created.text
        wants[headers["X-API-Key"]] = created.json()["policy"]["any_of"]
    assert wants[alpha["X-API-Key"]] == [{"all_of": ["eds"]}]
    assert wants[beta["X-API-Key"]] == [{"all_of": ["eds"]}, {"distinct_kinds": 2}]
    problem(http.put("/tenants/alpha/policy", headers=alpha, json={"policy": None}), 403)   # an mfo may not


def test_the_command_line_registers_a_form_version(http, services, tmp_path) -> None:
    from tests.integration.test_tenant_onboarding import _cli

    assert http.post("/tenants", json={"name": "ТОО МФО Нұр", "bin": legal_bin(808), "code": "nur"}).status_code == 201
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(pdfs.contract_pdf(1))
    done = _cli(services, "form", "register", "--tenant", "nur", "--kind", "contract", "--version", "2026-01",
                "--pdf", str(pdf), "--consent-date", CONSENT_DAY)
    assert done.exit_code == 0, done.output
    assert http.get("/tenants/nur/forms").json()[0]["sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    bad = _cli(services, "form", "register", "--tenant", "nur", "--kind", "contract", "--version", "2026-02",
               "--sha256", "a" * 64, "--consent-date", "yesterday")
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1 and "consent_date" in bad.stderr
