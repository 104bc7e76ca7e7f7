"""LOAN-15: a unit of work reads its tenant's active key-encryption key once, however many rows it seals
(registry/tenant_keys.py), and a version added or retired in it is seen at once (issue 17, fewer statements)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, event

from registry import tenant_keys
from registry.models.tenants import TenantKeyRow, TenantKeyState

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc)


def _key(tenant: str, version: int, state: str = TenantKeyState.ACTIVE) -> tenant_keys.TenantKey:
    return tenant_keys.TenantKey(tenant, version, state, "software", b"material", b"lookup", NOW, None)


def _engine(tmp_path):  # noqa: ANN001, ANN202
    engine = create_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    TenantKeyRow.__table__.create(engine)
    selects: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda *args: selects.append(args[2]) if args[2].lstrip().upper().startswith("SELECT") else None)
    return engine, selects


def test_LOAN15_the_active_key_is_read_once_in_a_unit_of_work_and_again_in_the_next(tmp_path) -> None:
    engine, selects = _engine(tmp_path)
    with engine.begin() as connection:
        assert tenant_keys.add(connection, _key("alpha", 1))
    selects.clear()
    with engine.begin() as connection:
        assert [tenant_keys.active(connection, "alpha").version for _ in range(6)] == [1] * 6
        assert tenant_keys.active(connection, "beta") is None
        assert tenant_keys.active(connection, "beta") is None   # none is not remembered: it may be made next
    assert len(selects) == 3   # alpha once, beta twice
    with engine.begin() as connection:   # a new unit of work reads again
        tenant_keys.active(connection, "alpha")
    assert len(selects) == 4


def test_LOAN15_a_version_added_or_retired_in_the_unit_of_work_is_the_one_read_after(tmp_path) -> None:
    engine, _selects = _engine(tmp_path)
    with engine.begin() as connection:
        assert tenant_keys.add(connection, _key("alpha", 1))
        assert tenant_keys.active(connection, "alpha").version == 1
        assert tenant_keys.add(connection, _key("alpha", 2))   # a rotation: version 2 wraps new data keys
        assert tenant_keys.active(connection, "alpha").version == 2
        tenant_keys.set_state(connection, "alpha", 2, TenantKeyState.RETIRING)
        assert tenant_keys.active(connection, "alpha").version == 1
        tenant_keys.set_state(connection, "alpha", 1, TenantKeyState.RETIRED, at=NOW)
        assert tenant_keys.active(connection, "alpha") is None


def test_LOAN15_outside_a_transaction_nothing_is_remembered(tmp_path) -> None:
    engine, selects = _engine(tmp_path)
    with engine.begin() as connection:
        tenant_keys.add(connection, _key("alpha", 1))
    selects.clear()
    with engine.connect() as connection:
        connection.commit()   # nothing begun yet: get_transaction() is None until the next statement
        assert connection.get_transaction() is None
        assert tenant_keys._read_in_this_transaction(connection) is None   # noqa: SLF001
