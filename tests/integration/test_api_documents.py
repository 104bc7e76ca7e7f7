"""The documents API end to end (multipart upload, reads, downloads), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import itertools
import json

import pytest

from tests.integration.test_api import PROBLEM, fields, messages, problem
from tests.support import factories as f
from tests.support import pdfs
from tests.support.tenants import ensure_tenant

_names = itertools.count(1)


@pytest.fixture
def mfo_key(http, services):
    """``mfo_key("alpha")`` -> headers of a fresh mfo key of that tenant (None: a key without a tenant).

    The tenant is created first, with its own seal, when it does not exist (issue 15: a key names a tenant).
    """

    def make(tenant: str | None, role: str = "mfo") -> dict[str, str]:
        if tenant is not None:
            ensure_tenant(services, tenant)
        body = {"name": f"{role}-{tenant}-{next(_names)}", "role": role, "tenant": tenant}
        response = http.post("/api-keys", json=body)
        assert response.status_code == 201, response.text
        return {"X-API-Key": response.json()["key"]}

    return make


@pytest.fixture
def alpha(mfo_key):
    return mfo_key("alpha")


def post_document(http, headers, pdf: bytes | None = None, metadata: object = None):
    files = {"file": ("contract.pdf", pdf if pdf is not None else pdfs.contract_pdf(), "application/pdf")}
    meta = metadata if metadata is not None else f.loan_metadata()
    return http.post("/documents", headers=headers, files=files,
                     data={"metadata": meta if isinstance(meta, str) else json.dumps(meta)})


def uploaded(http, headers, **kwargs) -> dict:
    response = post_document(http, headers, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


def listed(http, headers, **params) -> list[str]:
    response = http.get("/documents", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()]


def sign(services, tenant: str, public_id: str, reason: str = "signature") -> None:
    """The signing engine's side: it stores each signed version through the service."""
    with services.registry.transaction() as tx:
        document = tx.documents.by_public_id(tenant, public_id, for_update=True)
        latest = tx.document_versions.latest(document.id)
        services.documents.add_version(tx, document, pdfs.incremental_update(latest.content, reason), reason=reason)


def test_mfo_uploads_a_contract_reads_it_and_downloads_each_version(http, services, alpha):
    pdf = pdfs.contract_pdf(3)
    metadata = f.loan_metadata(loan_amount=500000, annual_effective_rate=44.5)
    response = post_document(http, alpha, pdf, metadata)
    assert response.status_code == 201, response.text
    view = response.json()
    assert response.headers["location"] == f"/documents/{view['id']}"
    sha = hashlib.sha256(pdf).hexdigest()
    assert view["kind"] == "contract" and view["status"] == "uploaded" and view["contract"] is None
    assert view["metadata"]["loan_amount"] == "500000.00" and view["metadata"]["annual_effective_rate"] == "44.50"
    assert [(v["number"], v["sha256"], v["size"], v["reason"]) for v in view["versions"]] == [
        (1, sha, len(pdf), "uploaded")]
    assert http.get(f"/documents/{view['id']}", headers=alpha).json() == view

    download = http.get(f"/documents/{view['id']}/pdf", headers=alpha)
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["etag"] == f'"{sha}"' and download.headers["x-document-sha256"] == sha
    assert http.get(f"/documents/{view['id']}/pdf", headers={**alpha, "If-None-Match": f'"{sha}"'}).status_code == 304

    sign(services, "alpha", view["id"])
    latest = http.get(f"/documents/{view['id']}/pdf", headers=alpha)
    assert latest.content.startswith(pdf) and latest.headers["x-document-version"] == "2"
    assert latest.headers["x-document-sha256"] == hashlib.sha256(latest.content).hexdigest() != sha
    assert http.get(f"/documents/{view['id']}/versions/1/pdf", headers=alpha).content == pdf
    assert http.get(f"/documents/{view['id']}/versions/2/pdf", headers=alpha).content == latest.content
    problem(http.get(f"/documents/{view['id']}/versions/3/pdf", headers=alpha), 404)
    versions = http.get(f"/documents/{view['id']}", headers=alpha).json()["versions"]
    assert versions[1]["previous_sha256"] == sha and versions[1]["reason"] == "signature"

    other = uploaded(http, alpha)
    assert listed(http, alpha) == [view["id"], other["id"]]
    assert listed(http, alpha, contract_number=metadata["contract_number"]) == [view["id"]]


def test_LOAN13_every_problem_in_one_problem_json_with_the_pdf_problem(http, alpha):
    """LOAN-13's limits, the client's IIN, an unknown field and the encrypted PDF in one 422; nothing stored."""
    metadata = f.loan_metadata(loan_amount="5000000", term_days=3, interest_rate="2.5", client_id_number=f.bad_iin(),
                               colour="blue")
    reported = problem(post_document(http, alpha, pdfs.encrypted_pdf(), metadata), 422)
    assert {"file", "metadata.loan_amount", "metadata.term_days", "metadata.interest_rate",
            "metadata.client_id_number", "metadata.colour"} == set(fields(reported))
    assert "encrypted" in messages(reported) and messages(reported).count("LOAN-13") == 3
    assert listed(http, alpha) == []


def test_missing_file_and_malformed_metadata_are_listed_together(http, alpha):
    response = http.post("/documents", headers=alpha, data={"metadata": '{"kind": "contract",'})
    assert set(fields(problem(response, 422))) == {"file", "metadata"}
    response = http.post("/documents", headers=alpha, files={"file": ("x.pdf", pdfs.contract_pdf(), "application/pdf")})
    assert fields(problem(response, 422)) == ["metadata"]
    response = http.post("/documents", headers=alpha, json=f.loan_metadata())
    assert set(fields(problem(response, 422))) == {"file", "metadata"}
    assert listed(http, alpha) == []


# Another tenant's ids on every route: tests/integration/test_tenants.py walks the route table.


def test_amendment_over_http_needs_a_signed_contract(http, services, alpha):
    contract = uploaded(http, alpha)
    meta = contract["metadata"]
    amendment = f.loan_metadata(kind="amendment", contract=contract["id"], contract_number=meta["contract_number"],
                                client_id_number=meta["client_id_number"], loan_amount="300000")
    problem(post_document(http, alpha, metadata=amendment), 409)
    sign(services, "alpha", contract["id"])
    created = uploaded(http, alpha, metadata=amendment)
    assert created["kind"] == "amendment" and created["contract"] == contract["id"] and created["base_version"] == 2
    assert http.get(f"/documents/{contract['id']}", headers=alpha).json()["amendments"] == [created["id"]]


def test_who_may_upload_and_read_documents(http, alpha, mfo_key):
    """mfo uploads and reads its tenant's; an administrator reads any tenant's; others are refused."""
    document = uploaded(http, alpha)
    path = f"/documents/{document['id']}"
    assert http.get(path, params={"tenant": "alpha"}).status_code == 200          # the administrator
    assert http.get(path).json()["tenant"] == "alpha"                             # naming none: every tenant's
    problem(http.get(path, params={"tenant": "beta"}), 404)
    problem(post_document(http, {}), 403)                                          # the administrator may not upload
    problem(http.get(path, headers=mfo_key("alpha", role="auditor")), 403)
    problem(post_document(http, mfo_key(None)), 403)                               # an mfo key without a tenant
    problem(http.get(path, headers=alpha, params={"tenant": "beta"}), 403)
    problem(http.post("/applications", headers=alpha, json={}), 403)               # mfo keys only reach documents


@pytest.fixture
def small_uploads(services):
    """Documents up to 64 KiB: small enough to go over the limit cheaply."""
    services.settings.max_document_bytes = 64 * 1024
    services.__dict__.pop("documents", None)
    yield 64 * 1024


def test_a_body_over_the_limit_answers_413_before_it_is_read(http, alpha, small_uploads):
    from api.http.routes.documents import MULTIPART_ALLOWANCE

    body_limit = small_uploads + MULTIPART_ALLOWANCE
    boundary = "qoltanba-boundary"
    headers = {**alpha, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    oversized = b"0" * (body_limit + 1)
    answer = problem(http.post("/documents", headers=headers, content=oversized), 413)
    assert answer["code"] == "payload-too-large"

    def chunked():   # no Content-Length: counted while it is read
        yield f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n".encode()
        for _ in range(body_limit // 65536 + 2):
            yield b"%" * 65536

    response = http.post("/documents", headers=headers, content=chunked())
    assert problem(response, 413)["code"] == "payload-too-large"
    assert response.headers["content-type"].split(";")[0] == PROBLEM

    # Within the body allowance but over the document limit: the document is refused with the rest.
    padded = pdfs.contract_pdf(1) + b"%" * small_uploads
    reported = problem(post_document(http, alpha, padded), 422)
    assert fields(reported) == ["file"] and "over the limit" in messages(reported)
    assert listed(http, alpha) == []
