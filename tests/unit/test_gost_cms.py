"""CMS SignedData with GOST 2015 keys (DOMAIN.md KZ-5): built by us and by pyHanko, verified by ca.cms and pyHanko.

Keys are generated in memory (keys.gost.GostPrivateKey signs bytes like a
backend key does); the certificates come from tests/support/gost_pki.py,
shaped like the NCA's. pyHanko's own validation with our signature
validator is the judge that our CMS is well formed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from ca.cms import SIGNATURE_VERIFIER, CMSVerificationError, verify_signed_document
from keys.gost import TC26_256_A, TC26_512_A, GostPrivateKey, streebog256, streebog512
from signing.pades.gost_signer import GostSigner
from signing.pades.signed_data import SignerIdentity, digest
from tests.support.gost_pki import gost_end_entity, gost_root, to_crypto
from tests.support.verification import our_cms

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk"
CONTENT = "Договор микрокредита MK-2026/15, приложение 1".encode()
AT = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
EXPECTED = {  # curve: (digest OID, signature OID, Streebog) as the NCA's tools write them
    256: ("1.2.398.3.10.1.3.2", "1.2.398.3.10.1.1.2.3.1", streebog256),
    512: ("1.2.398.3.10.1.3.3", "1.2.398.3.10.1.1.2.3.2", streebog512),
}


@pytest.fixture(scope="module")
def root():
    return gost_root()


@pytest.fixture(scope="module", params=[256, 512])
def holder(request, root):
    key = GostPrivateKey.generate(TC26_512_A if request.param == 512 else TC26_256_A)
    return request.param, key, gost_end_entity(root, key.public_key())


def _signer_info(der: bytes) -> asn1_cms.SignerInfo:
    return asn1_cms.ContentInfo.load(der)["content"]["signer_infos"][0]


def _validate(root, der: bytes, content: bytes):
    signed = asn1_cms.ContentInfo.load(der)["content"]
    context = ValidationContext(trust_roots=[root.certificate], moment=AT, signature_validator=SIGNATURE_VERIFIER)
    return asyncio.run(async_validate_detached_cms(content, signed, context))


def _flip_signature(der: bytes) -> bytes:
    info = asn1_cms.ContentInfo.load(der)
    signer = info["content"]["signer_infos"][0]
    value = bytearray(signer["signature"].native)
    value[5] ^= 0x01
    signer["signature"] = bytes(value)
    return info.dump()


def test_kz5_our_gost_cms_names_the_ncas_digest_and_signature_oids(holder) -> None:
    bits, key, cert = holder
    der = our_cms(key, to_crypto(cert), (), CONTENT)
    signer = _signer_info(der)
    digest_oid, signature_oid, streebog = EXPECTED[bits]
    assert signer["digest_algorithm"]["algorithm"].dotted == digest_oid
    assert signer["signature_algorithm"]["algorithm"].dotted == signature_oid
    # The NCA's AlgorithmIdentifier: NULL parameters.
    assert signer["signature_algorithm"]["parameters"].dump() == b"\x05\x00"
    digests = [a["values"][0].native for a in signer["signed_attrs"] if a["type"].native == "message_digest"]
    assert digests == [streebog(CONTENT).digest()]
    assert len(signer["signature"].native) == bits // 4   # r ‖ s, one coordinate size each
    assert asn1_cms.ContentInfo.load(der)["content"]["digest_algorithms"][0]["algorithm"].dotted == digest_oid


@pytest.mark.parametrize("attached", [False, True])
def test_kz5_our_gost_cms_verifies_in_ca_cms(holder, attached) -> None:
    bits, key, cert = holder
    der = our_cms(key, to_crypto(cert), (), CONTENT, attached=attached)
    document = verify_signed_document(der, detached_content=None if attached else CONTENT)
    assert document.content == CONTENT
    assert document.digest_algorithm == ("kz_streebog512" if bits == 512 else "kz_streebog256")
    assert document.signer.serial_number == cert.serial_number


def test_kz5_ca_cms_refuses_a_gost_cms_over_other_content(holder) -> None:
    _bits, key, cert = holder
    der = our_cms(key, to_crypto(cert), (), CONTENT)
    with pytest.raises(CMSVerificationError, match="does not match the document"):
        verify_signed_document(der, detached_content=CONTENT + b".")


def test_kz5_ca_cms_refuses_a_gost_cms_with_a_flipped_signature_bit(holder) -> None:
    _bits, key, cert = holder
    der = _flip_signature(our_cms(key, to_crypto(cert), (), CONTENT))
    with pytest.raises(CMSVerificationError, match="does not match the signed attributes"):
        verify_signed_document(der, detached_content=CONTENT)


def test_kz5_ca_cms_refuses_a_gost_signature_paired_with_another_digest(root) -> None:
    """GOST R 34.10-2015 (512) goes with Streebog-512 only: a CMS naming Streebog-256 is refused."""
    key = GostPrivateKey.generate(TC26_512_A)
    cert = gost_end_entity(root, key.public_key())
    info = asn1_cms.ContentInfo.load(our_cms(key, to_crypto(cert), (), CONTENT))
    info["content"]["signer_infos"][0]["digest_algorithm"] = {"algorithm": "1.2.398.3.10.1.3.2"}
    with pytest.raises(CMSVerificationError, match="does not use the digest algorithm kz_streebog256"):
        verify_signed_document(info.dump(), detached_content=CONTENT)


def test_kz5_pyhanko_validates_our_gost_cms_with_our_signature_validator(root, holder) -> None:
    _bits, key, cert = holder
    der = our_cms(key, to_crypto(cert), (), CONTENT)
    status = _validate(root, der, CONTENT)
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.pkcs7_signature_mechanism.startswith("kz_gost3410_2015_")
    broken = _validate(root, der, CONTENT + b".")
    assert (broken.intact, broken.trusted) == (False, False)
    flipped = _validate(root, _flip_signature(der), CONTENT)
    assert (flipped.intact, flipped.valid, flipped.trusted) == (True, False, False)


@pytest.mark.parametrize("detached", [True, False])
def test_kz5_pyhanko_signs_a_gost_cms_with_our_signer_and_ca_cms_accepts_it(root, holder, detached) -> None:
    bits, key, cert = holder
    signer = GostSigner(key, cert, (root.certificate,))
    info = asyncio.run(signer.async_sign_general_data(CONTENT, signer.digest_algorithm, detached=detached))
    signer_info = info["content"]["signer_infos"][0]
    digest_oid, signature_oid, _streebog = EXPECTED[bits]
    assert signer_info["digest_algorithm"]["algorithm"].dotted == digest_oid
    assert signer_info["signature_algorithm"]["algorithm"].dotted == signature_oid
    document = verify_signed_document(info.dump(), detached_content=CONTENT if detached else None)
    assert document.content == CONTENT
    if detached:
        status = _validate(root, info.dump(), CONTENT)
        assert (status.intact, status.valid, status.trusted) == (True, True, True)


def test_gost_signer_refuses_a_digest_other_than_the_keys_streebog(root) -> None:
    key = GostPrivateKey.generate(TC26_256_A)
    signer = GostSigner(key, gost_end_entity(root, key.public_key()))
    with pytest.raises(SigningError, match="kz_streebog256"):
        asyncio.run(signer.async_sign_general_data(CONTENT, "sha256", detached=True))


def test_gost_signer_refuses_a_non_gost_certificate() -> None:
    data = (VECTORS / "certs/individual_valid_sign_2004_rsa.cer").read_bytes()
    cert = asn1_x509.Certificate.load(pem.unarmor(data)[2] if pem.detect(data) else data)
    with pytest.raises(SigningError, match="not a GOST key"):
        GostSigner(GostPrivateKey.generate(TC26_256_A), cert)


def test_kz5_signer_identity_pairs_a_gost_key_with_its_streebog_and_refuses_sha256(root) -> None:
    key = GostPrivateKey.generate(TC26_512_A)
    cert = to_crypto(gost_end_entity(root, key.public_key()))
    assert SignerIdentity(cert).hash_name == "streebog512"
    with pytest.raises(ValueError, match="streebog512, not sha256"):
        SignerIdentity(cert, hash_name="sha256")


@pytest.mark.parametrize("name, expected", [("kz_streebog512", streebog512), ("kz_streebog256", streebog256),
                                            ("streebog512", streebog512), ("streebog256", streebog256)])
def test_pyhanko_hashes_streebog_by_the_digest_oids_name(name, expected) -> None:
    """pyHanko's one lookup (get_pyca_cryptography_hash + hashes.Hash) computes Streebog (keys/gost/pyca.py)."""
    context = hashes.Hash(get_pyca_cryptography_hash(name))
    context.update(CONTENT[:7])
    copy = context.copy()
    context.update(CONTENT[7:])
    assert context.finalize() == expected(CONTENT).digest() == digest(expected().name, CONTENT)
    copy.update(b"x")
    assert copy.finalize() == expected(CONTENT[:7] + b"x").digest()
    assert isinstance(context, hashes.Hash)


def test_registering_streebog_leaves_cryptographys_own_hashes_alone() -> None:
    import hashlib

    context = hashes.Hash(hashes.SHA256())
    context.update(CONTENT)
    assert context.finalize() == hashlib.sha256(CONTENT).digest()
    assert isinstance(hashes.Hash(hashes.SHA384()), hashes.Hash)


def test_kz5_ca_cms_accepts_a_gost_signature_without_signed_attributes(root) -> None:
    """RFC 5652 §5.4: without signed attributes the key signs the content itself (pyHanko: prehashed)."""
    key = GostPrivateKey.generate(TC26_512_A)
    cert = gost_end_entity(root, key.public_key())
    info = asn1_cms.ContentInfo.load(our_cms(key, to_crypto(cert), (), CONTENT, attached=True))
    signer = info["content"]["signer_infos"][0]
    del signer["signed_attrs"]
    signer["signature"] = key.sign(CONTENT)
    assert not asn1_cms.ContentInfo.load(info.dump())["content"]["signer_infos"][0]["signed_attrs"].native
    assert verify_signed_document(info.dump()).content == CONTENT
    signer["signature"] = key.sign(CONTENT + b".")
    with pytest.raises(CMSVerificationError):
        verify_signed_document(info.dump())
