"""Loan documents and their versions on SQLite and PostgreSQL: upload, hash chain, amendments, tenants."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text

from ca.errors import ConflictError, InvalidInput, NotFound
from registry import Database
from signing import DocumentLimits, DocumentService, NotIncrementalUpdate
from tests.support import factories as f
from tests.support import pdfs

TENANT, OTHER = "mfo-alpha", "mfo-beta"


def counts(services) -> tuple[int, int, int]:
    """(documents, versions, audit entries) in the whole registry."""
    with services.database.engine.connect() as connection:
        return tuple(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # type: ignore[return-value]
                     for table in ("documents", "document_versions", "audit_log"))


def upload(services, tenant: str = TENANT, pdf: bytes | None = None, **metadata):
    return services.documents.upload("mfo-backend", tenant, pdf or pdfs.contract_pdf(), f.loan_metadata(**metadata))


def sign(services, tenant: str, public_id: str, reason: str = "signature", **extra):
    """What the signing engine does: append an incremental update in its own transaction."""
    with services.registry.transaction() as tx:
        document = tx.documents.by_public_id(tenant, public_id, for_update=True)
        latest = tx.document_versions.latest(document.id)
        row = services.documents.add_version(tx, document, pdfs.incremental_update(latest.content, reason),
                                             reason=reason, **extra)
        return row.number, row.sha256


def refusal(call) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        call()
    return {p.field: p.message for p in caught.value.problems}


def test_upload_stores_version_1_with_the_hash_computed_on_arrival(services):
    pdf = pdfs.contract_pdf(3)
    view = upload(services, pdf=pdf, loan_amount="1000000", client_kind="legal_entity", client_id_number=f.VALID_BIN,
                  purpose="business", secured=True)
    assert len(view.id) == 32 and view.kind == "contract" and view.status == "uploaded" and view.tenant == TENANT
    (version,) = view.versions
    assert (version.number, version.reason, version.size) == (1, "uploaded", len(pdf))
    assert version.sha256 == hashlib.sha256(pdf).hexdigest() and version.previous_sha256 is None
    assert str(view.metadata.loan_amount) == "1000000.00" and view.metadata.secured is True
    stored = services.documents.latest_pdf(TENANT, view.id)
    assert stored.content == pdf and stored.sha256 == version.sha256 and stored.number == 1
    assert services.documents.get(TENANT, view.id) == view


def test_upload_writes_one_audit_entry_with_the_hash_never_the_content(services):
    pdf = pdfs.contract_pdf(1)
    view = upload(services, pdf=pdf)
    with services.registry.transaction() as tx:
        entries = [e for e in tx.audit.entries(limit=10_000) if e.subject == f"document:{view.id}"]
        assert tx.audit.verify() is None
    (entry,) = entries
    assert entry.action == "document.uploaded" and entry.actor == "mfo-backend"
    assert entry.details["sha256"] == hashlib.sha256(pdf).hexdigest() and entry.details["tenant"] == TENANT
    assert view.metadata.client_id_number not in str(entry.details) and "content" not in entry.details


def test_each_bad_pdf_is_refused_with_its_reason_and_nothing_is_stored(services):
    before = counts(services)
    for name, (maker, reason) in pdfs.BAD_INPUTS.items():
        problems = refusal(lambda: upload(services, pdf=maker()))
        assert list(problems) == ["file"] and reason in problems["file"], name
    small = DocumentService(services.registry, services.clock, DocumentLimits(max_document_bytes=2048))
    oversized = pdfs.contract_pdf(40)
    assert len(oversized) > 2048
    problems = refusal(lambda: small.upload("mfo-backend", TENANT, oversized, f.loan_metadata()))
    assert "over the limit of 2048 bytes" in problems["file"]
    problems = refusal(lambda: services.documents.upload("mfo-backend", TENANT, None, f.loan_metadata()))
    assert "required" in problems["file"]
    assert counts(services) == before


def test_LOAN13_pdf_and_metadata_problems_are_listed_together_and_nothing_is_stored(services):
    """LOAN-13 limits, the IIN checksum and a broken PDF, all in one refusal; no row, no version, no audit entry."""
    before = counts(services)
    problems = refusal(lambda: upload(services, pdf=pdfs.truncated_pdf(), loan_amount="9999", term_days=1200,
                                      annual_effective_rate="47", client_id_number=f.bad_iin(),
                                      template_version=None))
    assert {"file", "metadata.loan_amount", "metadata.term_days", "metadata.annual_effective_rate",
            "metadata.client_id_number", "metadata.template_version"} == set(problems)
    assert all("LOAN-13" in problems[f"metadata.{name}"]
               for name in ("loan_amount", "term_days", "annual_effective_rate"))
    assert counts(services) == before


def test_versions_are_appended_with_a_hash_chain_and_never_overwritten(services):
    first = pdfs.contract_pdf(2)
    view = upload(services, pdf=first)
    two = sign(services, TENANT, view.id, "signature", signature_field="Client", signer_serial="4a3f01")
    three = sign(services, TENANT, view.id, "seal", signature_field="MFO")
    assert (two[0], three[0]) == (2, 3)
    versions = services.documents.get(TENANT, view.id).versions
    assert [v.number for v in versions] == [1, 2, 3]
    assert [v.reason for v in versions] == ["uploaded", "signature", "seal"]
    assert versions[1].previous_sha256 == versions[0].sha256 and versions[2].previous_sha256 == versions[1].sha256
    assert versions[1].signature_field == "Client" and versions[1].signer_serial == "4a3f01"
    for version in versions:
        stored = services.documents.version_pdf(TENANT, view.id, version.number)
        assert hashlib.sha256(stored.content).hexdigest() == version.sha256 == stored.sha256
    assert services.documents.version_pdf(TENANT, view.id, 1).content == first
    assert services.documents.latest_pdf(TENANT, view.id).number == 3
    assert services.documents.version_pdf(TENANT, view.id, 3).content.startswith(
        services.documents.version_pdf(TENANT, view.id, 2).content)
    with pytest.raises(NotFound):
        services.documents.version_pdf(TENANT, view.id, 4)


def test_a_version_that_does_not_extend_the_previous_one_is_refused(services):
    """Every version is an incremental update of the one before, so nothing signed is ever lost."""
    view = upload(services)
    sign(services, TENANT, view.id)
    signed = services.documents.latest_pdf(TENANT, view.id).content
    original = services.documents.version_pdf(TENANT, view.id, 1).content
    before = counts(services)
    rewritten = pdfs.contract_pdf(2, text="Rewritten contract")   # a fresh file: the signature is gone
    on_the_upload = pdfs.incremental_update(original, "forked")   # extends version 1, drops version 2
    for candidate in (rewritten, on_the_upload, signed, signed[:-10]):
        with pytest.raises(NotIncrementalUpdate) as caught:
            with services.registry.transaction() as tx:
                document = tx.documents.by_public_id(TENANT, view.id)
                services.documents.add_version(tx, document, candidate, reason="signature")
        assert caught.value.code == "conflict" and "version 2" in caught.value.detail
    with pytest.raises(InvalidInput):   # extends the bytes but is no longer a readable PDF
        with services.registry.transaction() as tx:
            document = tx.documents.by_public_id(TENANT, view.id)
            services.documents.add_version(tx, document, signed + b"\nstartxref\n999999999\n%%EOF\n",
                                           reason="signature")
    with pytest.raises(InvalidInput):
        with services.registry.transaction() as tx:
            document = tx.documents.by_public_id(TENANT, view.id)
            services.documents.add_version(tx, document, pdfs.incremental_update(signed), reason="uploaded")
    assert counts(services) == before
    assert services.documents.latest_pdf(TENANT, view.id).content == signed


def test_amendment_is_chained_to_the_latest_signed_version_of_its_contract(services):
    contract = upload(services)
    sign(services, TENANT, contract.id, "signature")
    sign(services, TENANT, contract.id, "seal")
    meta = contract.metadata
    amendment = upload(services, kind="amendment", contract=contract.id, contract_number=meta.contract_number,
                       client_id_number=meta.client_id_number, term_days=240)
    assert amendment.kind == "amendment" and amendment.contract == contract.id and amendment.base_version == 3
    assert amendment.metadata.contract == contract.id
    assert services.documents.get(TENANT, contract.id).amendments == (amendment.id,)
    dossier = services.documents.list(TENANT, contract_number=meta.contract_number)
    assert [d.id for d in dossier] == [contract.id, amendment.id]
    # The contract's later versions do not move the amendment's base.
    sign(services, TENANT, contract.id, "document-timestamp")
    assert services.documents.get(TENANT, amendment.id).base_version == 3


def test_amendment_to_an_unsigned_contract_is_a_conflict_and_nothing_is_stored(services):
    contract = upload(services)
    before = counts(services)
    with pytest.raises(ConflictError) as caught:
        upload(services, kind="amendment", contract=contract.id, contract_number=contract.metadata.contract_number,
               client_id_number=contract.metadata.client_id_number)
    assert "not been signed" in caught.value.detail
    assert counts(services) == before


def test_amendment_must_name_a_contract_of_the_same_tenant_and_client(services):
    theirs = upload(services, tenant=OTHER)
    sign(services, OTHER, theirs.id)
    ours = upload(services)
    sign(services, TENANT, ours.id)
    amendment = upload(services, kind="amendment", contract=ours.id, contract_number=ours.metadata.contract_number,
                       client_id_number=ours.metadata.client_id_number)
    before = counts(services)
    meta = theirs.metadata
    foreign = refusal(lambda: upload(services, kind="amendment", contract=theirs.id,
                                     contract_number=meta.contract_number, client_id_number=meta.client_id_number))
    unknown = refusal(lambda: upload(services, kind="amendment", contract="0" * 32,
                                     contract_number=meta.contract_number, client_id_number=meta.client_id_number))
    assert foreign["metadata.contract"].startswith("not found") and unknown["metadata.contract"].startswith("not found")
    assert list(foreign) == list(unknown) == ["metadata.contract"]
    mismatched = refusal(lambda: upload(services, kind="amendment", contract=ours.id, contract_number="OTHER-1"))
    assert {"metadata.contract_number", "metadata.client_id_number"} == set(mismatched)
    chained = refusal(lambda: upload(services, kind="amendment", contract=amendment.id,
                                     contract_number=ours.metadata.contract_number,
                                     client_id_number=ours.metadata.client_id_number))
    assert "name the contract itself" in chained["metadata.contract"]
    assert counts(services) == before


def test_another_tenants_document_is_not_found(services):
    view = upload(services)
    sign(services, TENANT, view.id)
    for call in (lambda: services.documents.get(OTHER, view.id),
                 lambda: services.documents.latest_pdf(OTHER, view.id),
                 lambda: services.documents.version_pdf(OTHER, view.id, 1),
                 lambda: services.documents.get(TENANT, "not-an-id")):
        with pytest.raises(NotFound):
            call()
    assert services.documents.list(OTHER) == []
    assert [d.id for d in services.documents.list(TENANT)] == [view.id]
    with services.registry.transaction() as tx:
        assert tx.documents.by_public_id(OTHER, view.id) is None


def test_migration_downgrade_drops_documents_even_when_amendments_point_at_versions(services):
    """The two document tables refer to each other; the downgrade unlinks them before dropping."""
    contract = upload(services)
    sign(services, TENANT, contract.id)
    upload(services, kind="amendment", contract=contract.id, contract_number=contract.metadata.contract_number,
           client_id_number=contract.metadata.client_id_number)
    # Migration 0018 opens the sealed rows again on the way down (LOAN-15): the database is given the tenants' keys.
    database = Database(services.settings.resolved_database_url, sealer=services.tenant_keyring)
    try:
        database.downgrade("0002")
        assert not {"documents", "document_versions"} & database.table_names()
        database.upgrade()
        assert {"documents", "document_versions"} <= database.table_names()
    finally:
        database.dispose()
