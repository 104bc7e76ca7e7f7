"""Every MFO its own seal (issue 15): two tenants sign contracts in the same hour; SQLite and PostgreSQL.

Each signed PDF's seal names its own tenant's BIN and name, and nobody
else's: `qoltanba verify` says so (exit 0, every signature TOTAL-PASSED,
the seal's signer the tenant) and pyHanko agrees from the document's own
revocation data. The evidence report is sealed by the tenant's seal too.
"""

from __future__ import annotations

import hashlib
import json

from asn1crypto import cms
from cryptography import x509

from tests.integration.test_api import problem
from tests.integration.test_api_documents import mfo_key, post_document  # noqa: F401 - fixture
from tests.integration.test_tenant_onboarding import _cli
from tests.support import factories as f
from tests.support.pdf_judges import pyhanko_statuses
from tests.support.signing import authorise, client_with_held_key


def _sealed_contract(http, services, headers, tenant: str) -> tuple[str, bytes]:
    client = client_with_held_key(services)
    response = post_document(http, headers, metadata=f.loan_metadata(client_id_number=client.iin))
    assert response.status_code == 201, response.text
    document = response.json()["id"]
    auth = authorise(services, document, client.serial, tenant=tenant)
    signed = http.post(f"/documents/{document}/signatures/client", headers=headers, json={"authorisation": auth.id})
    assert signed.status_code == 201, signed.text
    sealed = http.post(f"/documents/{document}/signatures/seal", headers=headers, json={"level": "B-LT"})
    assert sealed.status_code == 201, sealed.text
    final = http.get(f"/documents/{document}/signed.pdf", headers=headers)
    assert final.status_code == 200
    return document, final.content


def test_two_tenants_sign_contracts_the_same_hour_each_sealed_with_its_own_seal(http, services, mfo_key,  # noqa: F811
                                                                               tmp_path) -> None:
    keys = {"alpha": mfo_key("alpha"), "beta": mfo_key("beta")}
    tenants = {code: http.get(f"/tenants/{code}").json() for code in keys}
    assert tenants["alpha"]["bin"] != tenants["beta"]["bin"]
    assert tenants["alpha"]["seal"]["serial"] != tenants["beta"]["seal"]["serial"]
    signed = {code: _sealed_contract(http, services, headers, code) for code, headers in keys.items()}
    root = services.hierarchy.chain("national")[-1]
    for code, (document, pdf) in signed.items():
        tenant, other = tenants[code], tenants["beta" if code == "alpha" else "alpha"]
        # pyHanko: both signatures valid from the document's own revocation data; the seal is the tenant's.
        statuses = pyhanko_statuses(pdf, root, revocation=True)
        assert len(statuses) == 2 and all(s.bottom_line for s in statuses), [s.pretty_print_details()
                                                                              for s in statuses]
        seal = x509.load_der_x509_certificate(statuses[1].signing_cert.dump())
        assert format(seal.serial_number, "x") == tenant["seal"]["serial"]
        names = {a.oid: a.value for a in seal.subject}
        assert names[x509.NameOID.ORGANIZATIONAL_UNIT_NAME] == f"BIN{tenant['bin']}"
        assert names[x509.NameOID.ORGANIZATION_NAME] == tenant["name"] != other["name"]
        # qoltanba verify: exit 0, every signature TOTAL-PASSED, the seal's signer the tenant.
        path = tmp_path / f"{code}.pdf"
        path.write_bytes(pdf)
        result = _cli(services, "verify", str(path), "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["indication"] == "TOTAL-PASSED"
        [entry] = [s for s in report["signatures"] if s.get("field") == "MFO-Seal"]
        assert entry["signer"]["bin"] == tenant["bin"] and entry["signer"]["organisation"] == tenant["name"]
        # The other tenant sees nothing of this document: 404, as an id that never existed.
        problem(http.get(f"/documents/{document}", headers=keys["beta" if code == "alpha" else "alpha"]), 404)


def test_a_tenants_evidence_report_is_sealed_by_its_own_seal(services) -> None:
    """The detached CMS over an evidence report (issue 5) is signed by the tenant's seal, verifiable by openssl."""
    from tests.support.tenants import ensure_tenant

    tenants = {code: ensure_tenant(services, code) for code in ("alpha", "beta")}
    for code, view in tenants.items():
        content = f"evidence of {code}".encode()
        signed = cms.ContentInfo.load(services.signing.seal_detached(code, content))
        [signer] = signed["content"]["signer_infos"]
        serial = format(signer["sid"].chosen["serial_number"].native, "x")
        assert serial == view.seal.serial
        digest = [a for a in signer["signed_attrs"] if a["type"].native == "message_digest"][0]["values"][0].native
        assert digest == hashlib.sha256(content).digest()
