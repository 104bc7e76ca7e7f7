"""Envelope encryption of tenant data (LOAN-15): a data key per object, wrapped by the tenant's key.

Each object (a client's personal data, one stored version of a document's
PDF, an evidence record) is encrypted with its own fresh 256-bit data key
under AES-256-GCM (NIST SP 800-38D). The data key is then wrapped, also with
AES-256-GCM, by the tenant's key-encryption key (KEK), which stays in the key
backend:

- software: 32 random bytes, stored only sealed under a sub-key of the master
  key (HKDF, :mod:`keys.secretbox`), like the software backend's private keys;
- PKCS#11: an AES-256 secret key generated on the token (sensitive, never
  extractable); the data key is wrapped by ``C_Encrypt`` with ``CKM_AES_GCM``
  on the token.

Both the object's ciphertext and its wrapped data key carry associated data
naming the tenant, the table and the object (``aad``): a ciphertext or a
wrapped key copied to another row or tenant no longer opens
(:class:`DataUnreadable`). Searching without decrypting goes through
:func:`lookup_digest`, an HMAC-SHA256 under the tenant's lookup key.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import secrets
import threading
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys.backend import KeyBackendUnavailable, KeyError_
from keys.secretbox import SecretBox, SecretUnreadable

KEY_BYTES = 32
_NONCE = 12
_TAG = 16


class DataUnreadable(KeyError_):
    """Sealed data that does not open: another row, another tenant, another key, or tampering."""


class KeyEncryptionKey(Protocol):
    """A tenant's key-encryption key (one version of it): wraps and unwraps data keys."""

    def wrap(self, data_key: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes: ...


class KekMaker(Protocol):
    """Where a backend keeps tenants' KEKs: ``create`` returns what the registry stores (never the key in clear
    for a token; the key sealed under the master key for software), ``load`` turns that back into a KEK."""

    name: str

    def create(self, tenant: str, version: int) -> bytes: ...

    def load(self, tenant: str, version: int, material: bytes) -> KeyEncryptionKey: ...

    def destroy(self, tenant: str, version: int, material: bytes) -> None: ...


def _gcm_encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _gcm_decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < _NONCE + _TAG:
        raise DataUnreadable("sealed data is too short")
    try:
        return AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], aad)
    except InvalidTag:
        raise DataUnreadable("sealed data does not open for this object and tenant (moved or altered)") from None


def seal_object(kek: KeyEncryptionKey, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """(wrapped data key, ciphertext): a fresh data key encrypts ``plaintext``; ``kek`` wraps it."""
    wrapped, ciphertext, _data_key = seal_object_keyed(kek, plaintext, aad)
    return wrapped, ciphertext


def seal_object_keyed(kek: KeyEncryptionKey, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes, bytes]:
    """``seal_object``, and the data key itself (for the caller's cache of keys it has unwrapped)."""
    data_key = secrets.token_bytes(KEY_BYTES)
    return kek.wrap(data_key, aad + b"|data-key"), _gcm_encrypt(data_key, plaintext, aad), data_key


def open_object(kek: KeyEncryptionKey, wrapped: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """One unwrap, one decryption."""
    return _gcm_decrypt(unwrap_data_key(kek, wrapped, aad), ciphertext, aad)


def unwrap_data_key(kek: KeyEncryptionKey, wrapped: bytes, aad: bytes) -> bytes:
    """An object's data key, unwrapped by ``kek`` (``aad``: the object's)."""
    return kek.unwrap(wrapped, aad + b"|data-key")


def open_with_data_key(data_key: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """An object opened with its data key, already unwrapped."""
    return _gcm_decrypt(data_key, ciphertext, aad)


def rewrap(old: KeyEncryptionKey, new: KeyEncryptionKey, wrapped: bytes, aad: bytes) -> bytes:
    """The same data key wrapped by ``new`` (rotation): the object's ciphertext is not touched."""
    return new.wrap(old.unwrap(wrapped, aad + b"|data-key"), aad + b"|data-key")


def lookup_digest(lookup_key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 (hex) of a normalised value under the tenant's lookup key: equal values, equal digests."""
    return hmac.new(lookup_key, f"{kind}\x00{value.strip()}".encode(), hashlib.sha256).hexdigest()


class RegisterDataKey:
    """One version of the certification centre's register key (LOAN-15), unwrapped once and held in memory.

    ``data_key`` seals a register row's fields: AES-256-GCM (NIST SP 800-38D) with the deterministic nonce
    construction of its section 8.2.1: a 64-bit fixed field drawn at random when this object is made (one per
    process and version), then a 32-bit invocation counter; a new fixed field is drawn before the counter
    wraps. ``lookup_key`` hashes its lookups: HMAC-SHA256 (RFC 2104), keyed once and copied per
    lookup, truncated to 128 bits (RFC 2104 section 5), 32 hex digits: issuance writes two rows and two keyed
    hashes per certificate (benchmarks/issue.py), and each saved syscall and index byte counts there.
    """

    def __init__(self, version: int, data_key: bytes, lookup_key: bytes) -> None:
        self.version = version
        self._gcm = AESGCM(data_key)
        self._nonces = threading.Lock()
        # (fixed field, its invocation count), swapped as one: next() on a count is atomic under the GIL
        self._state = (os.urandom(8), itertools.count(1))
        self._lookup = hmac.new(lookup_key, digestmod=hashlib.sha256)   # keyed once; each digest copies it

    def _renew(self, spent: tuple) -> None:
        with self._nonces:
            if self._state is spent:
                self._state = (os.urandom(8), itertools.count(1))

    def seal(self, aad: bytes, plaintext: bytes) -> bytes:
        state = self._state
        counter = next(state[1])
        while counter >= 1 << 32:   # the invocation field is spent: a new fixed field, the count again from 1
            self._renew(state)
            state = self._state
            counter = next(state[1])
        nonce = state[0] + counter.to_bytes(4, "big")
        return nonce + self._gcm.encrypt(nonce, plaintext, aad)

    def open(self, aad: bytes, blob: bytes) -> bytes:
        if len(blob) < _NONCE + _TAG:
            raise DataUnreadable("sealed data is too short")
        try:
            return self._gcm.decrypt(blob[:_NONCE], blob[_NONCE:], aad)
        except InvalidTag:
            raise DataUnreadable("sealed data does not open for this register row (moved or altered)") from None

    def digest(self, kind: str, value: str) -> str:
        mac = self._lookup.copy()
        mac.update(f"{kind}\x00{value.strip()}".encode())
        return mac.hexdigest()[:32]

    def __repr__(self) -> str:
        return f"RegisterDataKey(version={self.version}, <secret>)"


class SoftwareKek:
    """A KEK held in memory, unsealed from the registry with the master key's sub-key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def wrap(self, data_key: bytes, aad: bytes) -> bytes:
        return _gcm_encrypt(self._key, data_key, aad)

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        return _gcm_decrypt(self._key, wrapped, aad)

    def __repr__(self) -> str:
        return "SoftwareKek(<secret>)"


class SoftwareKekMaker:
    """Tenants' KEKs as random keys sealed under the master key (HKDF purpose ``tenant key-encryption keys``)."""

    name = "software"

    def __init__(self, master_key: bytes) -> None:
        self._box = SecretBox(master_key, "tenant key-encryption keys")

    def create(self, tenant: str, version: int) -> bytes:
        return self._box.seal(secrets.token_bytes(KEY_BYTES), f"{tenant}/{version}")

    def load(self, tenant: str, version: int, material: bytes) -> KeyEncryptionKey:
        try:
            return SoftwareKek(self._box.open(material, f"{tenant}/{version}"))
        except SecretUnreadable:
            raise DataUnreadable(f"tenant {tenant!r}'s key version {version} does not open under this master "
                                 "key") from None

    def destroy(self, tenant: str, version: int, material: bytes) -> None:
        """Nothing outside the registry: the caller forgets the sealed material."""


class Pkcs11Kek:
    """A KEK on a PKCS#11 token: data keys wrapped and unwrapped by CKM_AES_GCM on the token."""

    def __init__(self, backend: Any, label: str) -> None:
        self._backend = backend
        self._label = label
        # The key's object, found once per session: a search by label makes SoftHSM2 look at every object on the
        # token (each borrower's held key is two), so finding it for each data key cost more than the unwrap.
        self._found: tuple[Any, Any] | None = None

    def _key(self, session: Any) -> Any:
        from pkcs11 import KeyType, ObjectClass
        from pkcs11 import exceptions as p11e

        found = self._found
        if found is not None and found[0] is session:
            return found[1]
        try:
            key = session.get_key(object_class=ObjectClass.SECRET_KEY, key_type=KeyType.AES, label=self._label)
        except p11e.NoSuchKey:
            raise DataUnreadable(f"key-encryption key {self._label!r} is not on the token") from None
        self._found = (session, key)
        return key

    def wrap(self, data_key: bytes, aad: bytes) -> bytes:
        from pkcs11 import GCMParams, Mechanism

        nonce = os.urandom(_NONCE)
        return nonce + self._backend.call(lambda s: bytes(self._key(s).encrypt(
            data_key, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad))))

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        from pkcs11 import GCMParams, Mechanism

        if len(wrapped) < _NONCE + _TAG:
            raise DataUnreadable("wrapped data key is too short")
        nonce, body = wrapped[:_NONCE], wrapped[_NONCE:]
        try:
            return self._backend.call(lambda s: bytes(self._key(s).decrypt(
                body, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad))))
        except (DataUnreadable, KeyBackendUnavailable):
            raise
        except KeyError_:   # CKR_ENCRYPTED_DATA_INVALID and the like: the tag did not verify
            raise DataUnreadable("the wrapped data key does not open for this object and tenant") from None


class Pkcs11KekMaker:
    """Tenants' KEKs as AES-256 secret keys on the token; the registry keeps only their labels."""

    name = "pkcs11"

    def __init__(self, backend: Any) -> None:   # keys.pkcs11.PKCS11KeyBackend
        self._backend = backend

    def create(self, tenant: str, version: int) -> bytes:
        from pkcs11 import Attribute, KeyType

        label = f"qoltanba-kek:{tenant}:{version}:{secrets.token_hex(4)}"
        template = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.TOKEN: True,
                    Attribute.ENCRYPT: True, Attribute.DECRYPT: True, Attribute.WRAP: False, Attribute.UNWRAP: False}
        self._backend.call(lambda s: s.generate_key(KeyType.AES, 256, label=label, store=True, template=template))
        return label.encode()

    def load(self, tenant: str, version: int, material: bytes) -> KeyEncryptionKey:
        return Pkcs11Kek(self._backend, material.decode())

    def destroy(self, tenant: str, version: int, material: bytes) -> None:
        self._backend.call(lambda s: _destroy_label(s, material.decode()))


def _destroy_label(session: Any, label: str) -> None:
    from pkcs11 import Attribute, ObjectClass

    for obj in list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: label})):
        obj.destroy()


__all__ = ["DataUnreadable", "KeyEncryptionKey", "KekMaker", "Pkcs11Kek", "Pkcs11KekMaker", "RegisterDataKey",
           "SoftwareKek", "SoftwareKekMaker", "lookup_digest", "open_object", "open_with_data_key", "rewrap",
           "seal_object", "seal_object_keyed", "unwrap_data_key"]
