"""GOST keys on PKCS#12 carriers (issue 7; GOV-3, GOV-7, KZ-5).

The government CA's operator writes the holder's GOST key onto a PKCS#12
carrier (GOV-3) that `cryptography` cannot write: `keys.gost.pkcs12` does,
and `keys.load_pkcs12` reads it back. OpenSSL is the independent judge of the
container (MAC, PBES2 bags, certificates); it has no GOST key type, so it
checks everything but the key, and the key is judged by signing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from pathlib import Path

import pytest
from asn1crypto import algos, cms
from asn1crypto import pkcs12 as asn1_pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from keys import (
    CarrierKey,
    KeyAlgorithm,
    SoftwareKeyBackend,
    WrongPassword,
    load_pkcs12,
    placeholder_public_key,
    sign_certificate,
)
from keys.gost import TC26_512_A, GostPrivateKey, spki_der, verify
from keys.gost.pkcs12 import PKCS12Error, dump_gost_pkcs12, load_gost_pkcs12
from tests.support.tools import require_tool

PASSWORD = b"correct horse battery staple"
DATA = b"document to sign"
ROUNDS = 2_000  # the production 600 000 is exercised by the integration test and test_default_rounds
GOST_512_KEY = "1.2.398.3.10.1.1.2.2"
GOST_512_SIGNATURE = "1.2.398.3.10.1.1.2.3.2"
NCA_P12 = Path(__file__).parent.parent / "vectors" / "nca-rk" / "keys" / "individual_gost2015.p12"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory):
    """A GOST 2015-512 CA (software backend) and a holder certificate for a GOST carrier key."""
    backend = SoftwareKeyBackend(tmp_path_factory.mktemp("ca"), bytes(32) + b"\x02")
    ca = backend.generate(KeyAlgorithm.GOST_2015_512, "ca")
    now = dt.datetime.now(dt.timezone.utc)

    def builder(subject: str, issuer: str) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
                .public_key(placeholder_public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + dt.timedelta(days=30)))

    ca_cert = sign_certificate(backend, ca.handle, builder("Test GOST CA", "Test GOST CA").add_extension(
        x509.BasicConstraints(ca=True, path_length=0), critical=True),
        subject_public_key=backend.public_key(ca.handle))
    carrier = CarrierKey.generate(KeyAlgorithm.GOST_2015_512)
    holder_cert = sign_certificate(backend, ca.handle, builder("Holder", "Test GOST CA"),
                                   subject_public_key=carrier.public_key())
    return carrier, holder_cert, ca_cert


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(_der(cert))


def test_kz5_carrier_key_generates_gost_2015_512_and_signs() -> None:
    carrier = CarrierKey.generate(KeyAlgorithm.GOST_2015_512)
    assert carrier.algorithm is KeyAlgorithm.GOST_2015_512
    signature = carrier.sign(DATA, "streebog512")
    verify(asn1_x509.PublicKeyInfo.load(spki_der(carrier.public_key())), GOST_512_SIGNATURE, signature, DATA)
    assert "PRIVATE" not in repr(carrier)


def test_gov3_gost_carrier_round_trip_signs_what_the_certificate_verifies(issued) -> None:
    """Write → read → the key read back signs what the certificate's public key verifies (keys.gost verify)."""
    carrier, holder_cert, ca_cert = issued
    p12 = carrier.to_pkcs12("Holder", holder_cert, [ca_cert], PASSWORD, kdf_rounds=ROUNDS)

    signer, cert, chain = load_pkcs12(p12, PASSWORD)
    assert cert == holder_cert
    assert chain == [ca_cert]
    assert signer.algorithm is KeyAlgorithm.GOST_2015_512
    signature = signer.sign(DATA, "streebog512")
    verify(_asn1(holder_cert).public_key, GOST_512_SIGNATURE, signature, DATA)
    with pytest.raises(InvalidSignature):
        verify(_asn1(holder_cert).public_key, GOST_512_SIGNATURE, signature, DATA + b"!")
    # The certificate itself is the CA's GOST signature over the holder's key.
    parsed = _asn1(holder_cert)
    verify(_asn1(ca_cert).public_key, parsed["signature_algorithm"]["algorithm"].dotted,
           parsed["signature_value"].native, parsed["tbs_certificate"].dump())

    # The lower-level reader returns the same key and both certificates.
    key, certificates = load_gost_pkcs12(p12, PASSWORD.decode())
    assert spki_der(key.public_key()) == parsed.public_key.dump()
    assert [c.dump() for c in certificates] == [_der(holder_cert), _der(ca_cert)]


def test_gost_carrier_layout_is_pbes2_aes256_with_a_sha256_mac(issued) -> None:
    """PFX v3; key in a pkcs8ShroudedKeyBag and certificates in encryptedData, both PBES2/PBKDF2-SHA256/
    AES-256-CBC; friendlyName and localKeyId on key and certificate; HMAC-SHA256 MAC."""
    carrier, holder_cert, ca_cert = issued
    pfx = asn1_pkcs12.Pfx.load(carrier.to_pkcs12("Holder", holder_cert, [ca_cert], PASSWORD, kdf_rounds=ROUNDS))
    assert pfx["version"].native == "v3"
    mac = pfx["mac_data"]
    assert mac["mac"]["digest_algorithm"]["algorithm"].native == "sha256"
    assert mac["iterations"].native == ROUNDS and len(mac["mac"]["digest"].native) == 32
    certs_info, key_info = asn1_pkcs12.AuthenticatedSafe.load(pfx["auth_safe"]["content"].native)
    assert certs_info["content_type"].native == "encrypted_data"
    schemes = [certs_info["content"]["encrypted_content_info"]["content_encryption_algorithm"]]
    assert key_info["content_type"].native == "data"
    (bag,) = asn1_pkcs12.SafeContents.load(key_info["content"].native)
    assert bag["bag_id"].native == "pkcs8_shrouded_key_bag"
    schemes.append(bag["bag_value"]["encryption_algorithm"])
    for scheme in schemes:
        algorithm = algos.EncryptionAlgorithm.load(scheme.dump())
        assert (algorithm.kdf, algorithm.kdf_hmac, algorithm.kdf_iterations) == ("pbkdf2", "sha256", ROUNDS)
        assert algorithm["parameters"]["encryption_scheme"]["algorithm"].native == "aes256_cbc"
    attributes = {a["type"].native: a["values"][0].native for a in bag["bag_attributes"]}
    assert attributes == {"friendly_name": "Holder", "local_key_id": hashlib.sha1(_der(holder_cert)).digest()}
    assert isinstance(certs_info["content"], cms.EncryptedData)


def test_gost_carrier_refuses_a_wrong_password_and_a_tampered_mac(issued) -> None:
    carrier, holder_cert, ca_cert = issued
    p12 = carrier.to_pkcs12("Holder", holder_cert, [ca_cert], PASSWORD, kdf_rounds=ROUNDS)
    with pytest.raises(WrongPassword):
        load_pkcs12(p12, b"correct horse battery stapler")
    with pytest.raises(PKCS12Error, match="MAC does not match"):
        load_gost_pkcs12(p12, "wrong")

    pfx = asn1_pkcs12.Pfx.load(p12)
    digest = pfx["mac_data"]["mac"]["digest"].native
    tampered = bytearray(p12)
    at = p12.index(digest)
    tampered[at] ^= 0x01
    with pytest.raises(WrongPassword):
        load_pkcs12(bytes(tampered), PASSWORD)
    with pytest.raises(PKCS12Error, match="MAC does not match"):
        load_gost_pkcs12(bytes(tampered), PASSWORD)
    # One bit of the content under the MAC is caught too, before anything is decrypted.
    content = pfx["auth_safe"]["content"].native
    tampered = bytearray(p12)
    tampered[p12.index(content) + len(content) // 2] ^= 0x01
    with pytest.raises(PKCS12Error, match="MAC does not match"):
        load_gost_pkcs12(bytes(tampered), PASSWORD)


def test_gost_carrier_refuses_a_foreign_certificate_and_an_empty_password(issued) -> None:
    carrier, holder_cert, ca_cert = issued
    with pytest.raises(ValueError, match="does not belong"):
        carrier.to_pkcs12("x", ca_cert, [], PASSWORD, kdf_rounds=ROUNDS)
    with pytest.raises(ValueError, match="non-empty password"):
        carrier.to_pkcs12("x", holder_cert, [], b"")
    with pytest.raises(ValueError, match="does not belong"):
        dump_gost_pkcs12(GostPrivateKey.generate(TC26_512_A), _der(holder_cert), [], PASSWORD, rounds=ROUNDS)


def test_openssl_checks_the_gost_carrier_mac_and_lists_its_certificates(issued, tmp_path: Path) -> None:
    """OpenSSL verifies the MAC, decrypts the PBES2 certificate bag and prints both certificates. It has
    no GOST key type, so it is asked for the certificates only (-nokeys); with the wrong password it
    refuses the MAC."""
    openssl = require_tool("openssl")
    carrier, holder_cert, ca_cert = issued
    path = tmp_path / "holder.p12"
    path.write_bytes(carrier.to_pkcs12("Holder", holder_cert, [ca_cert], PASSWORD, kdf_rounds=ROUNDS))

    def pkcs12(password: str, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([openssl, "pkcs12", "-in", str(path), "-passin", f"pass:{password}", *extra],
                              capture_output=True, text=True, timeout=60)

    result = pkcs12(PASSWORD.decode(), "-nokeys")
    assert result.returncode == 0, result.stderr
    listed = x509.load_pem_x509_certificates(result.stdout.encode())
    assert listed == [holder_cert, ca_cert]
    assert "friendlyName: Holder" in result.stdout

    info = pkcs12(PASSWORD.decode(), "-info", "-noout")
    assert info.returncode == 0, info.stderr
    assert f"MAC: sha256, Iteration {ROUNDS}" in info.stderr
    assert "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC" in info.stderr
    assert "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC" in info.stderr

    wrong = pkcs12("not the password", "-nokeys")
    assert wrong.returncode != 0
    assert "mac verify error" in wrong.stderr.lower()


def test_default_rounds_are_the_carrier_rounds_for_the_key_and_the_mac(issued) -> None:
    """600 000 PBKDF2 rounds for the key bag (keys/carrier.py PKCS12_KDF_ROUNDS) and as many PKCS#12 KDF
    rounds for the MAC, which would otherwise be the cheaper test of a password guess."""
    from keys.carrier import PKCS12_KDF_ROUNDS

    carrier, holder_cert, _ca_cert = issued
    pfx = asn1_pkcs12.Pfx.load(carrier.to_pkcs12("Holder", holder_cert, [], PASSWORD))
    assert pfx["mac_data"]["iterations"].native == PKCS12_KDF_ROUNDS == 600_000
    _certs, key_info = asn1_pkcs12.AuthenticatedSafe.load(pfx["auth_safe"]["content"].native)
    (bag,) = asn1_pkcs12.SafeContents.load(key_info["content"].native)
    assert algos.EncryptionAlgorithm.load(bag["bag_value"]["encryption_algorithm"].dump()).kdf_iterations \
        == PKCS12_KDF_ROUNDS


def test_kz6_the_nca_pkcs12_still_loads_through_the_carrier_loader() -> None:
    """The NCA RK's own GOST p12 (3DES key bag, RC2-40 certificate bag, SHA-1 MAC) opens as a carrier."""
    signer, certificate, chain = load_pkcs12(NCA_P12.read_bytes(), b"Qwerty12")
    assert signer.algorithm is KeyAlgorithm.GOST_2015_512
    assert certificate is None and chain == []  # its certificates are in the RC2-40 bag, skipped
    with pytest.raises(WrongPassword):
        load_pkcs12(NCA_P12.read_bytes(), b"Qwerty13")
