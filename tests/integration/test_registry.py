"""Registry guarantees enforced by the database itself, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from ca.issuance import IssueRequest, KeySource
from ca.subject import SubjectData
from registry import Conflict, Database
from tests.support import factories as f


def issue(services, iin: str | None = None):
    return services.issuance.issue(IssueRequest(
        centre="national", profile="individual-sign", key=KeySource(csr=f.csr_pem()), actor="test",
        subject=SubjectData(surname="Тестов", given_name="Тест", iin=iin or f.iin())))


def test_alembic_upgrade_downgrade_round_trip(database_url):
    """The migrations create every table, drop them all, and create them again."""
    db = Database(database_url)
    db.upgrade()
    tables = db.table_names()
    assert {"centres", "certificates", "applications", "issuance_journal", "actors", "audit_log"} <= tables
    db.downgrade("base")
    assert db.table_names() <= {"alembic_version"}
    db.upgrade()
    assert db.table_names() == tables
    db.dispose()


def test_serials_are_random_and_unique_per_issuer_in_the_database(services):
    """Serial numbers carry at least 64 random bits; the database refuses a duplicate."""
    serials = [int(issue(services).serial, 16) for _ in range(20)]
    assert len(set(serials)) == 20
    assert all(s.bit_length() >= 64 for s in serials)
    with services.registry.transaction() as tx:
        row = tx.certificates.by_serial(format(serials[0], "x"))[0]
        columns = {c: getattr(row, c) for c in ("issuer_id", "profile", "subject_dn", "common_name", "holder",
                                                "not_before", "not_after", "status", "key_algorithm",
                                                "key_carrier", "der", "issued_by", "created_at")}
    duplicate = dict(columns, serial=format(serials[0], "x"), fingerprint_sha256="f" * 64)
    journal = dict(centre_id=columns["issuer_id"], holder_name="x", issued_at=columns["created_at"],
                   certificate_serial="0", valid_from=columns["not_before"], valid_to=columns["not_after"],
                   administrator="x")
    with pytest.raises(Conflict) as caught:
        with services.registry.transaction() as tx:
            tx.certificates.record_issuance(duplicate, journal)
    assert caught.value.constraint == "uq_certificates_issuer_serial"


def test_issuance_writes_certificate_journal_and_audit_together(services):
    """Issuance is one unit of work: registry row, journal row and audit entry."""
    issued = issue(services)
    with services.registry.transaction() as tx:
        row = tx.certificates.by_serial(issued.serial)[0]
        journal = [j for j in tx.journal.entries() if j.certificate_serial == issued.serial]
        audit = [a for a in tx.audit.entries(limit=10_000) if a.subject == issued.serial]
        assert tx.audit.verify() is None
    assert row.status == "valid" and row.der == issued.certificate.public_bytes(
        __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)
    assert len(journal) == 1 and journal[0].administrator == "test"
    assert len(audit) == 1 and audit[0].action == "certificate.issued"


def test_audit_chain_names_the_changed_entry(services):
    """The audit log is hash-chained: editing a row directly in the database is detected."""
    issue(services)
    issue(services)
    with services.registry.transaction() as tx:
        entries = tx.audit.entries(limit=10_000)
    target = entries[-2]
    with services.database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = :id"), {"id": target.id})
    with services.registry.transaction() as tx:
        broken = tx.audit.verify()
    assert broken is not None and broken.entry_id == target.id


def test_application_dates_are_stored_timezone_aware(services):
    """Timestamps come back aware on both databases, so deadlines compare correctly."""
    view = services.applications.submit("individual", f.individual_form(), [{"kind": "id-copy", "name": "i"}],
                                        f.csr_pem(), "registrar")
    again = services.applications.get(view.id)
    assert again.submitted_at.tzinfo is not None
    assert abs(again.submitted_at - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=5)


def test_lint_at_issuance_setting_issues_clean_certificates(tmp_path):
    """With QOLTANBA_LINT_AT_ISSUANCE every profile still issues (its output is lint-clean)."""
    from api.wiring import Services
    from api.settings import Settings

    svc = Services.build(Settings(home=tmp_path / "h", master_key="22" * 32, lint_at_issuance=True))
    svc.migrate()
    svc.bootstrap.initialise()
    assert svc.policy.lint_at_issuance
    issued = issue(svc)
    assert issued.serial
    svc.close()


def test_service_certificates_keep_their_profile_validity(services):
    """The TSA certificate lives five years (its profile); people's certificates one year."""
    from cryptography import x509 as _x509

    tsa = _x509.load_der_x509_certificate(services.hierarchy.service_certificate("tsa").der)
    assert (tsa.not_valid_after_utc - tsa.not_valid_before_utc).days == 1825
    person = issue(services).certificate
    assert (person.not_valid_after_utc - person.not_valid_before_utc).days == 365


def test_migrations_build_exactly_the_models_schema(database_url):
    """Alembic's head and the SQLAlchemy models agree (no forgotten column, index or constraint)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from registry.models import Base

    db = Database(database_url)
    db.upgrade()
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    db.dispose()
