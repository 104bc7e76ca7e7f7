"""Alembic upgrade from the previous release's schema with data in it (issue 17, item 4), on SQLite and PostgreSQL.

The previous release is the one that landed on 2026-12-06 (stop 23), at
revision 0011; this session's releases add 0012-0015 (partial indexes, held
keys and the client's own enrolment, the borrower's language, tenants).
Today's code cannot write a 0011 database by itself, so the data is made at
head (the hierarchy initialised, certificates issued and one revoked, a loan
document signed by its client and sealed, an audit checkpoint), the
database is taken down to 0011 by the migrations' own downgrades (which
must keep every row of the older tables), and a client with a TOTP factor
is written into the 0011 tables as that release wrote them. Then
``upgrade`` to head: every row is still there and unchanged, the new
columns have their defaults on the old factor, the audit trail verifies, and
the service at head works on the old data once its tenant is created again
(as README says for an installation upgraded to 0015): /readyz is 200 and a
new document is signed with the client key issued before. LOAN-15: the CA
register the previous release kept in clear is sealed by 0021, the
certificate issued before is found by its holder's IIN and still verifies.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from fastapi.testclient import TestClient
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import MetaData, create_engine, insert, inspect, text

from api.settings import Settings
from api.wiring import Services
from ca.revocation import RevocationRequest
from tests.support import factories as f
from tests.support.signing import client_with_held_key, sign_client_and_seal, upload

PREVIOUS = "0011"


def _snapshot(services: Services) -> dict:
    from registry import CertificateRow, DocumentVersionRow

    with services.registry.transaction(readonly=True) as tx:
        certificates = sorted((c.serial, c.status, hashlib.sha256(c.der).hexdigest())
                              for c in tx.session.query(CertificateRow).all())
        versions = sorted((v.document_id, v.number, v.sha256) for v in tx.session.query(DocumentVersionRow).all())
        audit = [(e.id, e.entry_hash) for e in tx.audit.entries(after_id=0, limit=100_000)]
    return {"certificates": certificates, "versions": versions, "audit": audit}


def _old_client_factor(url: str) -> int:
    """A client and its confirmed TOTP factor, inserted into the 0011 tables as that release wrote them."""
    engine = create_engine(url)
    try:
        assert "enrolment_token_digest" not in {c["name"] for c in inspect(engine).get_columns("client_factors")}
        tables = MetaData()
        tables.reflect(engine, only=["clients", "client_factors"])
        now = dt.datetime.now(dt.timezone.utc)
        with engine.begin() as connection:
            client_id = connection.execute(insert(tables.tables["clients"]).values(
                public_id="c" * 32, tenant="upgrade-mfo", kind="individual", id_number=f.iin(), iin=f.iin(),
                name="Ескі Клиент", phone="+77010000000", created_at=now, created_by="release-0011")
            ).inserted_primary_key[0]
            return connection.execute(insert(tables.tables["client_factors"]).values(
                public_id="t" * 32, client_id=client_id, kind="totp", status="active", secret=b"sealed",
                last_step=12345, created_at=now, confirmed_at=now)).inserted_primary_key[0]
    finally:
        engine.dispose()


def _register_was_clear(url: str, holder) -> None:  # noqa: ANN001 - tests.support.signing.Client
    """The previous release kept the CA register in clear: the held key's certificate names its holder's IIN."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT iin, der, holder FROM certificates WHERE serial = :s"),
                                     {"s": holder.serial}).one()
        assert row.iin == holder.iin and row.holder == f"IIN{holder.iin}"
        assert bytes(row.der) == holder.certificate.public_bytes(serialization.Encoding.DER)
    finally:
        engine.dispose()


def _register_is_sealed_and_found(services: Services, url: str, holder) -> None:  # noqa: ANN001
    """LOAN-15, migration 0021: the certificate issued before the upgrade is sealed under the register key, found
    by its holder's IIN through the keyed hash, and still verifies under its issuing CA."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("certificates")}
            row = connection.execute(text("SELECT sealed, kek_version, iin_digest, holder FROM certificates "
                                          "WHERE serial = :s"), {"s": holder.serial}).one()
    finally:
        engine.dispose()
    assert {"iin", "bin", "common_name", "subject_dn", "der", "email", "organisation"}.isdisjoint(columns)
    assert row.sealed is not None and row.kek_version == 1 and len(row.iin_digest) == 32
    assert holder.iin not in row.holder and holder.iin.encode() not in bytes(row.sealed)
    with services.registry.transaction(readonly=True) as tx:
        (found,) = [c for c in tx.certificates.search(iin=holder.iin) if c.serial == holder.serial]
        certificate = x509.load_der_x509_certificate(found.der)
        assert found.iin == holder.iin and certificate == holder.certificate
        issuer = x509.load_der_x509_certificate(tx.centres.by_id(found.issuer_id).certificate_der)
    certificate.verify_directly_issued_by(issuer)   # raises if the signature does not verify


def test_upgrade_from_the_previous_schema_keeps_every_row_and_the_service_works(tmp_path, database_url) -> None:
    services = Services.build(Settings(home=tmp_path / "home", database_url=database_url, master_key="44" * 32))
    try:
        services.migrate()
        services.bootstrap.initialise()
        services.publisher.reconcile()
        issued = [f.issue_person(services) for _ in range(2)]
        services.revocations.revoke(RevocationRequest(serial=issued[0].serial, actor="test", reason="key-compromise"))
        holder = client_with_held_key(services)
        signed = upload(services, holder.iin)
        sign_client_and_seal(services, holder, signed.id, level="B-T")
        services.audit_checkpoints.checkpoint(actor="test")
        before = _snapshot(services)
    finally:
        services.close()
    # Down to the previous release's schema by the migrations' own downgrades; then a row as it wrote one.
    services = Services.build(Settings(home=tmp_path / "home", database_url=database_url, master_key="44" * 32))
    try:
        services.database.downgrade(PREVIOUS)
    finally:
        services.close()
    _register_was_clear(database_url, holder)
    factor_id = _old_client_factor(database_url)

    services = Services.build(Settings(home=tmp_path / "home", database_url=database_url, master_key="44" * 32))
    try:
        services.migrate()
        from registry import ClientFactorRow

        with services.registry.transaction(readonly=True) as tx:
            revision = tx.connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            factor = tx.session.get(ClientFactorRow, factor_id)
            assert factor is not None and factor.failures == 0 and factor.last_step == 12345
            assert factor.enrolment_token_digest is None
        heads = services.database.alembic_config()
        from alembic.script import ScriptDirectory

        assert revision == ScriptDirectory.from_config(heads).get_current_head() != PREVIOUS
        after = _snapshot(services)
        assert after == before
        _register_is_sealed_and_found(services, database_url, holder)
        assert len(before["certificates"]) >= 9 and len(before["versions"]) == 3
        report = services.audit_checkpoints.verify()
        assert report.intact, [finding.line() for finding in report.findings]
        # The service at head on the old data: ready, and signing with the key issued before the upgrade.
        from api.http.app import create_app

        services.readiness.cache_seconds = 0
        ready = TestClient(create_app(services=services)).get("/readyz")
        assert ready.status_code == 200, ready.text
        again = upload(services, holder.iin)   # creates the tenant again (README: an upgrade to 0015)
        first, second = sign_client_and_seal(services, holder, again.id, level="B-T")
        assert (first.signatory, second.signatory) == ("client", "seal") and second.version == 3
    finally:
        services.close()
