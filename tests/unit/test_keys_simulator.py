"""The biometric-provider simulator's key is made, kept and read by keys/ alone."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from keys import load_simulator_key, simulator_key, simulator_key_pem


def _same(a: ec.EllipticCurvePrivateKey, b: ec.EllipticCurvePrivateKey) -> bool:
    return a.private_numbers() == b.private_numbers()


def test_a_missing_key_file_is_created_owner_only_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "biometric-simulator.pem"
    made = simulator_key(path)
    assert isinstance(made.curve, ec.SECP256R1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _same(simulator_key(path), made)
    assert [p.name for p in tmp_path.iterdir()] == ["biometric-simulator.pem"]   # no temporary left


def test_an_existing_key_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "biometric-simulator.pem"
    kept = simulator_key()
    path.write_bytes(simulator_key_pem(kept))
    assert _same(simulator_key(path), kept)


def test_without_a_path_each_key_is_new() -> None:
    assert not _same(simulator_key(), simulator_key())


def test_a_key_that_is_not_p256_is_refused() -> None:
    from cryptography.hazmat.primitives import serialization

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(ValueError, match="P-256"):
        load_simulator_key(other)
    p384 = simulator_key_pem(ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(ValueError, match="P-256"):
        load_simulator_key(p384)
