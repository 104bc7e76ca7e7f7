"""Small secrets at rest and keyed hashes, under sub-keys of the master key.

The factor work (issue 5) keeps a few secrets the registry must be able to
use again: a client's TOTP seed and each MFO's webhook signing key. They are
stored encrypted with AES-256-GCM; one-time codes are never stored at all,
only their keyed hash (HMAC-SHA256), so a database dump reveals neither.

Each purpose gets its own 256-bit key derived from the master key with HKDF
(RFC 5869, SHA-256, the purpose as ``info``): the master key itself is never
used directly, and a leak of one derived key says nothing about another or
about the software key files. The ``context`` given to :meth:`SecretBox.seal`
is bound as associated data, so a ciphertext copied to another row (another
factor's id) no longer opens.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys.backend import KeyError_, MasterKeyError
from keys.software import check_master_key

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SecretUnreadable(KeyError_):
    """A sealed secret that does not open: another master key, another row, or tampering."""


def derive_key(master_key: bytes, purpose: str) -> bytes:
    """A 256-bit sub-key of the master key for one purpose (HKDF-SHA256)."""
    check_master_key(master_key)
    if not purpose:
        raise MasterKeyError("a derived key needs a purpose")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"qoltanba derived keys v1",
                info=purpose.encode()).derive(bytes(master_key))


class SecretBox:
    """AES-256-GCM for small secrets and HMAC-SHA256 keyed hashes, each under a derived key."""

    def __init__(self, master_key: bytes, purpose: str = "factor secrets") -> None:
        self._aead = AESGCM(derive_key(master_key, f"{purpose} / aes-256-gcm"))
        self._mac_key = derive_key(master_key, f"{purpose} / hmac-sha256")

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """version || nonce || ciphertext+tag; ``context`` must be given again to open it."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        if len(sealed) < 1 + _NONCE_BYTES + 16 or sealed[:1] != _VERSION:
            raise SecretUnreadable("the sealed secret has an unknown format")
        nonce, body = sealed[1:1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, context.encode())
        except InvalidTag:
            raise SecretUnreadable("the sealed secret does not open under this master key and context") from None

    def keyed_hash(self, *parts: str | bytes) -> str:
        """HMAC-SHA256 (hex) over the parts, each length-prefixed so no two splits collide."""
        mac = hmac.new(self._mac_key, digestmod=hashlib.sha256)
        for part in parts:
            data = part.encode() if isinstance(part, str) else bytes(part)
            mac.update(len(data).to_bytes(4, "big") + data)
        return mac.hexdigest()

    def matches(self, expected_hex: str, *parts: str | bytes) -> bool:
        """Constant-time comparison of a stored keyed hash with the parts presented."""
        return hmac.compare_digest(expected_hex, self.keyed_hash(*parts))


__all__ = ["SecretBox", "SecretUnreadable", "derive_key"]
