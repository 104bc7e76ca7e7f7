"""LOAN-15: the envelope's primitives (keys/envelope.py): AES-256-GCM data keys wrapped by a tenant's KEK."""

from __future__ import annotations

import pytest

from keys.envelope import DataUnreadable, SoftwareKekMaker, lookup_digest, open_object, rewrap, seal_object

MASTER = bytes(range(32))


def test_LOAN15_an_object_opens_only_with_its_own_associated_data_and_key() -> None:
    maker = SoftwareKekMaker(MASTER)
    kek = maker.load("alpha", 1, maker.create("alpha", 1))
    wrapped, ciphertext = seal_object(kek, b"IIN 900101300017", b"alpha|clients|c1")
    assert b"900101300017" not in wrapped + ciphertext
    assert open_object(kek, wrapped, ciphertext, b"alpha|clients|c1") == b"IIN 900101300017"
    for aad in (b"alpha|clients|c2", b"beta|clients|c1"):           # another row, another tenant
        with pytest.raises(DataUnreadable):
            open_object(kek, wrapped, ciphertext, aad)
    other = maker.load("beta", 1, maker.create("beta", 1))
    with pytest.raises(DataUnreadable):
        open_object(other, wrapped, ciphertext, b"alpha|clients|c1")
    # Two seals of the same value: fresh data keys and nonces, nothing in common.
    again = seal_object(kek, b"IIN 900101300017", b"alpha|clients|c1")
    assert again[0] != wrapped and again[1] != ciphertext


def test_LOAN15_rewrap_keeps_the_ciphertext_and_the_material_opens_only_under_its_master_key() -> None:
    maker = SoftwareKekMaker(MASTER)
    material = maker.create("alpha", 1)
    old, new = maker.load("alpha", 1, material), maker.load("alpha", 2, maker.create("alpha", 2))
    wrapped, ciphertext = seal_object(old, b"%PDF-1.7 text", b"a")
    moved = rewrap(old, new, wrapped, b"a")
    assert open_object(new, moved, ciphertext, b"a") == b"%PDF-1.7 text"
    with pytest.raises(DataUnreadable):
        open_object(old, moved, ciphertext, b"a")
    with pytest.raises(DataUnreadable):
        SoftwareKekMaker(bytes(32)).load("alpha", 1, material)      # another master key
    with pytest.raises(DataUnreadable):
        maker.load("alpha", 2, material)                            # the material of another version
    assert "secret" in repr(old) and material.hex() not in repr(old)


def test_LOAN15_lookup_digests_are_keyed_per_tenant_and_normalised() -> None:
    one, two = b"\x01" * 32, b"\x02" * 32
    assert lookup_digest(one, "iin", "900101300017") == lookup_digest(one, "iin", " 900101300017 ")
    assert lookup_digest(one, "iin", "900101300017") != lookup_digest(two, "iin", "900101300017")
    assert lookup_digest(one, "iin", "900101300017") != lookup_digest(one, "phone", "900101300017")
