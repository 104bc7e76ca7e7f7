"""Each tenant's envelope (LOAN-15): the registry's sealer, and the rotation of a tenant's key.

:class:`TenantKeyring` is the ``registry.sealing.Sealer`` the wiring hands
the registry: it seals an object with a fresh data key wrapped by the
tenant's active key-encryption key (``keys.envelope``), opens it with the
version that wrapped it, and hashes values for lookups with the tenant's
lookup key. A tenant's first key version is made the first time its data is
sealed. Unwrapped KEKs (a software key, or a token key's handle) and lookup
keys are cached in this process's memory only, never logged or stored in
clear; the active version is read from the registry at each seal, so every
worker follows a rotation at once.

:class:`TenantKeyRotation` rotates without downtime: a new version becomes
active (new objects are wrapped by it), every data key still wrapped by an
older version is re-wrapped in small transactions (the objects' ciphertexts
are not touched), then the older versions are retired and their material
destroyed. Readers meanwhile open each object with the version its row
names, old or new. Each step is audited.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from keys.envelope import (
    DataUnreadable,
    KekMaker,
    KeyEncryptionKey,
    lookup_digest,
    open_with_data_key,
    rewrap,
    seal_object_keyed,
    unwrap_data_key,
)
from keys.recent import Recent
from ca.errors import ConflictError, Problem
from registry import Registry
from registry import tenant_keys as keys_table
from registry.models.tenants import TenantKeyState
from registry.register import REGISTER_OWNER
from registry.sealing import SealedDataUnreadable, store_rewrapped, wrapped_keys
from registry.tenant_keys import TenantKey
from signing.tenants.register_keyring import RegisterKeyring

_NO_KEY_DIGEST = "-" * 64   # a tenant with no key has sealed nothing: its lookups match no row
# Data keys this process made or unwrapped lately, by (tenant, KEK version, wrapped key, object's AAD): a worker
# reads the same few objects again and again in one flow (the client, the request, the document), and each
# unwrap is a call to the token. Bounded; a tenant's are dropped when one of its KEK versions is forgotten.
DATA_KEY_CACHE = 4096


def _lookup_aad(tenant: str) -> bytes:
    return f"qoltanba/loan-15/v1|{tenant}|lookup-key".encode()


Connection = Any   # the unit of work's sqlalchemy.Connection (only registry knows SQLAlchemy)


class TenantKeyring:
    """Seals and opens tenants' objects (``registry.sealing.Sealer``); KEKs cached in memory by version."""

    def __init__(self, maker: Callable[[], KekMaker], clock) -> None:  # noqa: ANN001 - ca.clock.Clock
        self._make = maker   # called on first use: building the registry opens no key backend
        self.clock = clock
        self._keks: dict[tuple[str, int], KeyEncryptionKey] = {}
        self._lookup: dict[str, bytes] = {}
        self._data_keys: Recent[tuple[str, int, bytes, bytes], bytes] = Recent(DATA_KEY_CACHE)
        self._lock = threading.Lock()
        self.register = RegisterKeyring(self)   # the CA register's key, a reserved owner of this keyring

    @cached_property
    def maker(self) -> KekMaker:
        return self._make()

    # -- registry.sealing.Sealer ---------------------------------------------------------------

    def seal(self, connection: Connection, tenant: str, aad: bytes, plaintext: bytes) -> tuple[int, bytes, bytes]:
        try:
            key = self._active(connection, tenant)
            wrapped, ciphertext, data_key = seal_object_keyed(self._kek(key), plaintext, aad)
        except DataUnreadable as error:
            raise SealedDataUnreadable(str(error)) from None
        self._data_keys.put((tenant, key.version, wrapped, aad), data_key)
        return key.version, wrapped, ciphertext

    def open(self, connection: Connection, tenant: str, aad: bytes, kek_version: int, data_key: bytes,
             ciphertext: bytes) -> bytes:
        ident = (tenant, kek_version, data_key, aad)
        try:
            key = self._data_keys.get(ident)
            if key is None:
                key = unwrap_data_key(self.kek(connection, tenant, kek_version), data_key, aad)
                self._data_keys.put(ident, key)
            return open_with_data_key(key, ciphertext, aad)
        except DataUnreadable as error:   # the registry's error: the API answers it 409, never 500
            raise SealedDataUnreadable(str(error)) from None

    def digest(self, connection: Connection, tenant: str, kind: str, value: str) -> str:
        lookup = self._lookup.get(tenant)
        if lookup is None:
            key = keys_table.active(connection, tenant)
            if key is None:
                return _NO_KEY_DIGEST
            lookup = self._kek(key).unwrap(key.lookup_key or b"", _lookup_aad(tenant))
            self._lookup[tenant] = lookup
        return lookup_digest(lookup, kind, value)

    def register_key(self, connection: Connection) -> Any:   # noqa: ANN401 - keys.envelope.RegisterDataKey
        return self.register.active(connection)

    def register_open(self, connection: Connection, version: int, aad: bytes, ciphertext: bytes) -> bytes:
        return self.register.open(connection, version, aad, ciphertext)

    # -- keys ---------------------------------------------------------------------------------

    def kek(self, connection: Connection, tenant: str, version: int) -> KeyEncryptionKey:
        cached = self._keks.get((tenant, version))
        if cached is not None:
            return cached
        key = keys_table.version(connection, tenant, version)
        if key is None:
            raise DataUnreadable(f"tenant {tenant!r} has no key version {version}")
        return self._kek(key)

    def new_version(self, connection: Connection, tenant: str, number: int, lookup: bytes | None = None,
                    state: str = TenantKeyState.ACTIVE) -> TenantKey | None:
        """A new KEK version on the backend with the tenant's lookup key wrapped by it (None: it exists)."""
        material = self.maker.create(tenant, number)
        kek = self.maker.load(tenant, number, material)
        lookup = lookup if lookup is not None else secrets.token_bytes(32)
        key = TenantKey(tenant, number, state, self.maker.name, material, kek.wrap(lookup, _lookup_aad(tenant)),
                        self.clock.now(), None)
        if not keys_table.add(connection, key):
            self.maker.destroy(tenant, number, material)
            return None
        return key

    def forget(self, tenant: str, version: int) -> None:
        with self._lock:
            self._keks.pop((tenant, version), None)
        self._data_keys.drop(lambda ident: ident[:2] == (tenant, version))

    def forget_all(self) -> None:
        """Drop every cached key (after a migration, which may have made the tenants' keys anew)."""
        with self._lock:
            self._keks.clear()
            self._lookup.clear()
        self._data_keys.clear()
        self.register.forget()

    def _active(self, connection: Connection, tenant: str) -> TenantKey:
        key = keys_table.active(connection, tenant)
        if key is None:
            key = self.new_version(connection, tenant, 1) or keys_table.active(connection, tenant)
        if key is None:
            raise DataUnreadable(f"tenant {tenant!r} has no active key-encryption key")
        return key

    def _kek(self, key: TenantKey) -> KeyEncryptionKey:
        cached = self._keks.get((key.tenant, key.version))
        if cached is not None:
            return cached
        if key.material is None:
            raise DataUnreadable(f"tenant {key.tenant!r}'s key version {key.version} is retired")
        if key.backend != self.maker.name:
            raise DataUnreadable(f"tenant {key.tenant!r}'s key version {key.version} lives in the {key.backend} "
                                 f"backend, not in the configured {self.maker.name} backend")
        kek = self.maker.load(key.tenant, key.version, key.material)
        with self._lock:
            self._keks[(key.tenant, key.version)] = kek
        return kek


@dataclass(frozen=True)
class RotationResult:
    """What a rotation did: the new version, how many data keys it re-wrapped, which versions it retired."""

    tenant: str
    version: int
    rewrapped: int
    retired: tuple[int, ...]

    def as_json(self) -> dict:
        return {"tenant": self.tenant, "version": self.version, "rewrapped": self.rewrapped,
                "retired": list(self.retired)}


class UnknownTenantKey(ConflictError):
    """The tenant has no key to rotate (nothing of it was ever sealed), or another rotation made the version."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, [Problem("tenant", "has no key-encryption key to rotate")])


class RotationStopped(ConflictError):
    """A data key did not unwrap: the rotation stops before retiring anything (no data is lost)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, [Problem("tenant", "a data key did not unwrap")])


class TenantKeyRotation:
    """A tenant's key rotated while the service runs: new version, every data key re-wrapped, old retired."""

    def __init__(self, registry: Registry, keyring: TenantKeyring, clock, batch: int = 200) -> None:  # noqa: ANN001
        self.registry = registry
        self.keyring = keyring
        self.clock = clock
        self.batch = batch

    def rotate(self, tenant: str, actor: str) -> RotationResult:
        if tenant == REGISTER_OWNER:   # the register's key re-seals its rows: RegisterKeyRotation
            raise UnknownTenantKey(f"{tenant!r} is the register's key: `qoltanba keys rotate-register` rotates it")
        with self.registry.transaction() as tx:
            current = keys_table.active(tx.connection, tenant)
            if current is None:
                raise UnknownTenantKey(f"tenant {tenant!r} has no key-encryption key: nothing of it is sealed")
            lookup = self.keyring.kek(tx.connection, tenant, current.version).unwrap(
                current.lookup_key or b"", _lookup_aad(tenant))
            number = max(k.version for k in keys_table.versions(tx.connection, tenant)) + 1
            old = [k.version for k in keys_table.versions(tx.connection, tenant) if k.state != TenantKeyState.RETIRED]
            for version in old:
                keys_table.set_state(tx.connection, tenant, version, TenantKeyState.RETIRING)
            if self.keyring.new_version(tx.connection, tenant, number, lookup) is None:
                raise UnknownTenantKey(f"tenant {tenant!r}'s key is being rotated by someone else")
            tx.audit.append(at=self.clock.now(), actor=actor, action="tenant.key-rotation-started", subject=tenant,
                            details={"version": number, "retiring": old})
        rewrapped = self.rewrap(tenant, number)
        with self.registry.transaction() as tx:
            while (done := self._rewrap_batch(tx, tenant, number)):   # sealed meanwhile by a worker on the old one
                rewrapped += done
            for version in old:
                key = keys_table.version(tx.connection, tenant, version)
                keys_table.set_state(tx.connection, tenant, version, TenantKeyState.RETIRED, at=self.clock.now(),
                                     forget_material=True)
                if key is not None and key.material is not None:
                    self.keyring.maker.destroy(tenant, version, key.material)
                self.keyring.forget(tenant, version)
            tx.audit.append(at=self.clock.now(), actor=actor, action="tenant.key-rotated", subject=tenant,
                            details={"version": number, "rewrapped": rewrapped, "retired": old})
        return RotationResult(tenant, number, rewrapped, tuple(old))

    def rewrap(self, tenant: str, version: int) -> int:
        """Re-wrap, batch by batch (one short transaction each), every data key not yet wrapped by ``version``."""
        total = 0
        while True:
            with self.registry.transaction() as tx:
                done = self._rewrap_batch(tx, tenant, version)
            total += done
            if done == 0:
                return total

    def _rewrap_batch(self, tx, tenant: str, version: int) -> int:  # noqa: ANN001 - RegistryTransaction
        new = self.keyring.kek(tx.connection, tenant, version)
        done = 0
        for key in list(wrapped_keys(tx.session, tenant, version, self.batch)):
            try:
                old = self.keyring.kek(tx.connection, tenant, key.kek_version)
                store_rewrapped(tx.session, key, version, rewrap(old, new, key.data_key, key.aad))
            except DataUnreadable as error:
                raise RotationStopped(f"{key.cls.__sealed__.table} row {key.row_id}: {error}; nothing was retired, "
                                      "the new version stays active") from None
            done += 1
        return done


__all__ = ["RotationResult", "TenantKeyRotation", "TenantKeyring", "UnknownTenantKey"]
