"""Sealed secrets and keyed hashes under sub-keys of the master key (keys/secretbox.py, issue 5)."""

from __future__ import annotations

import pytest

from keys import MasterKeyError, SecretBox, SecretUnreadable, derive_key

MASTER = bytes(range(32))


def test_a_sealed_secret_opens_only_with_its_context_and_master_key() -> None:
    box = SecretBox(MASTER)
    sealed = box.seal(b"JBSWY3DPEHPK3PXP", "totp:factor-1")
    assert b"JBSWY3DPEHPK3PXP" not in sealed
    assert box.open(sealed, "totp:factor-1") == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(SecretUnreadable):
        box.open(sealed, "totp:factor-2")
    with pytest.raises(SecretUnreadable):
        SecretBox(bytes(32)).open(sealed, "totp:factor-1")
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(SecretUnreadable):
        box.open(bytes(tampered), "totp:factor-1")
    assert box.seal(b"x", "c") != box.seal(b"x", "c")  # a fresh nonce each time


def test_keyed_hashes_depend_on_key_purpose_and_every_part() -> None:
    box = SecretBox(MASTER)
    digest = box.keyed_hash("request-1", "ab" * 32, "123456")
    assert len(digest) == 64 and "123456" not in digest
    assert box.matches(digest, "request-1", "ab" * 32, "123456")
    assert not box.matches(digest, "request-1", "ab" * 32, "123457")
    assert not box.matches(digest, "request-2", "ab" * 32, "123456")
    assert box.keyed_hash("ab", "c") != box.keyed_hash("a", "bc")
    assert SecretBox(MASTER, "webhooks").keyed_hash("x") != box.keyed_hash("x")
    assert derive_key(MASTER, "a") != derive_key(MASTER, "b") != MASTER


def test_a_short_master_key_is_refused() -> None:
    with pytest.raises(MasterKeyError):
        SecretBox(b"short")
