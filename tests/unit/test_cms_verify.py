"""ca.cms.verify_signed_document: one rule per test.

Signatures come from cryptography's PKCS7SignatureBuilder where it can make
them, and from a small asn1crypto builder below where a test needs control it
does not give (no signed attributes, chosen algorithms, chosen attributes, a
subjectKeyIdentifier sid). Keys are made once per module; times are fixed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ca.cms import CMSVerificationError, SignedDocument, verify_signed_document
from ca.errors import QoltanbaError

NOW = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.timezone.utc)
DOCUMENT = b"Revocation application: certificate 0x1f2e, reason keyCompromise.\n"
OTHER_DOCUMENT = b"Revocation application: certificate 0x1f2f, reason keyCompromise.\n"


# --- keys, certificates and signatures ----------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def rsa_cert(rsa_key: rsa.RSAPrivateKey) -> x509.Certificate:
    return make_cert(rsa_key, "Holder RSA", serial=1001)


@pytest.fixture(scope="module")
def ec_cert(ec_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    return make_cert(ec_key, "Holder EC", serial=1002)


@pytest.fixture(params=["rsa", "ec"])
def holder(request: pytest.FixtureRequest) -> tuple[object, x509.Certificate]:
    return request.getfixturevalue(f"{request.param}_key"), request.getfixturevalue(f"{request.param}_cert")


def make_cert(key: object, name: str, *, serial: int, ski: bool = True) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=365))
    )
    if ski:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    return builder.sign(key, hashes.SHA256())


def pkcs7_sign(key, cert, content=DOCUMENT, *, detached=False, encoding=serialization.Encoding.DER, **signer) -> bytes:
    options = [pkcs7.PKCS7Options.Binary]
    if detached:
        options.append(pkcs7.PKCS7Options.DetachedSignature)
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(cert, key, hashes.SHA256(), **signer)
    return builder.sign(encoding, options)


_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512, "sha1": hashes.SHA1}
DEFAULT = object()


def default_attrs(content: bytes, digest: str = "sha256", content_type: str = "data") -> list[dict]:
    return [
        {"type": "content_type", "values": [content_type]},
        {"type": "signing_time", "values": [cms.Time({"utc_time": NOW})]},
        {"type": "message_digest", "values": [hashlib.new(digest, content).digest()]},
    ]


def asn1_sign(
    key,
    cert: x509.Certificate,
    content: bytes = DOCUMENT,
    *,
    attrs: list[dict] | None | object = DEFAULT,
    digest: str = "sha256",
    signature_algorithm: str | None = None,
    sid: str = "issuer_and_serial_number",
    detached: bool = False,
    content_type: str = "data",
    carried: list[x509.Certificate] | None = None,
) -> bytes:
    """A SignedData with one signer, signed for real over what RFC 5652 §5.4 says."""
    if attrs is DEFAULT:
        attrs = default_attrs(content, digest, content_type)
    to_sign = cms.CMSAttributes(attrs).dump() if attrs is not None else content
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(to_sign, padding.PKCS1v15(), _HASHES[digest]())
        signature_algorithm = signature_algorithm or f"{digest}_rsa"
    else:
        signature = key.sign(to_sign, ec.ECDSA(_HASHES[digest]()))
        signature_algorithm = signature_algorithm or f"{digest}_ecdsa"
    asn1_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    if sid == "issuer_and_serial_number":
        identifier = cms.SignerIdentifier(
            {sid: {"issuer": asn1_cert.issuer, "serial_number": asn1_cert.serial_number}}
        )
    else:
        identifier = cms.SignerIdentifier({sid: asn1_cert.key_identifier})
    signer_info = {
        "version": "v1" if sid == "issuer_and_serial_number" else "v3",
        "sid": identifier,
        "digest_algorithm": {"algorithm": digest},
        "signature_algorithm": {"algorithm": signature_algorithm},
        "signature": signature,
    }
    if attrs is not None:
        signer_info["signed_attrs"] = attrs
    carried = [cert] if carried is None else carried
    # RFC 5652 §5.1: version 3 for a subjectKeyIdentifier sid or content other than id-data.
    v1 = sid == "issuer_and_serial_number" and content_type == "data"
    signed_data = {
        "version": "v1" if v1 else "v3",
        "digest_algorithms": [{"algorithm": digest}],
        "encap_content_info": {"content_type": content_type, "content": None if detached else content},
        "certificates": [
            asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in carried
        ],
        "signer_infos": [signer_info],
    }
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


def refused(data: bytes, match: str, **kwargs) -> CMSVerificationError:
    with pytest.raises(CMSVerificationError, match=match) as info:
        verify_signed_document(data, **kwargs)
    return info.value


# --- what a good signature gives ------------------------------------------------


def test_accepts_attached_signature_and_returns_content_and_signer(holder) -> None:
    key, cert = holder
    result = verify_signed_document(pkcs7_sign(key, cert))
    assert isinstance(result, SignedDocument)
    assert result.content == DOCUMENT
    assert result.signer == cert
    assert result.certificates == (cert,)
    assert result.digest_algorithm == "sha256"


def test_accepts_detached_signature_with_content_given(holder) -> None:
    key, cert = holder
    result = verify_signed_document(pkcs7_sign(key, cert, detached=True), detached_content=DOCUMENT)
    assert result.content == DOCUMENT
    assert result.signer == cert


def test_reports_signing_time_as_aware_utc(rsa_key, rsa_cert) -> None:
    result = verify_signed_document(asn1_sign(rsa_key, rsa_cert))
    assert result.signing_time == NOW
    assert result.signing_time.utcoffset() == dt.timedelta(0)


def test_accepts_signature_without_signed_attributes(holder) -> None:
    key, cert = holder
    result = verify_signed_document(asn1_sign(key, cert, attrs=None))
    assert result.content == DOCUMENT
    assert result.signing_time is None


def test_accepts_signature_without_signed_attributes_from_cryptography(holder) -> None:
    key, cert = holder
    options = [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.NoAttributes]
    data = pkcs7.PKCS7SignatureBuilder().set_data(DOCUMENT).add_signer(cert, key, hashes.SHA256()).sign(
        serialization.Encoding.DER, options
    )
    assert verify_signed_document(data).signer == cert


@pytest.mark.parametrize("signature_algorithm", ["rsassa_pkcs1v15", "sha256_rsa"])
def test_accepts_rsa_pkcs1_named_either_way(rsa_key, rsa_cert, signature_algorithm) -> None:
    data = asn1_sign(rsa_key, rsa_cert, signature_algorithm=signature_algorithm)
    assert verify_signed_document(data).signer == rsa_cert


@pytest.mark.parametrize("digest", ["sha384", "sha512"])
def test_accepts_longer_sha2_digests(holder, digest) -> None:
    key, cert = holder
    assert verify_signed_document(asn1_sign(key, cert, digest=digest)).digest_algorithm == digest


def test_accepts_rsa_pss(rsa_key, rsa_cert) -> None:
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
    assert verify_signed_document(pkcs7_sign(rsa_key, rsa_cert, rsa_padding=pss)).signer == rsa_cert


def test_finds_signer_by_subject_key_identifier(holder) -> None:
    key, cert = holder
    assert verify_signed_document(asn1_sign(key, cert, sid="subject_key_identifier")).signer == cert


def test_finds_signer_among_several_carried_certificates(rsa_key, rsa_cert, ec_cert) -> None:
    data = asn1_sign(rsa_key, rsa_cert, carried=[ec_cert, rsa_cert])
    result = verify_signed_document(data)
    assert result.signer == rsa_cert
    assert result.certificates == (ec_cert, rsa_cert)


# --- input encodings ---------------------------------------------------------------


def test_accepts_pem_with_pkcs7_label(ec_key, ec_cert) -> None:
    data = pkcs7_sign(ec_key, ec_cert, encoding=serialization.Encoding.PEM)
    assert data.startswith(b"-----BEGIN PKCS7-----")
    assert verify_signed_document(data).signer == ec_cert


def test_accepts_pem_with_cms_label(ec_key, ec_cert) -> None:
    der = pkcs7_sign(ec_key, ec_cert)
    body = b"\n".join(base64.encodebytes(der).splitlines())
    assert verify_signed_document(b"-----BEGIN CMS-----\n" + body + b"\n-----END CMS-----\n").signer == ec_cert


@pytest.mark.parametrize("wrap", [base64.b64encode, base64.encodebytes], ids=["one-line", "wrapped"])
def test_accepts_base64_of_der(ec_key, ec_cert, wrap) -> None:
    assert verify_signed_document(wrap(pkcs7_sign(ec_key, ec_cert))).content == DOCUMENT


def test_refuses_pem_with_another_label(ec_cert) -> None:
    refused(ec_cert.public_bytes(serialization.Encoding.PEM), "not a single CMS or PKCS7 block")


# --- what must be refused -------------------------------------------------------------


def test_refuses_tampered_attached_content(holder) -> None:
    key, cert = holder
    data = pkcs7_sign(key, cert)
    assert data.count(DOCUMENT) == 1
    refused(data.replace(DOCUMENT, OTHER_DOCUMENT), "^the signature does not match the document$")


def test_refuses_detached_signature_over_other_content(holder) -> None:
    key, cert = holder
    refused(pkcs7_sign(key, cert, detached=True), "does not match the document", detached_content=OTHER_DOCUMENT)


def test_refuses_tampered_content_without_signed_attributes(holder) -> None:
    key, cert = holder
    data = asn1_sign(key, cert, attrs=None)
    refused(data.replace(DOCUMENT, OTHER_DOCUMENT), "does not match the document")


def test_refuses_tampered_signed_attributes(holder) -> None:
    key, cert = holder
    data = asn1_sign(key, cert)
    signing_time = NOW.strftime("%y%m%d%H%M%SZ").encode()
    assert data.count(signing_time) == 1
    refused(data.replace(signing_time, b"270101000000Z"), "^the signature does not match the signed attributes$")


def test_refuses_detached_signature_without_content(rsa_key, rsa_cert) -> None:
    refused(pkcs7_sign(rsa_key, rsa_cert, detached=True), "no content was given")


def test_refuses_detached_content_for_attached_signature(rsa_key, rsa_cert) -> None:
    refused(pkcs7_sign(rsa_key, rsa_cert), "carries its own content", detached_content=DOCUMENT)


def test_refuses_when_signer_certificate_is_not_carried(rsa_key, rsa_cert, ec_cert) -> None:
    refused(asn1_sign(rsa_key, rsa_cert, carried=[ec_cert]), "signer's certificate is not among")


def test_refuses_impostor_certificate_with_signers_issuer_and_serial(rsa_key, rsa_cert) -> None:
    impostor_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    impostor = make_cert(impostor_key, "Holder RSA", serial=rsa_cert.serial_number)
    refused(asn1_sign(rsa_key, rsa_cert, carried=[impostor]), "does not match the signed attributes")


def test_refuses_carried_certificate_that_cannot_be_read(rsa_key, rsa_cert) -> None:
    data = asn1_sign(rsa_key, rsa_cert)
    version_v3 = b"\xa0\x03\x02\x01\x02"  # tbsCertificate's [0] EXPLICIT Version v3
    assert data.count(version_v3) == 1
    unreadable = data.replace(version_v3, b"\xa0\x03\x02\x01\x07")
    refused(unreadable, "certificate carried in the signature cannot be read")


def test_refuses_two_signers(rsa_key, rsa_cert, ec_key, ec_cert) -> None:
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(DOCUMENT)
        .add_signer(rsa_cert, rsa_key, hashes.SHA256())
        .add_signer(ec_cert, ec_key, hashes.SHA256())
    )
    data = builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    refused(data, "exactly one signer, not 2")


def test_refuses_unknown_signature_algorithm_naming_its_oid(rsa_key, rsa_cert) -> None:
    refused(asn1_sign(rsa_key, rsa_cert, signature_algorithm="1.2.3.4.5"), "signature algorithm 1.2.3.4.5 ")


def test_refuses_sha1_digest_naming_its_oid(rsa_key, rsa_cert) -> None:
    refused(asn1_sign(rsa_key, rsa_cert, digest="sha1", signature_algorithm="rsassa_pkcs1v15"),
            "digest algorithm 1.3.14.3.2.26 is not supported")


def test_refuses_signature_hash_other_than_digest_algorithm(rsa_key, rsa_cert) -> None:
    refused(asn1_sign(rsa_key, rsa_cert, signature_algorithm="sha384_rsa"), "does not use the digest algorithm")


def test_refuses_algorithm_that_does_not_fit_the_signers_key(rsa_key, rsa_cert) -> None:
    data = asn1_sign(rsa_key, rsa_cert, signature_algorithm="sha256_ecdsa")
    refused(data, "rsa key does not fit the ecdsa-with-SHA256 algorithm")


def test_refuses_missing_content_type_attribute(rsa_key, rsa_cert) -> None:
    attrs = [a for a in default_attrs(DOCUMENT) if a["type"] != "content_type"]
    refused(asn1_sign(rsa_key, rsa_cert, attrs=attrs), "no content-type attribute")


def test_refuses_content_type_attribute_other_than_econtent_type(rsa_key, rsa_cert) -> None:
    attrs = default_attrs(DOCUMENT, content_type="signed_data")
    refused(asn1_sign(rsa_key, rsa_cert, attrs=attrs), "content-type attribute does not match")


def test_refuses_missing_message_digest_attribute(rsa_key, rsa_cert) -> None:
    attrs = [a for a in default_attrs(DOCUMENT) if a["type"] != "message_digest"]
    refused(asn1_sign(rsa_key, rsa_cert, attrs=attrs), "no message-digest attribute")


def test_refuses_signing_certificate_attribute_naming_another_certificate(rsa_key, rsa_cert, ec_cert) -> None:
    # RFC 5035: the signer binds its certificate into the signed attributes.
    other_hash = hashlib.sha256(ec_cert.public_bytes(serialization.Encoding.DER)).digest()
    signing_certificate = tsp.SigningCertificateV2({"certs": [{"cert_hash": other_hash}]})
    attrs = [*default_attrs(DOCUMENT), {"type": "signing_certificate_v2", "values": [signing_certificate]}]
    refused(asn1_sign(rsa_key, rsa_cert, attrs=attrs), "^the signed attributes contradict the signature")


def test_refuses_non_data_content_without_signed_attributes(rsa_key, rsa_cert) -> None:
    # RFC 5652 §5.3: only id-data content may be signed without signed attributes.
    refused(asn1_sign(rsa_key, rsa_cert, attrs=None, content_type="1.2.3.4"), "must have signed attributes")


def test_refuses_cms_that_is_not_signed_data() -> None:
    data = cms.ContentInfo({"content_type": "data", "content": DOCUMENT}).dump()
    refused(data, "not a CMS SignedData")


@pytest.mark.parametrize(
    "garbage",
    [b"", b"   ", b"hello", b"\x30", b"\x30\x80" * 50_000, b"MII=", b"-----BEGIN CMS-----\n!!\n-----END CMS-----"],
    ids=["empty", "spaces", "text", "lone-tag", "deep-nesting", "short-base64", "bad-pem-body"],
)
def test_refuses_garbage_with_verification_error(garbage) -> None:
    refused(garbage, ".")


def test_refuses_truncated_signature(rsa_key, rsa_cert) -> None:
    refused(pkcs7_sign(rsa_key, rsa_cert)[:-10], "not a well-formed CMS SignedData")


def test_error_is_a_domain_error_with_a_code(rsa_key, rsa_cert) -> None:
    error = refused(pkcs7_sign(rsa_key, rsa_cert, detached=True), "no content")
    assert isinstance(error, QoltanbaError)
    assert error.code == "invalid-signature"
    assert str(error) == error.detail


# --- fuzz: whatever the bytes, only CMSVerificationError -----------------------------


def _only_verification_errors(data: bytes, detached: bytes | None = None) -> None:
    try:
        verify_signed_document(data, detached_content=detached)
    except CMSVerificationError:
        pass


_FUZZ = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@_FUZZ
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes_raise_only_verification_errors(data: bytes) -> None:
    _only_verification_errors(data)


@pytest.fixture(scope="module")
def sample_signatures(rsa_key, rsa_cert, ec_key, ec_cert) -> list[bytes]:
    return [pkcs7_sign(rsa_key, rsa_cert), pkcs7_sign(ec_key, ec_cert, detached=True),
            asn1_sign(ec_key, ec_cert, attrs=None, sid="subject_key_identifier")]


@_FUZZ
@given(data=st.data())
def test_fuzz_mutated_signatures_raise_only_verification_errors(sample_signatures, data) -> None:
    original = data.draw(st.sampled_from(sample_signatures))
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(mutated) - 1))
        mutated[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        mutated = mutated[: data.draw(st.integers(0, len(mutated)))]
    _only_verification_errors(bytes(mutated), data.draw(st.sampled_from([None, DOCUMENT])))
