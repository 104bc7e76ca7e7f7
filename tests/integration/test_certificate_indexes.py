"""The partial indexes on ``certificates`` (migration 0012), on SQLite and PostgreSQL.

``ix_certificates_bin`` and the GOV-4 rule ``uq_certificates_single_key_holder``
hold only rows whose column is set, so a person's certificate writes no page
of either; the lookups that use them still do, and GOV-4 is still refused by
the database under the rule's name.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from ca.issuance import IssueRequest, KeySource
from ca.subject import SubjectData
from registry import CertificateRow, Conflict
from tests.support import factories as f


def _issue(services, **subject):  # noqa: ANN001, ANN003
    return services.issuance.issue(IssueRequest(
        centre="national", profile=subject.pop("profile", "individual-sign"), key=KeySource(csr=f.csr_pem()),
        actor="test", subject=SubjectData(surname="Тестов", given_name="Тест", iin=f.iin(), **subject)))


def _row_values(services, serial: str) -> dict:  # noqa: ANN001
    with services.registry.transaction() as tx:
        row = tx.certificates.by_serial(serial)[0]
        return {c.name: getattr(row, c.name) for c in CertificateRow.__table__.columns if c.name != "id"}


def _journal(values: dict) -> dict:
    return dict(centre_id=values["issuer_id"], holder_name="x", issued_at=values["created_at"],
                certificate_serial=values["serial"], valid_from=values["not_before"],
                valid_to=values["not_after"], administrator="test")


def test_gov4_the_partial_unique_index_refuses_a_second_key_under_the_rules_name(services):
    """GOV-4: past the issuance check (a race), the database refuses a second valid key of one holder."""
    values = _row_values(services, _issue(services).serial)
    first = dict(values, serial="a1" * 8, single_key_holder="IIN990101300001", fingerprint_sha256="1" * 64)
    with services.registry.transaction() as tx:
        tx.certificates.record_issuance(first, _journal(first))
    second = dict(first, serial="b2" * 8, fingerprint_sha256="2" * 64)
    with pytest.raises(Conflict) as caught:
        with services.registry.transaction() as tx:
            tx.certificates.record_issuance(second, _journal(second))
    assert caught.value.constraint == "uq_certificates_single_key_holder"
    # Rows without a single-key holder never conflict with each other (NULLs, as before).
    for n in range(3):
        other = dict(values, serial=f"c{n}" * 8, single_key_holder=None, fingerprint_sha256=str(n) * 64)
        with services.registry.transaction() as tx:
            tx.certificates.record_issuance(other, _journal(other))
    with services.registry.transaction() as tx:
        assert tx.certificates.active_single_key(first["issuer_id"], "IIN990101300001").serial == first["serial"]


def test_the_bin_and_single_key_indexes_hold_only_rows_with_the_value(services):
    dialect = services.database.dialect
    with services.registry.transaction(readonly=True) as tx:
        if dialect == "sqlite":
            sql = dict(tx.connection.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'certificates' AND type = 'index'")).all())
        else:
            sql = dict(tx.connection.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'certificates'")).all())
    assert "bin_digest IS NOT NULL" in sql["ix_certificates_bin"]   # the BIN's keyed hash (LOAN-15, 0021)
    assert "single_key_holder IS NOT NULL" in sql["uq_certificates_single_key_holder"]
    assert "UNIQUE" in sql["uq_certificates_single_key_holder"].upper()
    assert "WHERE" not in sql["ix_certificates_iin"].upper()


def _plan(services, statement) -> str:  # noqa: ANN001
    """The database's plan for a repository's query, with the values it would bind."""
    with services.registry.transaction(readonly=True) as tx:
        if services.database.dialect == "sqlite":
            compiled = statement.compile(dialect=tx.connection.dialect)
            rows = tx.connection.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                                 tuple(compiled.params[k] for k in compiled.positiontup))
            return " ".join(str(r[-1]) for r in rows)
        tx.connection.exec_driver_sql("SET LOCAL enable_seqscan = off")   # a tiny table would be scanned
        compiled = statement.compile(dialect=tx.connection.dialect)
        rows = tx.connection.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
        return " ".join(str(r[0]) for r in rows)


def test_lookups_by_bin_and_by_single_key_holder_use_the_partial_indexes(services):
    c = CertificateRow
    by_bin = select(c).where(c.bin_digest == "1" * 64)   # the BIN's keyed hash (LOAN-15, migration 0021)
    single_key = select(c).where(c.issuer_id == 2, c.single_key_holder == "IIN990101300001")
    assert "ix_certificates_bin" in _plan(services, by_bin)
    assert "uq_certificates_single_key_holder" in _plan(services, single_key)
