"""The hand-built CMS SignedData (signing/pades/signed_data.py) against asn1crypto and the RFCs."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from asn1crypto import cms as asn1_cms
import pyhanko.sign.signers  # noqa: F401 - teaches asn1crypto the ESS attribute types
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from keys import verify_signature
from keys.software import sign_with
from signing.pades.signed_data import SignerIdentity, issuer_and_serial, signature_time_stamp


def _certificate(key, serial: int, *, issuer_key=None, issuer_name=None) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ТЕСТОВ ТЕСТ"),
                      x509.NameAttribute(NameOID.SERIAL_NUMBER, "IIN900101300017")])
    now = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
            .public_key(key.public_key()).serial_number(serial).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(issuer_key or key, hashes.SHA256()))


@pytest.fixture(scope="module", params=["rsa", "ec"])
def signer(request):
    key = rsa.generate_private_key(65537, 2048) if request.param == "rsa" else ec.generate_private_key(ec.SECP256R1())
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(ca_key, 7)
    # A serial with its top bit set needs a leading zero octet in DER.
    cert = _certificate(key, 0x80 << 120 | 5, issuer_key=ca_key, issuer_name=ca.subject)
    return key, cert, ca


def _built(signer, digest: bytes, unsigned=()):
    key, cert, ca = signer
    identity = SignerIdentity(cert, (ca,))
    attrs = identity.signed_attributes(digest)
    signature = sign_with(key, attrs, "sha256")
    return identity, attrs, signature, identity.signed_data(attrs, signature, unsigned)


def test_issuer_and_serial_are_the_certificate_bytes(signer) -> None:
    _key, cert, _ca = signer
    issuer, serial = issuer_and_serial(cert.public_bytes(serialization.Encoding.DER))
    assert issuer == cert.issuer.public_bytes()
    assert int.from_bytes(serial[2:], "big") == cert.serial_number
    assert serial[2] == 0  # top bit set: a leading zero keeps the INTEGER positive


def test_signed_data_parses_and_carries_the_pades_attributes(signer) -> None:
    """ETSI EN 319 142-1 §6.3: content type, message digest, signing-certificate-v2, no signing time."""
    _key, cert, ca = signer
    digest = hashlib.sha256(b"the document").digest()
    _identity, attrs, signature, der = _built(signer, digest)
    info = asn1_cms.ContentInfo.load(der, strict=True)
    assert info["content_type"].native == "signed_data"
    signed = info["content"]
    assert signed["encap_content_info"]["content"].native is None  # detached
    assert {c.chosen.dump() for c in signed["certificates"]} == {
        cert.public_bytes(serialization.Encoding.DER), ca.public_bytes(serialization.Encoding.DER)}
    info_ = signed["signer_infos"][0]
    values = {a["type"].native: a["values"][0] for a in info_["signed_attrs"]}
    assert set(values) == {"content_type", "message_digest", "signing_certificate_v2", "cms_algorithm_protection"}
    assert values["content_type"].native == "data"
    assert values["message_digest"].native == digest
    ess = values["signing_certificate_v2"]["certs"][0]
    assert ess["cert_hash"].native == hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    assert ess["issuer_serial"]["serial_number"].native == cert.serial_number
    assert info_["sid"].chosen["serial_number"].native == cert.serial_number
    protection = values["cms_algorithm_protection"]
    assert protection["signature_algorithm"].dump()[1:] == info_["signature_algorithm"].dump()[1:]
    assert info_["signature"].native == signature
    # What was signed is exactly the DER SET form of the attributes in the SignerInfo.
    assert b"\x31" + info_["signed_attrs"].dump()[1:] == attrs
    assert info_["signed_attrs"].dump(force=True) == info_["signed_attrs"].dump()  # DER order kept
    assert verify_signature(cert.public_key(), signature, attrs, "sha256")


def test_signature_time_stamp_goes_in_the_unsigned_attributes(signer) -> None:
    token = asn1_cms.ContentInfo({"content_type": "data", "content": b"stand-in token"}).dump()
    *_rest, der = _built(signer, b"\x00" * 32, (signature_time_stamp(token),))
    info_ = asn1_cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    (attribute,) = info_["unsigned_attrs"]
    assert attribute["type"].native == "signature_time_stamp_token"
    assert attribute["values"][0].dump() == token
