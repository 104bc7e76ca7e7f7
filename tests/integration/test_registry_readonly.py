"""registry.readonly: what ``qoltanba verify`` reads of a home, without the ORM (start-up, issue 21).

It must read exactly what the registry holds, on both databases, so that
the verification's trust anchors are the services' own; and it must leave
the home as it found it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ca.hierarchy import SERVICE_HOLDERS, Hierarchy
from ca.policy import NATIONAL
from registry import CertificateStatus
from registry.readonly import VALID, ReadOnlyRegistry, sqlite_path
from signing.verification.trust_store import TrustStore
from tests.support import golden

NCA_ROOT = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk" / "ca" / "nca_rsa_test.crt"


def test_it_reads_what_the_registry_holds_and_the_same_trust_store_answers(services) -> None:
    services.trust_store.add(NCA_ROOT.read_bytes(), "NCA RK RSA test root", actor="test")
    registry = ReadOnlyRegistry(services.settings.resolved_database_url)
    try:
        assert registry.table_names() == services.database.table_names()
        with services.registry.transaction(readonly=True) as tx, registry.transaction() as read:
            assert [tuple(row) for row in read.centres.all()] == [
                (row.id, row.code, row.parent_id, row.key_handle, row.certificate_der) for row in tx.centres.all()]
            for name in SERVICE_HOLDERS:
                holder = f"service:{name}"
                assert [tuple(row) for row in read.certificates.by_holder(holder)] == [
                    (row.id, row.holder, row.status, row.der) for row in tx.certificates.by_holder(holder)]
                assert read.certificates.by_holder(holder)
            assert [tuple(row) for row in read.trust_anchors.all()] == [
                (row.id, row.sha256, row.label, row.der) for row in tx.trust_anchors.all()]
        # The services' own Hierarchy and TrustStore, reading through it, answer as they do on the registry.
        hierarchy = Hierarchy(registry, services.settings.base_url)  # type: ignore[arg-type]
        assert hierarchy.is_initialised()
        assert hierarchy.chain(NATIONAL) == services.hierarchy.chain(NATIONAL)
        store = TrustStore(registry, None, lambda: [hierarchy.chain(NATIONAL)[-1]])  # type: ignore[arg-type]
        assert store.anchors().der() == services.trust_store.anchors().der()
        assert len(store.anchors().der()) == 2   # our root, then the imported one
    finally:
        registry.close()


def test_reading_changes_nothing_and_a_missing_file_is_an_empty_registry_not_a_new_one(tmp_path) -> None:
    path = tmp_path / "registry.db"
    golden.prepare(tmp_path, f"sqlite:///{path}")   # an initialised home's registry, SQLite
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    registry = ReadOnlyRegistry(f"sqlite:///{path}")
    try:
        with registry.transaction() as read:
            assert read.centres.all() and read.certificates.by_holder("service:tsa")
    finally:
        registry.close()
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == before
    missing = tmp_path / "nowhere" / "registry.db"
    empty = ReadOnlyRegistry(f"sqlite:///{missing}")
    try:
        assert empty.table_names() == set()
    finally:
        empty.close()
    assert not missing.exists() and not missing.parent.exists()


def test_only_a_plain_sqlite_file_url_is_opened_with_sqlite3() -> None:
    assert sqlite_path("sqlite:////srv/home/registry.db") == "/srv/home/registry.db"
    assert sqlite_path("sqlite+pysqlite:///relative.db") == "relative.db"
    for other in ("sqlite://", "sqlite:///:memory:", "sqlite:///file.db?mode=ro", "postgresql://u@h/db"):
        assert sqlite_path(other) is None, other


def test_the_status_it_asks_for_is_the_registrys_valid() -> None:
    assert VALID == CertificateStatus.VALID
