"""Certificates signed by a CA on a GOST key, and GOST holder keys (issue 7, KZ-5).

Judged by the code path that verifies the NCA RK's real GOST certificates
(``keys.gost.verify`` on the TBSCertificate, pyhanko-certvalidator with our
signature hook), by gostcrypto as an independent implementation, and
byte for byte against the NCA's own layout (tests/vectors/nca-rk).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from asn1crypto import pem
from asn1crypto import csr as asn1_csr
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathValidationError

from ca.certcheck import check_certificate
from ca.issuer import CAEndpoints, CertificateIssuer, IssuingCA
from ca.keycheck import parse_csr
from ca.profiles import PROFILES
from ca.subject import SubjectData, build_name
from keys import KeyAlgorithm, KeySigner, SoftwareKeyBackend, certificate_public_key, key_identifier
from keys.gost import GOST_SIGNATURE_VALIDATOR, GostPublicKey, public_key, signature_algorithm_der, spki_der, streebog512, verify
from keys.gost.pkcs12 import load_gost_pkcs12
from keys.x509sign import build_csr
from tests.support.gost_ca import NOW, GostCA, parsed

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk"
GOST = [KeyAlgorithm.GOST_2015_512, KeyAlgorithm.GOST_2015_256]
SIGNATURE_OIDS = {KeyAlgorithm.GOST_2015_512: "1.2.398.3.10.1.1.2.3.2",
                  KeyAlgorithm.GOST_2015_256: "1.2.398.3.10.1.1.2.3.1"}


def nca(name: str) -> asn1_x509.Certificate:
    data = (VECTORS / name).read_bytes()
    return asn1_x509.Certificate.load(pem.unarmor(data)[2] if pem.detect(data) else data)


def check(cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> None:
    """What tests/unit/test_gost_nca_vectors.py does to the NCA's certificates."""
    verify(issuer.public_key, cert["signature_algorithm"]["algorithm"].dotted, cert["signature_value"].native,
           cert["tbs_certificate"].dump())


@pytest.fixture(params=GOST, ids=lambda a: a.value)
def hierarchy(request, tmp_path: Path) -> GostCA:
    return GostCA(tmp_path, request.param)


def _flip(cert: asn1_x509.Certificate, where: str) -> asn1_x509.Certificate:
    der = bytearray(cert.dump())
    tbs = cert["tbs_certificate"].dump()
    if where == "tbs":
        der[bytes(der).index(tbs) + len(tbs) // 2] ^= 0x01
    else:
        der[-10] ^= 0x01  # inside the signature BIT STRING, the last element
    return asn1_x509.Certificate.load(bytes(der))


def test_kz5_gost_ca_certificate_verifies_with_the_nca_code_path(hierarchy: GostCA) -> None:
    """GOV-7: the government CA signs with GOST; the signature verifies as the NCA's own do."""
    holder = hierarchy.backend.public_key(hierarchy.backend.generate(KeyAlgorithm.EC_P256, "holder").handle)
    cert = parsed(hierarchy.issue(holder))
    ca = parsed(hierarchy.certificate)
    algorithm = hierarchy.backend.algorithm(hierarchy.handle)
    assert cert["signature_algorithm"]["algorithm"].dotted == SIGNATURE_OIDS[algorithm]
    # RFC 5280 §4.1.1.2: the TBS's copy is the same AlgorithmIdentifier.
    assert cert["tbs_certificate"]["signature"].dump() == cert["signature_algorithm"].dump()
    check(cert, ca)
    check(ca, ca)  # the self-signed CA certificate too
    for where in ("tbs", "signature"):
        with pytest.raises(InvalidSignature):
            check(_flip(cert, where), ca)


def test_kz5_gost_ca_certificate_passes_path_validation_and_fails_with_one_bit_flipped(hierarchy: GostCA) -> None:
    holder = hierarchy.backend.public_key(hierarchy.backend.generate(KeyAlgorithm.EC_P256, "holder").handle)
    cert, ca = parsed(hierarchy.issue(holder)), parsed(hierarchy.certificate)
    at = NOW + dt.timedelta(days=1)
    result = check_certificate(cert, [ca], at)
    assert result.valid, result.reason
    assert len(result.path) == 2
    broken = check_certificate(_flip(cert, "signature"), [ca], at)
    assert not broken.valid
    assert broken.reason == "the issuer's signature does not verify"
    context = ValidationContext(trust_roots=[ca], moment=at, signature_validator=GOST_SIGNATURE_VALIDATOR)
    with pytest.raises(PathValidationError):
        asyncio.run(CertificateValidator(_flip(cert, "tbs"), validation_context=context).async_validate_path())


def test_kz5_gost_signature_agrees_with_gostcrypto(tmp_path: Path) -> None:
    """An independent implementation reads our certificate signature as the NCA README says."""
    gostsignature = pytest.importorskip("gostcrypto.gostsignature")
    h = GostCA(tmp_path, KeyAlgorithm.GOST_2015_512)
    cert = parsed(h.issue(h.backend.public_key(h.handle)))
    key = public_key(parsed(h.certificate).public_key)
    sig, tbs = cert["signature_value"].native, cert["tbs_certificate"].dump()
    theirs = gostsignature.new(gostsignature.MODE_512,
                               gostsignature.CURVES_R_1323565_1_024_2019["id-tc26-gost-3410-12-512-paramSetA"])
    point = bytearray(key.x.to_bytes(64, "big") + key.y.to_bytes(64, "big"))
    assert theirs.verify(point, bytearray(streebog512(tbs).digest()[::-1]), bytearray(sig[64:] + sig[:64])[::-1])
    assert not theirs.verify(point, bytearray(streebog512(tbs + b"x").digest()[::-1]),
                             bytearray(sig[64:] + sig[:64])[::-1])


def test_kz5_gost_certificate_layout_is_the_ncas(tmp_path: Path) -> None:
    """Signature AlgorithmIdentifier and holder SubjectPublicKeyInfo byte for byte as in the NCA's certificate."""
    h = GostCA(tmp_path, KeyAlgorithm.GOST_2015_512)
    theirs = nca("certs/individual_gost2015.cer")
    # Our CA certifies the NCA test holder's real GOST key.
    holder_key = public_key(theirs.public_key)
    ours = parsed(h.issue(holder_key, profile="individual-sign"))
    assert ours["signature_algorithm"].dump() == theirs["signature_algorithm"].dump()
    assert ours["tbs_certificate"]["signature"].dump() == theirs["tbs_certificate"]["signature"].dump()
    assert ours.public_key.dump() == theirs.public_key.dump()
    # RFC 5280 §4.2.1.2 method (1), as the NCA computes it.
    assert ours.key_identifier == theirs.key_identifier == key_identifier(holder_key)
    assert ours.authority_key_identifier == parsed(h.certificate).key_identifier
    # A GOST key cannot encipher keys: the NCA's GOST certificates carry keyAgreement.
    auth = parsed(h.issue(holder_key, profile="individual-auth", serial=8))
    assert "key_agreement" in auth.key_usage_value.native
    assert "key_encipherment" not in auth.key_usage_value.native
    check(ours, parsed(h.certificate))
    assert certificate_public_key(x509.load_der_x509_certificate(ours.dump())) == holder_key


def test_kz5_gost_holder_key_under_an_ecdsa_ca(tmp_path: Path) -> None:
    """A holder's GOST key in a certificate signed by an ECDSA CA: the signature stays ECDSA."""
    h = GostCA(tmp_path, KeyAlgorithm.GOST_2015_256)
    ec_backend = SoftwareKeyBackend(tmp_path / "ec", b"e" * 32)
    ec_issuer = CertificateIssuer()
    handle = ec_backend.generate(KeyAlgorithm.EC_P256, "ca").handle
    builder = ec_issuer.build(ca=None, profile=PROFILES["root-ca"],
                              subject=build_name(PROFILES["root-ca"], SubjectData(common_name="EC CA", organisation="Q")),
                              public_key=ec_backend.public_key(handle), serial=3, not_before=NOW,
                              not_after=NOW + dt.timedelta(days=30))
    ec_ca = ec_issuer.sign(builder, KeySigner(ec_backend, handle))
    gost_key = h.backend.public_key(h.handle)
    ca = IssuingCA(code="national", certificate=ec_ca, key_handle=handle, endpoints=CAEndpoints("http://t", "n"))
    prof = PROFILES["individual-sign"]
    cert = ec_issuer.sign(ec_issuer.build(ca=ca, profile=prof, subject=build_name(prof, SubjectData(
        surname="А", given_name="Б", iin="900101300017")), public_key=gost_key, serial=9, not_before=NOW,
        not_after=NOW + dt.timedelta(days=30)), KeySigner(ec_backend, handle), gost_key)
    assert cert.signature_algorithm_oid.dotted_string == "1.2.840.10045.4.3.2"
    ec_ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    assert parsed(cert).public_key.dump() == spki_der(gost_key)


@pytest.mark.parametrize("algorithm", GOST, ids=lambda a: a.value)
def test_kz5_gost_csr_is_accepted_with_proof_of_possession(tmp_path: Path, algorithm: KeyAlgorithm) -> None:
    backend = SoftwareKeyBackend(tmp_path, b"k" * 32)
    handle = backend.generate(algorithm, "holder").handle
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "holder")])
    der = build_csr(backend, handle, name)
    request = asn1_csr.CertificationRequest.load(der)
    assert request["signature_algorithm"]["algorithm"].dotted == SIGNATURE_OIDS[algorithm]
    key, problems = parse_csr(der)
    assert problems == []
    assert isinstance(key, GostPublicKey) and key == backend.public_key(handle)
    pem_text = pem.armor("CERTIFICATE REQUEST", der)
    assert parse_csr(pem_text)[0] == key
    tampered = bytearray(der)
    tampered[-5] ^= 0x01
    key, problems = parse_csr(bytes(tampered))
    assert key is None
    assert [p.message for p in problems] == ["signature does not verify: no proof of possession of the private key"]


def test_kz5_nca_holder_csr_from_its_real_key_is_accepted(tmp_path: Path) -> None:
    """The NCA test holder's own GOST key (its PKCS#12) makes a CSR our centre accepts."""
    key, _certs = load_gost_pkcs12((VECTORS / "keys/individual_gost2015.p12").read_bytes(), "Qwerty12")
    info = asn1_csr.CertificationRequestInfo({
        "version": "v1", "subject": asn1_x509.Name.build({"common_name": "ТЕСТОВ ТЕСТ"}),
        "subject_pk_info": asn1_x509.PublicKeyInfo.load(spki_der(key.public_key())), "attributes": []})
    request = asn1_csr.CertificationRequest({
        "certification_request_info": info,
        "signature_algorithm": asn1_x509.SignedDigestAlgorithm.load(signature_algorithm_der(key.curve)),
        "signature": key.sign(info.dump())})
    parsed_key, problems = parse_csr(request.dump())
    assert problems == [] and parsed_key == key.public_key()
