"""The certification centre's register key (LOAN-15): its versions, held in memory, and its rotation.

The register (certificates, their archive, the issuance and revocation
journals, the applications: ``registry.register``) is sealed under one
installation-level key, a reserved owner (``~register``) of the tenants'
keyring: each version is a key-encryption key in the configured backend
(software, sealed under the master key; or an AES key on the PKCS#11 token)
that wraps 64 random bytes, a lookup key (kept across versions, so the
keyed hashes of IINs and BINs never change) and the version's data key.
Unwrapped once per process, never logged. A per-installation data key, not
one per row as a tenant's rows have: issuance writes two register rows per
certificate and may not pay a key-backend call for each (benchmarks/issue.py).

The active version is read from the registry at most once every
:attr:`RegisterKeyring.ttl` seconds per process; a rotation waits longer
than that before its last sweep, so every worker seals with the new version
by the time the old one is destroyed.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from ca.errors import ConflictError, Problem
from keys.envelope import KEY_BYTES, DataUnreadable, RegisterDataKey
from registry import Registry
from registry import tenant_keys as keys_table
from registry.models.tenants import TenantKeyState
from registry.register import REGISTER_OWNER, stale_rows, store_resealed
from registry.sealing import SealedDataUnreadable
from registry.tenant_keys import TenantKey

Connection = Any   # the unit of work's sqlalchemy.Connection (only registry knows SQLAlchemy)


def _aad() -> bytes:
    return f"qoltanba/loan-15/v1|{REGISTER_OWNER}|lookup-key".encode()   # what TenantKeyring wraps it with


class RegisterKeyring:
    """The register key's versions for one process: the active one re-read every ``ttl`` seconds."""

    ttl = 1.0

    def __init__(self, keyring: Any) -> None:   # signing.tenants.keyring.TenantKeyring
        self._keyring = keyring
        self._versions: dict[tuple[int, bytes], RegisterDataKey] = {}
        self._by_number: dict[int, RegisterDataKey] = {}
        self._active: RegisterDataKey | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def active(self, connection: Connection) -> RegisterDataKey:
        now = time.monotonic()
        active = self._active
        if active is not None and now - self._checked < self.ttl:
            return active
        made = False
        key = keys_table.active(connection, REGISTER_OWNER)
        if key is None:   # the installation's first register row (0021 makes it when upgrading a register)
            key = self._keyring.new_version(connection, REGISTER_OWNER, 1, secrets.token_bytes(2 * KEY_BYTES))
            made = key is not None
            key = key or keys_table.active(connection, REGISTER_OWNER)
        if key is None:
            raise SealedDataUnreadable("the register has no active key")
        loaded = self._load(key)
        if not made:   # a version made in this transaction is not trusted before it commits
            self._active, self._checked = loaded, now
        return loaded

    def open(self, connection: Connection, version: int, aad: bytes, ciphertext: bytes) -> bytes:
        key = self._by_number.get(version)
        if key is None:
            stored = keys_table.version(connection, REGISTER_OWNER, version)
            if stored is None:
                raise SealedDataUnreadable(f"the register has no key version {version}")
            key = self._load(stored)
        try:
            return key.open(aad, ciphertext)
        except DataUnreadable as error:
            raise SealedDataUnreadable(str(error)) from None

    def lookup_key(self, connection: Connection, version: int) -> bytes:
        stored = keys_table.version(connection, REGISTER_OWNER, version)
        if stored is None or stored.material is None:
            raise SealedDataUnreadable(f"the register has no usable key version {version}")
        return self._secret(stored)[:KEY_BYTES]

    def forget(self) -> None:
        with self._lock:
            self._versions.clear()
            self._by_number.clear()
            self._active = None

    def _secret(self, key: TenantKey) -> bytes:
        try:
            secret = self._keyring._kek(key).unwrap(key.lookup_key or b"", _aad())   # noqa: SLF001 - same keyring
        except DataUnreadable as error:
            raise SealedDataUnreadable(str(error)) from None
        if len(secret) != 2 * KEY_BYTES:
            raise SealedDataUnreadable(f"the register's key version {key.version} holds no data key")
        return secret

    def _load(self, key: TenantKey) -> RegisterDataKey:
        cached = self._versions.get((key.version, key.material or b""))
        if cached is None:
            secret = self._secret(key)
            cached = RegisterDataKey(key.version, secret[KEY_BYTES:], secret[:KEY_BYTES])
            with self._lock:
                self._versions[(key.version, key.material or b"")] = cached
                self._by_number[key.version] = cached
        return cached


@dataclass(frozen=True)
class RegisterRotationResult:
    """What a rotation of the register key did: the new version, the rows re-sealed, the versions retired."""

    version: int
    resealed: int
    retired: tuple[int, ...]

    def as_json(self) -> dict:
        return {"register_key_version": self.version, "resealed": self.resealed, "retired": list(self.retired)}


class RegisterRotationStopped(ConflictError):
    """A register row did not open: the rotation stops before retiring anything (no data is lost)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, [Problem("register", "a sealed register row did not open")])


class RegisterKeyRotation:
    """A new register-key version (same lookup key, new data key), every register row re-sealed, old retired."""

    def __init__(self, registry: Registry, keyring: Any, clock: Any, batch: int = 200) -> None:  # noqa: ANN401
        self.registry = registry
        self.keyring = keyring           # TenantKeyring: its ``register`` is a RegisterKeyring
        self.clock = clock
        self.batch = batch

    def rotate(self, actor: str) -> RegisterRotationResult:
        register: RegisterKeyring = self.keyring.register
        with self.registry.transaction() as tx:
            current = keys_table.active(tx.connection, REGISTER_OWNER)
            if current is None:
                register.active(tx.connection)            # nothing sealed yet: version 1 is made, then rotated
                current = keys_table.active(tx.connection, REGISTER_OWNER)
            lookup = register.lookup_key(tx.connection, current.version)
            every = keys_table.versions(tx.connection, REGISTER_OWNER)
            number = max(k.version for k in every) + 1
            old = [k.version for k in every if k.state != TenantKeyState.RETIRED]
            for version in old:
                keys_table.set_state(tx.connection, REGISTER_OWNER, version, TenantKeyState.RETIRING)
            if self.keyring.new_version(tx.connection, REGISTER_OWNER, number,
                                        lookup + secrets.token_bytes(KEY_BYTES)) is None:
                raise RegisterRotationStopped("the register key is being rotated by someone else")
            tx.audit.append(at=self.clock.now(), actor=actor, action="register.key-rotation-started",
                            subject=REGISTER_OWNER, details={"version": number, "retiring": old})
        register.forget()
        time.sleep(register.ttl + 0.2)   # every process has re-read the active version meanwhile
        resealed = 0
        while True:
            with self.registry.transaction() as tx:
                done = self._reseal_batch(tx.connection, number)
            resealed += done
            if done == 0:
                break
        with self.registry.transaction() as tx:
            while (done := self._reseal_batch(tx.connection, number)):
                resealed += done
            for version in old:
                key = keys_table.version(tx.connection, REGISTER_OWNER, version)
                keys_table.set_state(tx.connection, REGISTER_OWNER, version, TenantKeyState.RETIRED,
                                     at=self.clock.now(), forget_material=True)
                if key is not None and key.material is not None:
                    self.keyring.maker.destroy(REGISTER_OWNER, version, key.material)
                self.keyring.forget(REGISTER_OWNER, version)
            tx.audit.append(at=self.clock.now(), actor=actor, action="register.key-rotated", subject=REGISTER_OWNER,
                            details={"version": number, "resealed": resealed, "retired": old})
        register.forget()
        return RegisterRotationResult(number, resealed, tuple(old))

    def _reseal_batch(self, connection: Connection, version: int) -> int:
        register: RegisterKeyring = self.keyring.register
        new = register.active(connection)
        if new.version != version:
            raise RegisterRotationStopped(f"the register's active key is version {new.version}, not {version}")
        done = 0
        for row in list(stale_rows(connection, version, self.batch)):
            try:
                plain = register.open(connection, row.kek_version, row.aad, row.sealed)
            except SealedDataUnreadable as error:
                raise RegisterRotationStopped(f"{row.table.name} row {row.row_id}: {error}; nothing was retired, "
                                              "the new version stays active") from None
            store_resealed(connection, row, version, new.seal(row.aad, plain))
            done += 1
        return done


__all__ = ["RegisterKeyRotation", "RegisterKeyring", "RegisterRotationResult", "RegisterRotationStopped"]
