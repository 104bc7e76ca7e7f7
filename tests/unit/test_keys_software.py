from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from keys.gost import GostPublicKey
from keys import (
    KeyAlgorithm,
    KeyBackend,
    KeyNotFound,
    MasterKeyError,
    MasterKeyMismatch,
    SoftwareKeyBackend,
    load_master_key,
    sign_certificate,
    sign_tbs,
    verify_signature,
)

MASTER = bytes(range(32))
OTHER_MASTER = bytes(range(100, 132))
DATA = b"qoltanba test message"


@pytest.fixture
def backend(tmp_path: Path) -> SoftwareKeyBackend:
    return SoftwareKeyBackend(tmp_path / "keys", MASTER)


def _key_file(directory: Path, handle: str) -> Path:
    return directory / f"{handle.removeprefix('soft:')}.key"


def test_backend_satisfies_protocol(backend: SoftwareKeyBackend) -> None:
    assert isinstance(backend, KeyBackend)
    assert backend.name == "soft"


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_generate_sign_verify(backend: SoftwareKeyBackend, algorithm: KeyAlgorithm) -> None:
    info = backend.generate(algorithm, f"test {algorithm.value}")
    assert info.handle.startswith("soft:") and len(info.handle) == len("soft:") + 32
    assert backend.owns(info.handle)
    assert backend.algorithm(info.handle) is algorithm

    public = backend.public_key(info.handle)
    if algorithm.is_rsa:
        assert isinstance(public, rsa.RSAPublicKey)
        assert public.key_size == algorithm.rsa_bits
        assert public.public_numbers().e == 65537
    elif algorithm.is_gost:
        assert isinstance(public, GostPublicKey) and public.curve is algorithm.gost_curve
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)

    signature = backend.sign(info.handle, DATA, algorithm.default_hash)
    assert verify_signature(public, signature, DATA, algorithm.default_hash)
    with pytest.raises(InvalidSignature):
        verify_signature(public, signature, DATA + b"!", algorithm.default_hash)
    if algorithm.is_ec:
        assert signature[0] == 0x30  # DER Ecdsa-Sig-Value, not raw r||s


def test_key_file_is_encrypted_and_private(backend: SoftwareKeyBackend, tmp_path: Path) -> None:
    info = backend.generate(KeyAlgorithm.EC_P256, "enc")
    path = _key_file(tmp_path / "keys", info.handle)
    data = path.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert b"BEGIN PRIVATE KEY" not in data and b"BEGIN EC PRIVATE KEY" not in data
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(data, password=None)
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(data, password=MASTER.hex().encode())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    leftovers = [p.name for p in (tmp_path / "keys").iterdir() if p.suffix == ".tmp"]
    assert leftovers == []


def test_fresh_instance_loads_existing_keys(tmp_path: Path) -> None:
    first = SoftwareKeyBackend(tmp_path, MASTER)
    rsa_info = first.generate(KeyAlgorithm.RSA_2048, "rsa")
    ec_info = first.generate(KeyAlgorithm.EC_P384, "ec")

    second = SoftwareKeyBackend(tmp_path, MASTER)
    assert {i.handle for i in second.list_keys()} == {rsa_info.handle, ec_info.handle}
    assert {i.label for i in second.list_keys()} == {"rsa", "ec"}
    for info in (rsa_info, ec_info):
        hash_name = info.algorithm.default_hash
        signature = second.sign(info.handle, DATA, hash_name)
        assert verify_signature(first.public_key(info.handle), signature, DATA, hash_name)
    assert second.verify_master() == 2


def test_wrong_master_key_fails_clearly(tmp_path: Path) -> None:
    info = SoftwareKeyBackend(tmp_path, MASTER).generate(KeyAlgorithm.EC_P256, "x")
    wrong = SoftwareKeyBackend(tmp_path, OTHER_MASTER)
    with pytest.raises(MasterKeyMismatch, match="master key"):
        wrong.sign(info.handle, DATA, "sha256")
    with pytest.raises(MasterKeyMismatch):
        wrong.verify_master()


def test_short_master_key_rejected(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="at least 32"):
        SoftwareKeyBackend(tmp_path, b"\x01" * 16)


def test_unknown_and_malformed_handles(backend: SoftwareKeyBackend) -> None:
    with pytest.raises(KeyNotFound):
        backend.sign("soft:" + "0" * 32, DATA, "sha256")
    with pytest.raises(KeyNotFound):
        backend.public_key("soft:../../etc/passwd")
    with pytest.raises(KeyNotFound):
        backend.algorithm("pkcs11:ca")
    assert not backend.owns("pkcs11:ca")


def test_destroy_removes_the_key_for_good(tmp_path: Path) -> None:
    backend = SoftwareKeyBackend(tmp_path / "keys", MASTER)
    doomed = backend.generate(KeyAlgorithm.EC_P256, "doomed")
    kept = backend.generate(KeyAlgorithm.EC_P256, "kept")
    backend.destroy(doomed.handle)
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == sorted(
        f"{kept.handle.removeprefix('soft:')}{suffix}" for suffix in (".json", ".key"))
    for instance in (backend, SoftwareKeyBackend(tmp_path / "keys", MASTER)):   # cached and fresh
        with pytest.raises(KeyNotFound):
            instance.sign(doomed.handle, DATA, "sha256")
        with pytest.raises(KeyNotFound):
            instance.public_key(doomed.handle)
        assert [i.handle for i in instance.list_keys()] == [kept.handle]
        assert verify_signature(instance.public_key(kept.handle), instance.sign(kept.handle, DATA, "sha256"),
                                DATA, "sha256")
    with pytest.raises(KeyNotFound):
        backend.destroy(doomed.handle)
    with pytest.raises(KeyNotFound):
        backend.destroy("soft:../../etc/passwd")


def test_destroy_finishes_an_interrupted_destruction(tmp_path: Path) -> None:
    backend = SoftwareKeyBackend(tmp_path / "keys", MASTER)
    info = backend.generate(KeyAlgorithm.EC_P256, "half")
    _key_file(tmp_path / "keys", info.handle).unlink()          # interrupted after the key file went
    fresh = SoftwareKeyBackend(tmp_path / "keys", MASTER)
    with pytest.raises(KeyNotFound):
        fresh.sign(info.handle, DATA, "sha256")
    fresh.destroy(info.handle)
    assert list((tmp_path / "keys").iterdir()) == []


def test_rotate_master(tmp_path: Path) -> None:
    backend = SoftwareKeyBackend(tmp_path, MASTER)
    infos = [backend.generate(a, a.value) for a in (KeyAlgorithm.RSA_2048, KeyAlgorithm.EC_P256)]
    before = {i.handle: _key_file(tmp_path, i.handle).read_bytes() for i in infos}

    assert backend.rotate_master(OTHER_MASTER) == 2

    for info in infos:
        path = _key_file(tmp_path, info.handle)
        assert path.read_bytes() != before[info.handle]
        assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        signature = backend.sign(info.handle, DATA, info.algorithm.default_hash)
        assert verify_signature(backend.public_key(info.handle), signature, DATA, info.algorithm.default_hash)

    with pytest.raises(MasterKeyMismatch):
        SoftwareKeyBackend(tmp_path, MASTER).verify_master()
    fresh = SoftwareKeyBackend(tmp_path, OTHER_MASTER)
    assert fresh.verify_master() == 2
    for info in infos:
        signature = fresh.sign(info.handle, DATA, info.algorithm.default_hash)
        assert verify_signature(backend.public_key(info.handle), signature, DATA, info.algorithm.default_hash)


def test_rotate_master_resumes_after_interruption(tmp_path: Path) -> None:
    backend = SoftwareKeyBackend(tmp_path, MASTER)
    a = backend.generate(KeyAlgorithm.EC_P256, "a")
    b = backend.generate(KeyAlgorithm.EC_P256, "b")
    # As if an earlier rotation died after rewriting a's file only.
    a_id = a.handle.removeprefix("soft:")
    _key_file(tmp_path, a.handle).write_bytes(
        backend._encrypt(backend._private_key(a.handle), a_id, OTHER_MASTER)
    )
    b_before = _key_file(tmp_path, b.handle).read_bytes()

    assert SoftwareKeyBackend(tmp_path, MASTER).rotate_master(OTHER_MASTER) == 2
    assert _key_file(tmp_path, b.handle).read_bytes() != b_before
    assert SoftwareKeyBackend(tmp_path, OTHER_MASTER).verify_master() == 2


def test_rotate_with_wrong_current_master_changes_nothing(tmp_path: Path) -> None:
    info = SoftwareKeyBackend(tmp_path, MASTER).generate(KeyAlgorithm.EC_P256, "x")
    before = _key_file(tmp_path, info.handle).read_bytes()
    third = bytes(range(200, 232))
    with pytest.raises(MasterKeyMismatch):
        SoftwareKeyBackend(tmp_path, OTHER_MASTER).rotate_master(third)
    assert _key_file(tmp_path, info.handle).read_bytes() == before


def test_swapped_key_file_detected(tmp_path: Path) -> None:
    backend = SoftwareKeyBackend(tmp_path, MASTER)
    a = backend.generate(KeyAlgorithm.EC_P256, "a")
    b = backend.generate(KeyAlgorithm.EC_P256, "b")
    _key_file(tmp_path, a.handle).write_bytes(_key_file(tmp_path, b.handle).read_bytes())
    with pytest.raises(Exception, match="master key|metadata"):
        SoftwareKeyBackend(tmp_path, MASTER).sign(a.handle, DATA, "sha256")


def _builder(issuer_key) -> x509.CertificateBuilder:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Qoltanba Test CA")])
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(issuer_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.RSA_2048, KeyAlgorithm.EC_P256, KeyAlgorithm.EC_P384])
def test_sign_certificate_fast_path(backend: SoftwareKeyBackend, algorithm: KeyAlgorithm) -> None:
    info = backend.generate(algorithm, "ca")
    public = backend.public_key(info.handle)
    cert = sign_certificate(backend, info.handle, _builder(public))
    cert.verify_directly_issued_by(cert)
    assert cert.signature_hash_algorithm.name == algorithm.default_hash

    sig_alg, signature = sign_tbs(backend, info.handle, cert.tbs_certificate_bytes, algorithm.default_hash)
    assert verify_signature(public, signature, cert.tbs_certificate_bytes, algorithm.default_hash)
    # The hand-built AlgorithmIdentifier must match what cryptography writes.
    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    assert parsed["signature_algorithm"].dump() == sig_alg


def test_master_key_file_created_hex_0600(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "master.key"
    key = load_master_key(path, None, create=True)
    assert len(key) == 32
    assert path.read_text().strip() == key.hex()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_master_key(path, None, create=False) == key
    assert load_master_key(path, "", create=False) == key


def test_master_key_from_environment(tmp_path: Path) -> None:
    import base64

    raw = os.urandom(32)
    assert load_master_key(None, raw.hex(), create=False) == raw
    assert load_master_key(None, base64.b64encode(raw).decode(), create=False) == raw
    # The environment wins over a file.
    path = tmp_path / "m.key"
    path.write_text(os.urandom(32).hex())
    assert load_master_key(path, raw.hex(), create=False) == raw


def test_master_key_rejections(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="at least 32"):
        load_master_key(None, os.urandom(16).hex(), create=False)
    with pytest.raises(MasterKeyError, match="neither hex nor base64"):
        load_master_key(None, "not a key!", create=False)
    with pytest.raises(MasterKeyError, match="does not exist"):
        load_master_key(tmp_path / "missing", None, create=False)
    with pytest.raises(MasterKeyError, match="no master key"):
        load_master_key(None, None, create=False)
    short = tmp_path / "short.key"
    short.write_text("00" * 31)
    with pytest.raises(MasterKeyError, match="at least 32"):
        load_master_key(short, None, create=True)
