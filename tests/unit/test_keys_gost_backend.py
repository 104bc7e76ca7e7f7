"""GOST keys in the software key backend (issue 7, KZ-5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import algos, pem
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature

from keys import (
    KeyAlgorithm,
    MasterKeyMismatch,
    SoftwareKeyBackend,
    UnsupportedAlgorithm,
    algorithm_of,
    sign_tbs,
    signature_algorithm_der,
    verify_signature,
)
from keys.gost import public_key, spki_der, verify

MASTER = b"m" * 32
NCA_CERT = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk" / "certs" / "individual_gost2015.cer"


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.GOST_2015_512, KeyAlgorithm.GOST_2015_256])
def test_software_backend_generates_signs_and_reopens_gost_keys(tmp_path: Path, algorithm: KeyAlgorithm) -> None:
    backend = SoftwareKeyBackend(tmp_path, MASTER)
    info = backend.generate(algorithm, "gov-ca")
    signature = backend.sign(info.handle, b"tbs", algorithm.default_hash)
    assert verify_signature(backend.public_key(info.handle), signature, b"tbs", algorithm.default_hash)
    with pytest.raises(InvalidSignature):
        verify_signature(backend.public_key(info.handle), signature, b"tbz", algorithm.default_hash)
    assert algorithm_of(backend.public_key(info.handle)) is algorithm
    key_file = (tmp_path / f"{info.handle.removeprefix('soft:')}.key").read_bytes()
    assert pem.unarmor(key_file)[0] == "ENCRYPTED PRIVATE KEY"
    reopened = SoftwareKeyBackend(tmp_path, MASTER)
    assert reopened.algorithm(info.handle) is algorithm
    again = reopened.sign(info.handle, b"tbs", algorithm.default_hash)
    assert verify_signature(backend.public_key(info.handle), again, b"tbs", algorithm.default_hash)


def test_gost_key_file_does_not_open_under_another_master_key(tmp_path: Path) -> None:
    SoftwareKeyBackend(tmp_path, MASTER).generate(KeyAlgorithm.GOST_2015_512, "gov-ca")
    with pytest.raises(MasterKeyMismatch):
        SoftwareKeyBackend(tmp_path, b"x" * 32).verify_master()
    backend = SoftwareKeyBackend(tmp_path, MASTER)
    assert backend.rotate_master(b"n" * 32) == 1
    assert SoftwareKeyBackend(tmp_path, b"n" * 32).verify_master() == 1


def test_gost_key_refuses_a_hash_other_than_its_streebog(tmp_path: Path) -> None:
    backend = SoftwareKeyBackend(tmp_path, MASTER)
    info = backend.generate(KeyAlgorithm.GOST_2015_512, "gov-ca")
    with pytest.raises(UnsupportedAlgorithm):
        backend.sign(info.handle, b"tbs", "sha256")
    with pytest.raises(UnsupportedAlgorithm):
        backend.sign(info.handle, b"tbs", "streebog256")


def test_kz5_gost_spki_and_signature_algorithm_are_encoded_like_the_ncas(tmp_path: Path) -> None:
    nca = asn1_x509.Certificate.load(pem.unarmor(NCA_CERT.read_bytes())[2])
    backend = SoftwareKeyBackend(tmp_path, MASTER)
    info = backend.generate(KeyAlgorithm.GOST_2015_512, "gov-ca")
    spki = asn1_keys.PublicKeyInfo.load(spki_der(backend.public_key(info.handle)))
    assert spki["algorithm"].dump() == nca.public_key["algorithm"].dump()
    assert public_key(spki) == backend.public_key(info.handle)
    assert signature_algorithm_der(KeyAlgorithm.GOST_2015_512, "streebog512") == nca["signature_algorithm"].dump()
    sig_alg, signature = sign_tbs(backend, info.handle, b"to be signed", "streebog512")
    oid = algos.SignedDigestAlgorithm.load(sig_alg)["algorithm"].dotted
    verify(spki, oid, signature, b"to be signed")
