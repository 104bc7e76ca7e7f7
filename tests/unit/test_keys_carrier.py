from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from keys import (
    CarrierKey,
    KeyAlgorithm,
    SoftwareKeyBackend,
    WrongPassword,
    load_pkcs12,
    sign_certificate,
    verify_signature,
)
from tests.support.tools import require_tool

PASSWORD = b"correct horse battery staple"
DATA = b"document to sign"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory):
    """A CA (software backend) and a holder certificate for a carrier key."""
    backend = SoftwareKeyBackend(tmp_path_factory.mktemp("ca"), bytes(32) + b"\x01")
    ca = backend.generate(KeyAlgorithm.EC_P256, "ca")
    now = dt.datetime.now(dt.timezone.utc)
    ca_cert = sign_certificate(
        backend,
        ca.handle,
        x509.CertificateBuilder()
        .subject_name(_name("Test CA"))
        .issuer_name(_name("Test CA"))
        .public_key(backend.public_key(ca.handle))
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True),
    )
    carrier = CarrierKey.generate(KeyAlgorithm.RSA_2048)
    holder_cert = sign_certificate(
        backend,
        ca.handle,
        x509.CertificateBuilder()
        .subject_name(_name("Holder"))
        .issuer_name(ca_cert.subject)
        .public_key(carrier.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30)),
    )
    return carrier, holder_cert, ca_cert


def test_generate_each_algorithm_signs() -> None:
    for algorithm in (KeyAlgorithm.RSA_2048, KeyAlgorithm.EC_P256, KeyAlgorithm.EC_P384):
        carrier = CarrierKey.generate(algorithm)
        assert carrier.algorithm is algorithm
        signature = carrier.sign(DATA, algorithm.default_hash)
        assert verify_signature(carrier.public_key(), signature, DATA, algorithm.default_hash)
        assert "PRIVATE" not in repr(carrier)


def test_pkcs12_round_trip(issued) -> None:
    carrier, holder_cert, ca_cert = issued
    p12 = carrier.to_pkcs12("Holder", holder_cert, [ca_cert], PASSWORD)

    signer, cert, chain = load_pkcs12(p12, PASSWORD)
    assert cert == holder_cert
    assert chain == [ca_cert]
    assert signer.algorithm is KeyAlgorithm.RSA_2048
    signature = signer.sign(DATA, "sha256")
    assert verify_signature(holder_cert.public_key(), signature, DATA, "sha256")

    with pytest.raises(WrongPassword):
        load_pkcs12(p12, b"wrong")


def test_pkcs12_refuses_foreign_certificate_and_empty_password(issued) -> None:
    carrier, holder_cert, ca_cert = issued
    with pytest.raises(ValueError, match="does not belong"):
        carrier.to_pkcs12("x", ca_cert, [], PASSWORD)
    with pytest.raises(ValueError, match="non-empty password"):
        carrier.to_pkcs12("x", holder_cert, [], b"")


def test_openssl_reads_pkcs12(issued, tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    carrier, holder_cert, ca_cert = issued
    path = tmp_path / "holder.p12"
    path.write_bytes(carrier.to_pkcs12("Holder", holder_cert, [ca_cert], PASSWORD))

    result = subprocess.run(
        [openssl, "pkcs12", "-in", str(path), "-passin", f"pass:{PASSWORD.decode()}", "-nodes"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "BEGIN PRIVATE KEY" in result.stdout
    assert result.stdout.count("BEGIN CERTIFICATE") == 2
    assert "friendlyName: Holder" in result.stdout
    key = serialization.load_pem_private_key(
        result.stdout[result.stdout.index("-----BEGIN PRIVATE KEY") :].encode(), None
    )
    assert key.public_key() == carrier.public_key()

    info = subprocess.run(
        [openssl, "pkcs12", "-in", str(path), "-passin", f"pass:{PASSWORD.decode()}", "-info", "-noout"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert info.returncode == 0, info.stderr
    assert "AES-256-CBC" in info.stderr + info.stdout
    assert "sha256" in (info.stderr + info.stdout).lower()
