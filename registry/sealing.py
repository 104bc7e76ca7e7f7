"""Rows whose personal data and documents are stored sealed per tenant (LOAN-15), seen in clear by the code.

A sealed row class declares :class:`SealSpec` as ``__sealed__`` and one
:class:`Clear` attribute per field it keeps in clear for the code; the
database holds only three columns for them all: ``sealed`` (the fields,
encrypted with the object's own data key), ``data_key`` (that key wrapped by
the tenant's key-encryption key) and ``kek_version`` (which version wrapped
it), plus a keyed hash column per searchable field (``*_digest``).

The cryptography is not here (registry imports nothing of the project): the
session's ``info["sealer"]`` is a :class:`Sealer` (``signing.tenants.keyring``
through the wiring). Before each flush new and changed rows are sealed; a
loaded row is opened at once, except the lazy ones (a document version's PDF,
opened when ``content`` is first read): one unwrap per object read.

To seal a new table's columns (e.g. a borrower's bank details): give its row
``data_key``/``kek_version``/``sealed`` columns (:func:`sealed_columns`), a
``tenant`` column, ``Clear()`` attributes, and ``__sealed__``; the hooks,
the rotation (:func:`wrapped_keys`) and the migration helpers find it through
:data:`SEALED_CLASSES`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Integer, LargeBinary, event, select, update
from sqlalchemy.orm import Mapped, Session, attributes, mapped_column, object_session


class SealedDataUnreadable(Exception):
    """Sealed data of a row did not open (moved to another row or tenant, altered, or its key is gone)."""


class Sealer(Protocol):
    """The envelope: seals bytes for a tenant and object, opens them (else :class:`SealedDataUnreadable`), and
    hashes values for lookups."""

    def seal(self, connection: Connection, tenant: str, aad: bytes, plaintext: bytes) -> tuple[int, bytes, bytes]:
        """(KEK version, wrapped data key, ciphertext)."""

    def open(self, connection: Connection, tenant: str, aad: bytes, kek_version: int, data_key: bytes,
             ciphertext: bytes) -> bytes: ...

    def digest(self, connection: Connection, tenant: str, kind: str, value: str) -> str: ...

    def register_key(self, connection: Connection) -> RegisterKey:
        """The installation register's active data key (``registry.register``), held in memory."""

    def register_open(self, connection: Connection, version: int, aad: bytes, ciphertext: bytes) -> bytes: ...


class RegisterKey(Protocol):
    """One version of the register's data key: seals a row's fields (AES-256-GCM) and hashes lookups (HMAC)."""

    version: int

    def seal(self, aad: bytes, plaintext: bytes) -> bytes: ...

    def digest(self, kind: str, value: str) -> str: ...


@dataclass(frozen=True)
class SealSpec:
    """How a row class is sealed: its clear fields, keyed hashes ``{field: (column, kind)}`` and identity."""

    table: str
    fields: tuple[str, ...]
    identity: tuple[str, ...]                   # the columns naming the object within its table
    digests: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # A row without its own tenant: the tenant of its parent (read in the flush that first seals it).
    tenant_of: Callable[[Session, Any], str] | None = None
    lazy: bool = False
    # The certification centre's register (registry.register): sealed under the installation's register key,
    # no tenant and no per-row data key (``kek_version`` names the register key's version).
    register: bool = False

    def name(self, row: Any) -> str:
        return "/".join(str(getattr(row, column)) for column in self.identity)

    def register_aad(self, name: str) -> bytes:
        """A register row's associated data, from its identity's ``name`` (a row's or a Core insert's values)."""
        return f"qoltanba/register/v1|{self.table}|{name}".encode()

    def aad(self, tenant: str | None, row: Any) -> bytes:
        if self.register:
            return self.register_aad(self.name(row))
        return f"qoltanba/loan-15/v1|{tenant}|{self.table}|{self.name(row)}".encode()


SEALED_CLASSES: list[type] = []
REGISTER_CLASSES: list[type] = []   # sealed under the register key (SealSpec.register)
_CLEAR = "_qoltanba_clear"
_DIRTY = "_qoltanba_clear_dirty"


def sealed_columns() -> tuple[Mapped[bytes | None], Mapped[int | None], Mapped[bytes | None]]:
    """The three columns every sealed row has: ``data_key``, ``kek_version``, ``sealed``."""
    return (mapped_column(LargeBinary), mapped_column(Integer), mapped_column(LargeBinary))


class Clear:
    """A field the code reads and writes in clear; stored only inside the row's ``sealed`` column."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, row: Any, owner: type) -> Any:
        if row is None:
            return self
        return _clear(row).get(self.name)

    def __set__(self, row: Any, value: Any) -> None:
        _clear(row)[self.name] = value
        row.__dict__[_DIRTY] = True
        if attributes.instance_state(row).persistent:
            attributes.flag_modified(row, "kek_version")


def sealer_of(session: Session) -> Sealer:
    sealer = session.info.get("sealer")
    if sealer is None:
        raise SealedDataUnreadable("the registry has no sealer: sealed rows need the tenant keyring (wiring)")
    return sealer


def digest(session: Session, tenant: str, kind: str, value: str) -> str:
    """The keyed hash a lookup compares with a ``*_digest`` column."""
    return sealer_of(session).digest(session.connection(), tenant, kind, value)


def _clear(row: Any) -> dict:
    values = row.__dict__.get(_CLEAR)
    if values is None:
        state = attributes.instance_state(row)
        values = {}
        if state.key is not None and row.__dict__.get("sealed", True) is not None:
            session = object_session(row)
            if session is None:
                raise SealedDataUnreadable(f"{type(row).__name__}'s sealed fields were not opened in a session")
            values = _open(session, row)
        row.__dict__[_CLEAR] = values
    return values


def _open(session: Session, row: Any) -> dict:
    spec: SealSpec = type(row).__sealed__
    if row.sealed is None:
        return {}
    if spec.register:
        if row.kek_version is None:   # kept open by design (a service's certificate, registry/register.py)
            return decode_fields(row.sealed)
        try:
            return decode_fields(sealer_of(session).register_open(session.connection(), row.kek_version,
                                                                  spec.aad(None, row), row.sealed))
        except SealedDataUnreadable as exc:
            raise SealedDataUnreadable(f"{spec.table} row {spec.name(row)}: {exc}") from None
    try:
        plain = sealer_of(session).open(session.connection(), row.tenant, spec.aad(row.tenant, row),
                                        row.kek_version, row.data_key, row.sealed)
    except SealedDataUnreadable as exc:
        raise SealedDataUnreadable(f"{spec.table} row {spec.name(row)} of tenant {row.tenant!r}: {exc}") from None
    return decode_fields(plain)


def encode_fields(values: Mapping[str, Any]) -> bytes:
    """Fields as one byte string: a JSON header of names, kinds and lengths, then the raw values.

    The header is written by hand (field names are identifiers, so each is a valid JSON string as it is): the
    register seals two rows per issuance on its hot path, and ``json.dumps`` of the header cost more than the
    AES-GCM over the fields. The bytes are those ``json.dumps(header, separators=(",", ":"))`` gives.
    """
    header, bodies = [], []
    for name in sorted(values):
        value = values[name]
        if value is None:
            header.append(f'["{name}","n",0]')
            continue
        if isinstance(value, str):
            kind, body = "s", value.encode()
        elif isinstance(value, (bytes, bytearray)):
            kind, body = "b", bytes(value)
        else:
            kind, body = "j", json.dumps(value).encode()
        header.append(f'["{name}","{kind}",{len(body)}]')
        bodies.append(body)
    head = ("[" + ",".join(header) + "]").encode()
    return len(head).to_bytes(4, "big") + head + b"".join(bodies)


def decode_fields(data: bytes) -> dict:
    size = int.from_bytes(data[:4], "big")
    at, values = 4 + size, {}
    for name, kind, length in json.loads(data[4:at]):
        body = data[at:at + length]
        at += length
        values[name] = None if kind == "n" else body if kind == "b" else body.decode() if kind == "s" \
            else json.loads(body)
    return values


def seal_row(session: Session, row: Any) -> None:
    """Seal the row's clear fields now (a fresh data key) and refresh its keyed hashes."""
    spec: SealSpec = type(row).__sealed__
    if spec.register:
        _seal_register_row(session, spec, row)
        return
    if getattr(row, "tenant", None) is None and spec.tenant_of is not None:
        with session.no_autoflush:
            row.tenant = spec.tenant_of(session, row)
    values = _clear(row)
    sealer = sealer_of(session)
    connection = session.connection()
    plain = {name: values.get(name) for name in spec.fields}
    row.kek_version, row.data_key, row.sealed = sealer.seal(connection, row.tenant, spec.aad(row.tenant, row),
                                                            encode_fields(plain))
    for name, (column, kind) in spec.digests.items():
        value = plain.get(name)
        setattr(row, column, None if value is None else sealer.digest(connection, row.tenant, kind, value))
    row.__dict__.pop(_DIRTY, None)


def seal_register_fields(key: RegisterKey, spec: SealSpec, name: str,
                         fields: Mapping[str, Any]) -> tuple[bytes, dict[str, str | None]]:
    """A register row's fields sealed under ``key`` (one AES-GCM), and its digest columns' keyed hashes."""
    sealed = key.seal(spec.register_aad(name), encode_fields(fields))
    digests = {column: None if fields.get(field) is None else key.digest(kind, fields[field])
               for field, (column, kind) in spec.digests.items()}
    return sealed, digests


def _seal_register_row(session: Session, spec: SealSpec, row: Any) -> None:
    key = sealer_of(session).register_key(session.connection())
    row.sealed, digests = seal_register_fields(key, spec, spec.name(row),
                                               {name: _clear(row).get(name) for name in spec.fields})
    row.kek_version = key.version
    for column, value in digests.items():
        setattr(row, column, value)
    row.__dict__.pop(_DIRTY, None)


@event.listens_for(Session, "before_flush")
def _seal_pending(session: Session, _context: Any, _instances: Any) -> None:
    for row in list(session.new) + list(session.dirty):
        if hasattr(type(row), "__sealed__") and (row in session.new or row.__dict__.get(_DIRTY)):
            seal_row(session, row)


def _on_load(row: Any, context: Any) -> None:
    row.__dict__.pop(_CLEAR, None)
    if not type(row).__sealed__.lazy:
        _clear(row)


def _on_refresh(row: Any, context: Any, attrs: Any) -> None:
    if attrs is None or "sealed" in attrs:
        _on_load(row, context)


def register(cls: type) -> type:
    """Class decorator: hook a sealed row class to the load events and list it for rotation."""
    event.listen(cls, "load", _on_load)
    event.listen(cls, "refresh", _on_refresh)
    (REGISTER_CLASSES if cls.__sealed__.register else SEALED_CLASSES).append(cls)
    return cls


@dataclass(frozen=True)
class WrappedKey:
    """One object's wrapped data key, as the rotation re-wraps it."""

    cls: type
    row_id: int
    aad: bytes
    kek_version: int
    data_key: bytes


def wrapped_keys(session: Session, tenant: str, not_version: int, limit: int = 200) -> Iterator[WrappedKey]:
    """Up to ``limit`` data keys per sealed table of ``tenant`` still wrapped by another KEK version."""
    for cls in SEALED_CLASSES:
        spec: SealSpec = cls.__sealed__
        columns = [getattr(cls, c) for c in ("id", "kek_version", "data_key", *spec.identity)]
        stmt = (select(*columns).where(cls.tenant == tenant, cls.kek_version.is_not(None),
                                       cls.kek_version != not_version).order_by(cls.id).limit(limit))
        for row in session.execute(stmt):
            yield WrappedKey(cls, row.id, spec.aad(tenant, row), row.kek_version, row.data_key)


def store_rewrapped(session: Session, key: WrappedKey, version: int, data_key: bytes) -> None:
    """The same data key, wrapped by KEK ``version`` (only if no one re-sealed the row meanwhile)."""
    session.execute(update(key.cls).where(key.cls.id == key.row_id, key.cls.kek_version == key.kek_version)
                    .values(kek_version=version, data_key=data_key).execution_options(synchronize_session=False))


__all__ = ["Clear", "REGISTER_CLASSES", "RegisterKey", "SEALED_CLASSES", "SealSpec", "SealedDataUnreadable",
           "Sealer", "WrappedKey", "digest", "decode_fields", "encode_fields", "register", "seal_row",
           "sealed_columns", "store_rewrapped", "wrapped_keys"]
