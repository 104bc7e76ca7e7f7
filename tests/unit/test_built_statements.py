"""Hot reads with statements built once (issue 17, faster hot paths; registry/repositories/base.py ``built``):
each call's values are bound at execution, never baked into the statement the first call built, and a row the
unit of work holds is not read again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql

from registry.models import TenantRow
from registry.repositories.base import built
from registry.repositories.transaction import RegistryTransaction

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc)


def _tenant(code: str, status: str = "active") -> TenantRow:
    return TenantRow(code=code, bin=str(len(code)).zfill(12), name=code, status=status, seal_source="software", seal_serial="1",
                     seal_der=b"", seal_key_handle="", policy=None, created_at=NOW, created_by="test",
                     updated_at=NOW)


def _engine(tmp_path):  # noqa: ANN001, ANN202
    engine = create_engine(f"sqlite:///{tmp_path / 'built.db'}")
    TenantRow.__table__.create(engine)
    with engine.begin() as connection:
        tx = RegistryTransaction(connection)
        tx.tenants.add(_tenant("alpha"))
        tx.tenants.add(_tenant("beta", "suspended"))
        tx.finish()
        tx.close()
    return engine


def test_a_shape_is_built_once_and_each_call_reads_its_own_values(tmp_path) -> None:
    engine = _engine(tmp_path)
    with engine.begin() as connection:
        tx = RegistryTransaction(connection)
        assert tx.tenants.by_code("alpha").name == "alpha"
        assert tx.tenants.by_code("beta").name == "beta"          # not the statement of the first call's value
        assert tx.tenants.by_code("gamma") is None
        assert tx.tenants.status_of("beta") == "suspended"
        assert tx.tenants.status_of("alpha") == "active"
        locked = tx.tenants.by_code("alpha", for_update=True)
        assert locked is not None and locked.code == "alpha"
        tx.close()
    calls: list[int] = []

    def build() -> object:
        calls.append(1)
        return object()

    first = built(("test shape",), build)
    assert built(("test shape",), build) is first and calls == [1]
    # Another method naming its shape alike gets a statement of its own.
    assert built(("test shape",), lambda: object()) is not first


def test_the_locking_shape_is_a_statement_of_its_own(tmp_path) -> None:
    from registry.repositories.base import _BUILT

    with _engine(tmp_path).begin() as connection:
        tx = RegistryTransaction(connection)
        tx.tenants.by_code("alpha")
        tx.tenants.by_code("alpha", for_update=True)
        tx.close()
    shapes = {key[1]: statement for key, statement in _BUILT.items() if key[1][:1] == ("tenant",)}
    plain, locking = shapes.get(("tenant", False)), shapes.get(("tenant", True))
    assert plain is not None and locking is not None
    assert "FOR UPDATE" not in str(plain.compile(dialect=postgresql.dialect()))
    assert "FOR UPDATE" in str(locking.compile(dialect=postgresql.dialect()))


def test_a_row_the_unit_of_work_holds_is_not_read_again_and_an_unknown_id_is_none(tmp_path) -> None:
    engine = _engine(tmp_path)
    selects: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda *args: selects.append(args[2]) if args[2].lstrip().upper().startswith("SELECT") else None)
    with engine.begin() as connection:
        tx = RegistryTransaction(connection)
        alpha = tx.tenants.by_code("alpha")
        assert tx.tenants._by_id(TenantRow, alpha.id) is alpha
        assert len(selects) == 1   # by_code's; the row by id came from the unit of work
        assert tx.tenants._by_id(TenantRow, 10_000) is None
        tx.close()
    with engine.begin() as connection:   # another unit of work reads it, with one statement
        tx = RegistryTransaction(connection)
        assert tx.tenants._by_id(TenantRow, alpha.id).code == "alpha"
        tx.close()
    assert len(selects) == 3
