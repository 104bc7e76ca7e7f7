"""A uniqueness conflict is known by the constraint's declared name, on SQLite and PostgreSQL alike.

PostgreSQL names the constraint in the error's diagnostics; SQLite names
only the columns. ``registry.constraints.constraint_name`` maps both to the
name the models declare (registry/models/base.py's naming convention names
``unique=True`` columns as PostgreSQL does: ``<table>_<column>_key``).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import UniqueConstraint, inspect

from registry import ActorRow, CentreRow, Conflict, CRLRow, Database, Registry, TrustAnchorRow
from registry.models import Base

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)


def _centre(code: str = "national") -> CentreRow:
    return CentreRow(code=code, name="Centre", parent_id=None, key_handle="soft:x", key_algorithm="ec-p256",
                     certificate_serial="01", certificate_der=b"\x30\x00", status="active", created_at=NOW)


def _crl(centre_id: int, number: int) -> CRLRow:
    return CRLRow(centre_id=centre_id, number=number, kind="full", base_number=None, this_update=NOW,
                  next_update=NOW, covered_seq=0, entries=0, sha256="0" * 64, der=b"\x30\x00", created_at=NOW)


def _anchor(sha256: str) -> TrustAnchorRow:
    return TrustAnchorRow(sha256=sha256, label="root", subject="CN=root", der=b"\x30\x00", not_before=NOW,
                          not_after=NOW, added_at=NOW, added_by="test")


def _actor(name: str, key_id: str) -> ActorRow:
    return ActorRow(name=name, role="administrator", key_id=key_id, key_digest="0" * 64, tenant=None, active=True,
                    created_at=NOW)


@pytest.fixture
def registry(database_url):
    database = Database(database_url)
    database.upgrade()
    yield Registry(database)
    database.dispose()


def _conflict(registry: Registry, first, second) -> str:  # noqa: ANN001 - two rows
    with registry.transaction() as tx:
        tx.session.add(first)
    with pytest.raises(Conflict) as caught:
        with registry.transaction() as tx:
            tx.session.add(second)
            tx.flush()
    return caught.value.constraint


def test_a_named_multi_column_constraint_is_reported_by_its_name(registry):
    with registry.transaction() as tx:
        centre_id = tx.centres.add(_centre()).id
    assert _conflict(registry, _crl(centre_id, 1), _crl(centre_id, 1)) == "uq_crls_centre_number"


@pytest.mark.parametrize(("rows", "name"), [
    (lambda: (_anchor("a" * 64), _anchor("a" * 64)), "trust_anchors_sha256_key"),
    (lambda: (_actor("alice", "k1"), _actor("alice", "k2")), "actors_name_key"),
    (lambda: (_actor("alice", "k1"), _actor("bob", "k1")), "actors_key_id_key"),
    (lambda: (_centre("root"), _centre("root")), "centres_code_key"),
], ids=["trust_anchors.sha256", "actors.name", "actors.key_id", "centres.code"])
def test_a_unique_column_is_reported_by_its_declared_name(registry, rows, name):
    assert _conflict(registry, *rows()) == name


def test_a_conflict_through_a_repository_flush_names_the_constraint(registry):
    with registry.transaction() as tx:
        tx.trust_anchors.add(_anchor("b" * 64))
    with pytest.raises(Conflict) as caught:
        with registry.transaction() as tx:
            tx.trust_anchors.add(_anchor("b" * 64))
    assert caught.value.constraint == "trust_anchors_sha256_key"


def test_the_database_holds_every_unique_constraint_under_its_declared_name(database_url):
    """PostgreSQL reports the name it holds; it must be the models' name for every unique constraint."""
    database = Database(database_url)
    database.upgrade()
    try:
        inspector = inspect(database.engine)
        for table in Base.metadata.sorted_tables:
            declared = {frozenset(c.name for c in uq.columns): uq.name
                        for uq in table.constraints if isinstance(uq, UniqueConstraint)}
            assert all(declared.values()), f"{table.name} has a unique constraint without a name"
            if database.engine.dialect.name != "postgresql":
                continue   # SQLite keeps no names for constraints created unnamed
            held = {frozenset(uq["column_names"]): uq["name"] for uq in inspector.get_unique_constraints(table.name)}
            assert held == declared, table.name
    finally:
        database.dispose()
