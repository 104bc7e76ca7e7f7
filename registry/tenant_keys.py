"""The versions of each tenant's key-encryption key (LOAN-15), read and written on the caller's connection.

Core statements, not the ORM: the keyring reads them while a session
flushes (sealing a row), where the session itself may not be used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from registry.models.tenants import TenantKeyRow, TenantKeyState

_T = TenantKeyRow.__table__


@dataclass(frozen=True)
class TenantKey:
    tenant: str
    version: int
    state: str
    backend: str
    material: bytes | None
    lookup_key: bytes | None
    created_at: dt.datetime
    retired_at: dt.datetime | None


def _key(row) -> TenantKey:  # noqa: ANN001 - a Core row
    return TenantKey(row.tenant, row.version, row.state, row.backend, row.material, row.lookup_key,
                     row.created_at, row.retired_at)


_ACTIVE = (select(_T).where(_T.c.tenant == bindparam("tenant"), _T.c.state == TenantKeyState.ACTIVE)
           .order_by(_T.c.version.desc()).limit(1))
_READ = "qoltanba.active_tenant_keys"   # in the connection's info: (its transaction, {tenant: active key})


def _read_in_this_transaction(connection: Connection) -> dict[str, TenantKey] | None:
    """The active keys this transaction read already: a unit of work that seals several rows of a tenant (a
    confirm seals six) reads its key once. None outside a transaction (nothing is remembered then)."""
    transaction = connection.get_transaction()
    if transaction is None:
        return None
    held = connection.info.get(_READ)
    if held is None or held[0] is not transaction:
        held = connection.info[_READ] = (transaction, {})
    return held[1]


def active(connection: Connection, tenant: str) -> TenantKey | None:
    """The version that wraps new data keys (the newest active one), read once in a transaction."""
    read = _read_in_this_transaction(connection)
    if read is not None and tenant in read:
        return read[tenant]
    row = connection.execute(_ACTIVE, {"tenant": tenant}).first()
    key = None if row is None else _key(row)
    if key is not None and read is not None:
        read[tenant] = key
    return key


def version(connection: Connection, tenant: str, number: int) -> TenantKey | None:
    row = connection.execute(select(_T).where(_T.c.tenant == tenant, _T.c.version == number)).first()
    return None if row is None else _key(row)


def versions(connection: Connection, tenant: str | None = None) -> list[TenantKey]:
    stmt = select(_T).order_by(_T.c.tenant, _T.c.version)
    if tenant is not None:
        stmt = stmt.where(_T.c.tenant == tenant)
    return [_key(row) for row in connection.execute(stmt)]


def add(connection: Connection, key: TenantKey) -> bool:
    """Insert a version; False when that version of the tenant exists already (another process made it)."""
    values = {"tenant": key.tenant, "version": key.version, "state": key.state, "backend": key.backend,
              "material": key.material, "lookup_key": key.lookup_key, "created_at": key.created_at,
              "retired_at": key.retired_at}
    connection.info.pop(_READ, None)   # a new version may be the active one now
    try:
        with connection.begin_nested():
            connection.execute(insert(_T).values(**values))
    except IntegrityError:
        return False
    return True


def set_state(connection: Connection, tenant: str, number: int, state: str, *, at: dt.datetime | None = None,
              forget_material: bool = False) -> None:
    values: dict = {"state": state}
    if at is not None:
        values["retired_at"] = at
    if forget_material:
        values.update(material=None, lookup_key=None)
    connection.info.pop(_READ, None)
    connection.execute(update(_T).where(_T.c.tenant == tenant, _T.c.version == number).values(**values))


__all__ = ["TenantKey", "active", "add", "set_state", "version", "versions"]
