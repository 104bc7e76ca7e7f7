"""Ground truth: the NCA RK's own GOST certificates and key (KZ-5, KZ-6).

Files: tests/vectors/nca-rk (see PROVENANCE there). The GOST 2015
certificates expired in 2024, the 2004 ones in 2022: paths are validated
at a moment inside their validity.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from asn1crypto import pem, x509
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathValidationError

import keys  # noqa: F401 - registers the OIDs, as any import of the project does
from keys.gost import (
    GOST_SIGNATURE_VALIDATOR,
    RFC4491,
    TC26_512_A,
    public_key,
    spki_der,
    streebog512,
    verify,
)
from keys.gost.pkcs12 import PKCS12Error, load_gost_pkcs12

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk"
AT_2015 = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
AT_2004 = dt.datetime(2022, 6, 1, tzinfo=dt.timezone.utc)


def load(name: str) -> x509.Certificate:
    data = (VECTORS / name).read_bytes()
    if pem.detect(data):
        data = pem.unarmor(data)[2]
    return x509.Certificate.load(data)


def check(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    verify(issuer.public_key, cert["signature_algorithm"]["algorithm"].dotted, cert["signature_value"].native,
           cert["tbs_certificate"].dump())


def flipped(cert: x509.Certificate, where: str) -> x509.Certificate:
    der = bytearray(cert.dump())
    tbs = cert["tbs_certificate"].dump()
    start = bytes(der).index(tbs)
    if where == "tbs":
        der[start + len(tbs) // 2] ^= 0x01  # inside the subject's public key, well past the header
    else:
        der[-10] ^= 0x01  # inside the signature BIT STRING, the last element
    return x509.Certificate.load(bytes(der))


def test_kz5_gost2015_certificate_verifies_under_the_issuing_ca_key() -> None:
    check(load("certs/individual_gost2015.cer"), load("ca/nca_gost2015_test.cer"))


@pytest.mark.parametrize("where", ["tbs", "signature"])
def test_kz5_gost2015_certificate_with_one_bit_flipped_is_rejected(where: str) -> None:
    with pytest.raises(InvalidSignature):
        check(flipped(load("certs/individual_gost2015.cer"), where), load("ca/nca_gost2015_test.cer"))


def test_kz5_nca_signature_is_not_in_rfc4491_byte_order() -> None:
    """The negative side of the byte convention: the same bytes read as RFC 4491 do not verify."""
    cert, ca = load("certs/individual_gost2015.cer"), load("ca/nca_gost2015_test.cer")
    digest = streebog512(cert["tbs_certificate"].dump()).digest()
    key = public_key(ca.public_key)
    with pytest.raises(InvalidSignature):
        key.verify_digest(cert["signature_value"].native, digest, RFC4491)
    with pytest.raises(InvalidSignature):
        key.verify_digest(cert["signature_value"].native, digest[::-1])


def test_kz5_gost2004_certificate_verifies_under_the_2004_ca_key() -> None:
    cert, ca = load("certs/ceo_valid_sign_2004_gost.cer"), load("ca/nca_gost_test.crt")
    check(cert, ca)
    with pytest.raises(InvalidSignature):
        check(flipped(cert, "tbs"), ca)


def test_kz1_kz3_kz4_kz5_nca_certificate_parses_with_readable_names() -> None:
    cert = load("certs/individual_gost2015.cer")
    assert cert["signature_algorithm"]["algorithm"].native == "kz_gost3410_2015_512_streebog512"
    spki = cert.public_key
    assert spki["algorithm"]["algorithm"].native == "kz_gost3410_2015_512"
    assert spki["algorithm"]["parameters"].native == {
        "public_key_param_set": "kz_gost3410_2015_512_a", "digest_param_set": "kz_streebog512",
        "encryption_param_set": None}
    assert len(spki["public_key"].parsed.native) == 128
    assert public_key(spki).curve is TC26_512_A
    subject = cert.subject.native
    assert subject["serial_number"] == "IIN123456789011"
    assert subject["common_name"] == "ТЕСТОВ ТЕСТ"
    assert subject["surname"] == "ТЕСТОВ"
    assert subject["given_name"] == "ТЕСТОВИЧ"
    assert subject["country_name"] == "KZ"
    assert cert.issuer.native["common_name"] == "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022"
    assert [p["policy_identifier"].dotted for p in cert.certificate_policies_value] == ["1.2.398.3.3.2"]
    assert cert.extended_key_usage_value.native == ["email_protection", "kz_individual"]
    assert cert.key_usage_value.native == {"digital_signature", "non_repudiation", "key_agreement"}
    ca = load("ca/nca_gost2015_test.cer")
    assert cert.authority_key_identifier == ca.key_identifier


def test_kz5_2004_certificate_names_its_algorithms() -> None:
    cert = load("certs/ceo_valid_sign_2004_gost.cer")
    assert cert["signature_algorithm"]["algorithm"].native == "kz_gost34311_95_gost34310_2004"
    assert cert.public_key["algorithm"]["parameters"]["public_key_param_set"].native == "kz_gost34310_2004_a"
    assert "kz_first_head" in cert.extended_key_usage_value.native


def _validate(cert: x509.Certificate, anchor: x509.Certificate, moment: dt.datetime, validator=GOST_SIGNATURE_VALIDATOR):
    context = ValidationContext(trust_roots=[anchor], moment=moment, signature_validator=validator)
    return asyncio.run(CertificateValidator(cert, validation_context=context).async_validate_usage(set()))


def test_pyhanko_certvalidator_validates_nca_gost_paths_with_our_signature_validator() -> None:
    assert len(_validate(load("certs/individual_gost2015.cer"), load("ca/nca_gost2015_test.cer"), AT_2015)) == 2
    assert len(_validate(load("certs/ceo_valid_sign_2004_gost.cer"), load("ca/nca_gost_test.crt"), AT_2004)) == 2
    # RSA still goes to the library's own validator.
    assert len(_validate(load("certs/individual_valid_sign_2004_rsa.cer"), load("ca/nca_rsa_test.crt"), AT_2004)) == 2


def test_pyhanko_certvalidator_rejects_a_flipped_gost_certificate() -> None:
    with pytest.raises(PathValidationError):
        _validate(flipped(load("certs/individual_gost2015.cer"), "signature"), load("ca/nca_gost2015_test.cer"),
                  AT_2015)


def test_nca_pkcs12_key_signs_what_the_certificates_key_verifies() -> None:
    key, _certificates = load_gost_pkcs12((VECTORS / "keys/individual_gost2015.p12").read_bytes(), "Qwerty12")
    cert = load("certs/individual_gost2015.cer")
    assert key.public_key() == public_key(cert.public_key)
    # Our SubjectPublicKeyInfo encoding is byte for byte the NCA's.
    assert spki_der(key.public_key()) == cert.public_key.dump()
    data = "Заявление на отзыв".encode()
    signature = key.sign(data)
    verify(cert.public_key, "1.2.398.3.10.1.1.2.3.2", signature, data)
    with pytest.raises(InvalidSignature):
        verify(cert.public_key, "1.2.398.3.10.1.1.2.3.2", signature, data + b"!")


def test_nca_pkcs12_with_a_wrong_password_is_refused() -> None:
    with pytest.raises(PKCS12Error):
        load_gost_pkcs12((VECTORS / "keys/individual_gost2015.p12").read_bytes(), "Qwerty13")
