"""The credit dossier (DOMAIN.md LOAN-14): one loan's documents, evidence and correspondence as a sealed ASiC-E.

One loan is signed once for the session, over HTTP as an MFO does it: a
contract (biometrics and the client's EDS), an amendment (the same way,
LOAN-10), a repayment schedule signed by the client and sealed by the MFO
(both parties), and two consents (SMS and biometrics, LOAN-6). Its dossier
is exported by the MFO backend's route and checked by our verifier, by
``POST /verify`` and by ``qoltanba verify``; then spoiled one way at a time
(a file removed, added, changed, the manifest re-signed by another key),
each spoiling named in the report. Hostile ZIPs are refused with every
reason. On SQLite only: the dossier reads the registry through the same
repositories every other test runs on both databases.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from signing.verification.asic import MANIFEST, MIMETYPE, SIGNATURE
from tests.integration.test_api import problem
from tests.integration.test_tenant_onboarding import _cli
from tests.support import factories as f
from tests.support.factors import CODE, SigningPage, own_token, register, upload
from tests.support.signing import client_with_held_key
from tests.support.verification import our_cms, verifier_of

TWO_HOURS = dt.timedelta(hours=2, seconds=1)


@pytest.fixture(scope="session")
def world(tmp_path_factory, request):
    """Services on a clock three hours back (SQLite), the app, two tenants' keys and one signed loan.

    Session-scoped: tests/interop/test_dossier_interop.py judges the same dossier (on the same worker).
    """
    from fastapi.testclient import TestClient

    from api.http.app import create_app
    from ca.access import AccessService
    from tests.conftest import initialised_services
    from tests.support.tenants import ensure_tenant

    tmp = tmp_path_factory.mktemp("dossier")
    made = initialised_services(tmp, f"sqlite:///{tmp / 'registry.db'}", request,
                                clock_offset=-dt.timedelta(hours=3))
    services = next(made)
    admin = AccessService(services.registry, services.clock).create_key("admin", "administrator", by="test").key
    with TestClient(create_app(services=services), headers={"X-API-Key": admin}) as http:
        keys = {}
        for tenant in ("alpha", "beta"):
            ensure_tenant(services, tenant)
            answer = http.post("/api-keys", json={"name": f"mfo-{tenant}", "role": "mfo", "tenant": tenant})
            keys[tenant] = {"X-API-Key": answer.json()["key"]}
        loan = _signed_loan(http, services, keys["alpha"])
        yield services, http, keys, loan
    next(made, None)


def _request(http, headers, document: str, client: str, **extra) -> dict:
    response = http.post("/signing-requests", headers=headers, json={"document": document, "client": client,
                                                                     "level": "B-LT", **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _signed_loan(http, services, alpha) -> dict:
    """A contract, an amendment, a schedule signed by both and two consents, each signed through its request."""
    held = client_with_held_key(services)
    iin = held.iin
    token = own_token(services, iin)
    client = register(http, alpha, services, iin=iin, eds=token)
    contract = upload(http, alpha, iin=iin)
    number = http.get(f"/documents/{contract}", headers=alpha).json()["metadata"]["contract_number"]
    page = SigningPage(http, services, _request(http, alpha, contract, client["id"]))
    services.clock.advance(TWO_HOURS)
    assert page.biometrics(iin).status_code == 200
    assert page.eds(token).json()["status"] == "sealed"
    amendment = upload(http, alpha, iin=iin, kind="amendment", contract=contract, contract_number=number)
    page = SigningPage(http, services, _request(http, alpha, amendment, client["id"], waive_review=True))
    assert page.biometrics(iin).status_code == 200
    assert page.eds(token).json()["status"] == "sealed"
    schedule = upload(http, alpha, iin=iin, kind="schedule", contract_number=number)
    page = SigningPage(http, services, _request(http, alpha, schedule, client["id"], seal=False))
    assert page.eds(token).json()["status"] == "signed"
    sealed = http.post(f"/documents/{schedule}/signatures/seal", headers=alpha, json={"level": "B-LT"})
    assert sealed.status_code == 201, sealed.text                     # LOAN-10: the MFO signs the schedule too
    consents = []
    for _ in range(2):
        consent = upload(http, alpha, iin=iin, kind="consent", contract_number=number)
        page = SigningPage(http, services, _request(http, alpha, consent, client["id"]))
        assert page.sms(client["phone"]).status_code == 200
        assert page.biometrics(iin).status_code == 200
        assert page.confirm().json()["status"] == "sealed"
        consents.append(consent)
    services.clock.advance(dt.timedelta(minutes=5))
    exported = http.get(f"/documents/{contract}/dossier", headers=alpha)
    assert exported.status_code == 200, exported.text
    return {"contract": contract, "amendment": amendment, "schedule": schedule, "consents": consents,
            "number": number, "asice": exported.content, "headers": exported.headers, "phone": client["phone"]}


def _entries(asice: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(asice)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _rezip(entries: dict[str, bytes]) -> bytes:
    """The container again with ``entries`` (in their order), ``mimetype`` first and stored."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content, compress_type=zipfile.ZIP_STORED if name == "mimetype"
                             else zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_LOAN14_the_dossier_of_a_loan_holds_every_document_version_evidence_and_message(world) -> None:
    services, _http, _keys, loan = world
    headers, entries = loan["headers"], _entries(loan["asice"])
    assert headers["content-type"] == MIMETYPE
    assert headers["x-dossier-sha256"] and loan["contract"] in headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(loan["asice"])) as archive:
        first = archive.infolist()[0]
        assert archive.testzip() is None
    # EN 319 162-1 A.1: mimetype first, stored, no extra field.
    assert (first.filename, first.compress_type, first.extra) == ("mimetype", zipfile.ZIP_STORED, b"")
    assert loan["asice"][30:38] == b"mimetype" and entries["mimetype"] == MIMETYPE.encode()
    assert MANIFEST in entries and SIGNATURE in entries
    index = json.loads(entries["dossier.json"])
    kinds = [d["kind"] for d in index["documents"]]
    assert kinds[0] == "contract" and sorted(kinds) == ["amendment", "consent", "consent", "contract", "schedule"]
    for document in index["documents"]:
        assert len(document["versions"]) >= 2                        # the upload and every signed state
        for version in document["versions"]:
            assert version["file"] in entries and version["sha256"] in _sha256s(entries, version["file"])
    schedule = next(d for d in index["documents"] if d["kind"] == "schedule")
    assert [v["reason"] for v in schedule["versions"]][-1] == "seal"
    # The evidence of each of the five client signatures, sealed; and the SMS as the borrower read it.
    evidence = [n for n in entries if n.startswith("evidence/") and n.endswith(".json")]
    assert len(evidence) == 5 and all(n + ".p7s" in entries for n in evidence)
    messages = json.loads(entries["correspondence/sms.json"])["messages"]
    assert len(messages) == 2 and all(loan["number"] in m["text"] and "******" in m["text"] for m in messages)
    assert not any(CODE.search(m["text"]) for m in messages)        # the one-time code is never kept
    assert all(m["to"].endswith(loan["phone"][-2:]) and loan["phone"] not in json.dumps(m) for m in messages)
    manifest = entries[MANIFEST].decode()
    assert manifest.count("<asic:DataObjectReference") == len(entries) - 3


def _sha256s(entries: dict[str, bytes], name: str) -> str:
    import hashlib

    return hashlib.sha256(entries[name]).hexdigest()


def test_LOAN14_the_dossier_verifies_TOTAL_PASSED_with_the_tenants_seal_named(world) -> None:
    services, http, _keys, loan = world
    report = verifier_of(services).verify(loan["asice"]).as_json()
    assert report["kind"] == "asice" and report["indication"] == "TOTAL-PASSED", report["sentence"]
    seal = report["signatures"][0]
    assert seal["field"] == SIGNATURE and seal["kind"] == "cms" and seal["level"] == "B-LT"
    tenant = services.tenants.get("alpha")
    assert seal["signer"]["bin"] == tenant.as_json()["seal"]["bin"] and "ALPHA" in seal["signer"]["name"]
    assert seal["timestamp"]["trusted"]
    container = report["container"]
    assert container["problems"] == [] and all(f["status"] == "unchanged" for f in container["files"])
    # Every signed PDF inside was verified: the schedule's last version carries both parties' signatures.
    schedule = [s for s in report["signatures"] if "-schedule-" in s["field"] and "v3-seal.pdf" in s["field"]]
    assert len(schedule) == 2 and {s["signer"]["iin"] is None for s in schedule} == {True, False}
    assert sum(f["signatures"] for f in container["files"]) + 1 == len(report["signatures"])
    evidence = [s for s in report["signatures"] if s["field"].endswith(".json.p7s")]
    assert len(evidence) == 5 and all(s["indication"] == "TOTAL-PASSED" for s in evidence)
    # POST /verify recognises and checks it too.
    answer = http.post("/verify", files={"file": ("dossier.asice", loan["asice"], MIMETYPE)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["indication"] == "TOTAL-PASSED" and answer.json()["kind"] == "asice"


def test_LOAN14_qoltanba_verify_checks_a_dossier(world, tmp_path) -> None:
    services, _http, _keys, loan = world
    path = tmp_path / "dossier.asice"
    path.write_bytes(loan["asice"])
    passed = _cli(services, "verify", str(path), "--json")
    assert passed.exit_code == 0, passed.output
    assert json.loads(passed.stdout)["container"]["problems"] == []
    entries = _entries(loan["asice"])
    entries.pop("correspondence/sms.json")
    path.write_bytes(_rezip(entries))
    failed = _cli(services, "verify", str(path))
    assert failed.exit_code == 1 and "'correspondence/sms.json' is listed in the manifest but missing" in failed.stdout
    # A hostile ZIP: exit 2, one line naming every reason.
    entries = {"mimetype": MIMETYPE.encode(), "../escape.pdf": b"%PDF-1.7", "META-INF/ASiCManifest.xml": b"<x/>"}
    path.write_bytes(_rezip(entries))
    refused = _cli(services, "verify", str(path))
    assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.output
    assert "'../escape.pdf'" in refused.stderr and "no signature" in refused.stderr


def test_LOAN14_qoltanba_tenant_dossier_exports_what_verifies(world, tmp_path) -> None:
    services, _http, _keys, loan = world
    path = tmp_path / "loan.asice"
    made = _cli(services, "tenant", "dossier", "alpha", loan["contract"], "--out", str(path))
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["contract"] == loan["contract"] and path.read_bytes()[:4] == b"PK\x03\x04"
    assert _cli(services, "verify", str(path)).exit_code == 0
    other = _cli(services, "tenant", "dossier", "beta", loan["contract"], "--out", str(tmp_path / "no.asice"))
    assert other.exit_code != 0 and "no document" in other.output and not (tmp_path / "no.asice").exists()


def _spoiled(world, entries: dict[str, bytes]) -> dict:
    services = world[0]
    return verifier_of(services).verify(_rezip(entries)).as_json()


def test_LOAN14_a_file_removed_added_or_changed_is_named_and_fails(world) -> None:
    services, _http, _keys, loan = world
    original = _entries(loan["asice"])
    consent = next(n for n in original if "-consent-" in n and n.endswith("v1-uploaded.pdf"))

    removed = dict(original)
    removed.pop(consent)
    report = _spoiled(world, removed)
    assert report["indication"] == "TOTAL-FAILED"
    assert [(p["code"], p["file"]) for p in report["container"]["problems"]] == [("missing", consent)]
    assert f"{consent!r} is listed in the manifest but missing" in report["sentence"]

    added = {**original, "documents/backdated-consent.pdf": original[consent]}
    report = _spoiled(world, added)
    assert report["indication"] == "TOTAL-FAILED" and report["sub_indication"] == "FORMAT_FAILURE"
    assert [(p["code"], p["file"]) for p in report["container"]["problems"]] == [
        ("unlisted", "documents/backdated-consent.pdf")]
    assert "'documents/backdated-consent.pdf' is in the container but not in the signed manifest" in report["sentence"]

    changed = dict(original)
    changed["correspondence/notices.json"] = original["correspondence/notices.json"] + b" "
    index = json.loads(original["dossier.json"])
    index["exported_by"] = "someone else"
    changed["dossier.json"] = json.dumps(index).encode()
    report = _spoiled(world, changed)
    assert report["indication"] == "TOTAL-FAILED" and report["sub_indication"] == "HASH_FAILURE"
    named = sorted((p["code"], p["file"]) for p in report["container"]["problems"])
    assert named == [("changed", "correspondence/notices.json"), ("changed", "dossier.json")]
    assert all(name in report["sentence"] for _, name in named)
    # The signatures inside still pass: it is the container that fails, and it says which file.
    assert report["signatures"][0]["indication"] == "TOTAL-PASSED"

    # A signed PDF changed inside: the container names the file, and the PDF's own signatures fail too.
    sealed = next(n for n in original if "-schedule-" in n and n.endswith("-seal.pdf"))
    forged = bytearray(original[sealed])
    forged[forged.index(b"Microcredit contract")] ^= 0x20
    report = _spoiled(world, {**original, sealed: bytes(forged)})
    assert [(p["code"], p["file"]) for p in report["container"]["problems"]] == [("changed", sealed)]
    inside = [s for s in report["signatures"] if s["field"].startswith(sealed)]
    assert len(inside) == 2 and all(s["indication"] == "TOTAL-FAILED" for s in inside)


def _self_signed_seal():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'ТОО "МФО ALPHA"'),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "BIN071240016266")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))

    class Key:
        def sign(self, data: bytes, hash_name: str) -> bytes:
            return key.sign(data, ec.ECDSA(hashes.SHA256()))

    return Key(), cert


def test_LOAN14_a_manifest_re_signed_by_another_key_is_named_and_fails(world) -> None:
    from keys import KeySigner

    services, _http, _keys, loan = world
    original = _entries(loan["asice"])
    manifest = original[MANIFEST]

    # A key no trusted root vouches for, dressed as the MFO's seal.
    key, cert = _self_signed_seal()
    forged = {**original, SIGNATURE: our_cms(key, cert, (), manifest)}
    report = _spoiled(world, forged)
    assert report["indication"] != "TOTAL-PASSED"
    entry = report["signatures"][0]
    assert entry["field"] == SIGNATURE and entry["indication"] != "TOTAL-PASSED"
    assert entry["sub_indication"] in ("NO_CERTIFICATE_CHAIN_FOUND", "CHAIN_CONSTRAINTS_FAILURE")
    assert repr(SIGNATURE) in report["sentence"]

    # A key our root vouches for, but a borrower's, not an organisation's seal.
    held = client_with_held_key(services)
    chain = tuple(services.hierarchy.chain("national"))
    signed = our_cms(KeySigner(services.backend, held.key_handle), held.certificate, chain, manifest)
    report = _spoiled(world, {**original, SIGNATURE: signed})
    assert report["indication"] == "TOTAL-FAILED" and report["sub_indication"] == "SIG_CONSTRAINTS_FAILURE"
    assert [(p["code"], p["file"]) for p in report["container"]["problems"]] == [("not_seal", SIGNATURE)]
    assert report["signatures"][0]["signer"]["iin"] == held.iin                  # the signer named
    assert "is not made with an organisation's seal certificate" in report["sentence"]

    # The manifest itself edited (a digest swapped) under the tenant's own signature.
    edited = {**original, MANIFEST: re.sub(rb"<ds:DigestValue>[^<]+", b"<ds:DigestValue>AAAA", manifest, count=1)}
    report = _spoiled(world, edited)
    assert report["indication"] == "TOTAL-FAILED"
    assert report["signatures"][0]["field"] == SIGNATURE and report["signatures"][0]["indication"] == "TOTAL-FAILED"
    assert report["container"]["problems"][0]["code"] == "changed"


def test_LOAN14_the_route_serves_only_the_tenants_own_loans(world) -> None:
    services, http, keys, loan = world

    def exports() -> int:
        with services.registry.transaction(readonly=True) as tx:
            return len(tx.audit.all_of("dossier.exported"))

    before = exports()
    # Another tenant's dossier: 404, as an id that never existed; nothing is sealed or recorded.
    assert problem(http.get(f"/documents/{loan['contract']}/dossier", headers=keys["beta"]), 404)
    assert problem(http.get(f"/documents/{'0' * 32}/dossier", headers=keys["alpha"]), 404)
    assert exports() == before
    # Any document of the loan names it: the amendment's id gives the contract's dossier.
    via_amendment = http.get(f"/documents/{loan['amendment']}/dossier", headers=keys["alpha"])
    assert via_amendment.status_code == 200
    assert json.loads(_entries(via_amendment.content)["dossier.json"])["contract"] == loan["contract"]
    # Bad ids are refused by the schema (problem+json), an administrator must name the tenant.
    bad = problem(http.get("/documents/NOT-AN-ID!/dossier", headers=keys["alpha"]), 422)
    assert [p["field"] for p in bad["problems"]] == ["path.document_id"]
    # An administrator reads it by naming the tenant, or naming none (the document's own tenant seals it).
    assert problem(http.get(f"/documents/{loan['contract']}/dossier", params={"tenant": "beta"}), 404)
    assert http.get(f"/documents/{loan['contract']}/dossier", params={"tenant": "alpha"}).status_code == 200
    unnamed = http.get(f"/documents/{loan['contract']}/dossier")
    assert unnamed.status_code == 200 and json.loads(_entries(unnamed.content)["dossier.json"])["tenant"] == "alpha"
    # A consent alone names its loan too: the dossier holds what is filed under its number.
    via_consent = json.loads(_entries(http.get(f"/documents/{loan['consents'][0]}/dossier",
                                               headers=keys["alpha"]).content)["dossier.json"])
    assert via_consent["contract"] == loan["contract"] and len(via_consent["documents"]) == 5
    # Each export is audited.
    with services.registry.transaction(readonly=True) as tx:
        exported = tx.audit.all_of("dossier.exported")
    assert len(exported) >= 3 and exported[0].subject == f"document:{loan['contract']}"


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, content in entries:
            archive.writestr(info, content)
    return out.getvalue()


def test_LOAN14_hostile_containers_are_refused_with_every_reason(world) -> None:
    services, http, _keys, loan = world
    limit = services.settings.verify_max_bytes
    bomb = _zip([("mimetype", MIMETYPE.encode()), ("../../etc/cron.d/evil", b"x"),
                 ("bomb.bin", b"\0" * (limit + 1))])
    answer = problem(http.post("/verify", files={"file": ("bomb.asice", bomb, MIMETYPE)}), 422)
    messages = [p["message"] for p in answer["problems"]]
    assert any("'../../etc/cron.d/evil'" in m and "path traversal" in m for m in messages)
    assert any("'bomb.bin'" in m and "over the limit" in m for m in messages)
    assert any("'mimetype' entry is compressed" in m for m in messages)
    assert any("no manifest" in m for m in messages) and any("no signature" in m for m in messages)
    assert len(bomb) < 64 * 1024              # refused from its directory: nothing was inflated

    ratio = _zip([("mimetype", MIMETYPE.encode()), ("zeros.bin", b"\0" * (4 * 1024 * 1024))])
    refused = problem(http.post("/verify", files={"file": ("r.asice", ratio, MIMETYPE)}), 422)
    assert any("zip bomb" in p["message"] for p in refused["problems"])

    not_asic = _zip([("readme.txt", b"hello")])
    refused = problem(http.post("/verify", files={"file": ("x.zip", not_asic, "application/zip")}), 422)
    reasons = [p["message"] for p in refused["problems"]]
    assert any("first entry is not 'mimetype'" in r for r in reasons)
    assert any("no manifest" in r for r in reasons) and any("no signature" in r for r in reasons)

    entries = _entries(loan["asice"])
    doctype = {**entries, MANIFEST: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'}
    refused = problem(http.post("/verify", files={"file": ("d.asice", _rezip(doctype), MIMETYPE)}), 422)
    assert "DTD" in refused["detail"]
    truncated = loan["asice"][: len(loan["asice"]) // 2]
    refused = problem(http.post("/verify", files={"file": ("t.asice", truncated, MIMETYPE)}), 422)
    assert "not a readable ZIP" in refused["detail"]


def test_LOAN14_the_verify_page_says_which_file_of_a_dossier_fails_in_the_readers_language(world) -> None:
    _services, http, _keys, loan = world
    entries = _entries(loan["asice"])
    entries.pop("correspondence/sms.json")
    page = http.post("/verify", files={"file": ("dossier.asice", _rezip(entries), MIMETYPE)},
                     headers={"Accept": "text/html", "Cookie": "qoltanba_lang=ru"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Контейнер НЕДЕЙСТВИТЕЛЕН" in page.text and "correspondence/sms.json" in page.text
