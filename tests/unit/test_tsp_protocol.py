"""RFC 3161 protocol layer and TSA policy: reading queries, refusals, tokens and their signatures.

Queries are written with asn1crypto, an encoder we did not write; tokens are
read back with asn1crypto and their signatures checked with the TSA's
public key. No database: the serial number and the time are given.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from asn1crypto import parser as asn1_parser
from asn1crypto import tsp as asn1_tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ca.tsa import TSAPolicy
from ca.tsp import (
    FAIL_INFO_BITS,
    TimeStampQuery,
    TimeStampRefused,
    TokenSigner,
    accuracy_fields,
    granted,
    local_query,
    parse_query,
    read_response,
    rejection,
    tst_info,
)
from keys import KeyAlgorithm, KeySigner, SoftwareKeyBackend, sign_certificate, verify_signature

MASTER = bytes(range(32))
NOW = dt.datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=dt.timezone.utc)
DIGEST = hashlib.sha256(b"contract").digest()
KZ3_TSA = "1.2.398.3.3.2.6.1"
ASN1CRYPTO_FAIL_INFO = {
    "badAlg": "bad_alg", "badRequest": "bad_request", "badDataFormat": "bad_data_format",
    "timeNotAvailable": "time_not_available", "unacceptedPolicy": "unaccepted_policy",
    "unacceptedExtension": "unaccepted_extensions", "addInfoNotAvailable": "add_info_not_available",
    "systemFailure": "system_failure",
}


def query(digest: bytes = DIGEST, hash_name: str = "sha256", **fields: object) -> bytes:
    return asn1_tsp.TimeStampReq({
        "version": fields.pop("version", 1),
        "message_imprint": {"hash_algorithm": {"algorithm": hash_name}, "hashed_message": digest},
        **fields,
    }).dump()


# --- reading queries --------------------------------------------------------------


def test_reads_nonce_policy_and_cert_req():
    parsed = parse_query(query(nonce=2**100 + 7, req_policy=KZ3_TSA, cert_req=True))
    assert (parsed.hash_algorithm, parsed.digest, parsed.nonce, parsed.policy, parsed.cert_req,
            parsed.extensions) == ("sha256", DIGEST, 2**100 + 7, KZ3_TSA, True, ())


def test_message_imprint_is_kept_as_sent():
    der = query()
    assert parse_query(der).imprint_der == asn1_tsp.TimeStampReq.load(der)["message_imprint"].dump()


def test_extensions_are_reported_by_oid():
    der = query(extensions=[{"extn_id": "1.2.3.4", "critical": False, "extn_value": b"\x05\x00"}])
    assert parse_query(der).extensions == ("1.2.3.4",)


@pytest.mark.parametrize("der", [
    b"", b"garbage", b"\x30", b"\x30\x00", b"\x02\x01\x01", query()[:-3], query() + b"\x00",
    query(version=2), query(version=0),
], ids=["empty", "garbage", "lone-tag", "empty-sequence", "integer", "truncated", "trailing-byte",
        "version-2", "version-0"])
def test_malformed_or_unknown_version_is_bad_data_format(der):
    with pytest.raises(TimeStampRefused) as refused:
        parse_query(der)
    assert refused.value.fail_info == "badDataFormat"


def test_a_query_that_is_not_der_is_bad_data_format():
    """RFC 3161 §3.4: the body is the DER TimeStampReq; an explicit DEFAULT is BER only."""
    der = query(cert_req=True)
    assert der.endswith(b"\x01\x01\xff")
    not_der = der[:-3] + b"\x01\x01\x00"
    with pytest.raises(TimeStampRefused) as refused:
        parse_query(not_der)
    assert refused.value.fail_info == "badDataFormat"
    indefinite = b"\x30\x80" + der[2:] + b"\x00\x00"
    with pytest.raises(TimeStampRefused):
        parse_query(indefinite)


def test_hash_parameters_other_than_null_are_bad_alg():
    """RFC 5754 §2: SHA-2 identifiers carry no parameters (NULL is tolerated)."""
    oid = asn1_algos.DigestAlgorithmId("sha256").dump()
    algorithm = _der(0x30, oid + b"\x02\x01\x01")  # parameters: INTEGER 1
    imprint = _der(0x30, algorithm + _der(0x04, DIGEST))
    with pytest.raises(TimeStampRefused) as refused:
        parse_query(_der(0x30, b"\x02\x01\x01" + imprint))
    assert refused.value.fail_info == "badAlg"
    assert parse_query(_der(0x30, b"\x02\x01\x01" + _der(0x30, _der(0x30, oid) + _der(0x04, DIGEST)))).digest == DIGEST


def _der(tag: int, content: bytes) -> bytes:
    assert len(content) < 0x80
    return bytes((tag, len(content))) + content


def test_non_bytes_query_is_bad_data_format():
    with pytest.raises(TimeStampRefused):
        parse_query("not bytes")  # type: ignore[arg-type]


def test_local_query_refuses_an_unknown_hash_name_as_bad_alg():
    with pytest.raises(TimeStampRefused) as refused:
        local_query(DIGEST, "whirlpool")
    assert refused.value.fail_info == "badAlg"
    assert local_query(DIGEST, "SHA-256").hash_algorithm == "sha256"


# --- the policy ------------------------------------------------------------------


def test_policy_defaults_are_KZ3_tsa_policy_sha2_and_one_second():
    policy = TSAPolicy()
    assert policy.policy_oid == KZ3_TSA
    assert policy.hash_algorithms == {"sha256", "sha384", "sha512"}
    assert policy.accuracy == dt.timedelta(seconds=1)


@pytest.mark.parametrize("kwargs", [
    {"hash_algorithms": frozenset({"sha256", "sha1"})}, {"hash_algorithms": frozenset({"md5"})},
    {"hash_algorithms": frozenset()}, {"accuracy": dt.timedelta(0)}, {"accuracy": dt.timedelta(minutes=2)},
    {"policy_oid": "not an oid"},
], ids=["sha1", "md5", "no-hash", "zero-accuracy", "accuracy-too-large", "bad-oid"])
def test_a_bad_policy_fails_when_built(kwargs):
    with pytest.raises(ValueError):
        TSAPolicy(**kwargs)


@pytest.mark.parametrize("parsed, fail_info", [
    (local_query(hashlib.sha1(b"x").digest(), "sha1"), "badAlg"),
    (local_query(hashlib.md5(b"x").digest(), "md5"), "badAlg"),
    (local_query(DIGEST[:20], "sha256"), "badAlg"),
    (local_query(DIGEST, "sha384"), "badAlg"),
    (TimeStampQuery("1.2.3.4", DIGEST, b""), "badAlg"),
    (TimeStampQuery("sha256", DIGEST, b"", policy="1.2.3.4"), "unacceptedPolicy"),
    (TimeStampQuery("sha256", DIGEST, b"", extensions=("1.2.3.4",)), "unacceptedExtension"),
], ids=["sha1", "md5", "short-imprint", "imprint-length-of-another-hash", "unknown-oid", "other-policy",
        "extension"])
def test_policy_refuses_with_the_rfc3161_fail_info(parsed, fail_info):
    with pytest.raises(TimeStampRefused) as refused:
        TSAPolicy().check(parsed)
    assert refused.value.fail_info == fail_info


def test_policy_grants_our_policy_named_or_not():
    TSAPolicy().check(local_query(DIGEST, "sha256"))
    TSAPolicy().check(TimeStampQuery("sha512", hashlib.sha512().digest(), b"", policy=KZ3_TSA))


@pytest.mark.parametrize("accuracy, expected", [
    (dt.timedelta(seconds=1), NOW.replace(microsecond=0)),
    (dt.timedelta(milliseconds=10), NOW.replace(microsecond=589000)),
    (dt.timedelta(microseconds=500), NOW),
])
def test_gen_time_is_cut_to_the_precision_the_accuracy_claims(accuracy, expected):
    assert TSAPolicy(accuracy=accuracy).gen_time(NOW.astimezone(dt.timezone(dt.timedelta(hours=5)))) == expected


def test_accuracy_fields_leave_out_zero_parts():
    assert accuracy_fields(dt.timedelta(seconds=1)) == {"seconds": 1}
    assert accuracy_fields(dt.timedelta(milliseconds=1500)) == {"seconds": 1, "millis": 500}
    assert accuracy_fields(dt.timedelta(microseconds=250)) == {"micros": 250}


# --- responses -------------------------------------------------------------------


@pytest.mark.parametrize("fail_info", sorted(FAIL_INFO_BITS))
def test_rejection_carries_one_der_fail_info_bit(fail_info):
    der = rejection(fail_info, "why")
    assert der.endswith(asn1_tsp.PKIFailureInfo({ASN1CRYPTO_FAIL_INFO[fail_info]}).dump())
    reply = read_response(der)
    assert (reply.status, reply.fail_info, reply.texts, reply.token, reply.granted) == (
        "rejection", {fail_info}, ("why",), None, False)


def test_read_response_refuses_garbage():
    with pytest.raises(ValueError):
        read_response(b"\x30\x03\x02\x01\x09")


# --- tokens ------------------------------------------------------------------------


def _tsa_certificate(backend: SoftwareKeyBackend, handle: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(backend.public_key(handle)).serial_number(4242)
               .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=1))
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True))
    return sign_certificate(backend, handle, builder)


@pytest.fixture(scope="module")
def backend(tmp_path_factory) -> SoftwareKeyBackend:
    return SoftwareKeyBackend(tmp_path_factory.mktemp("tsp-keys"), MASTER)


def _token(signer: TokenSigner, *, include_certificate: bool = True, nonce: int | None = 99) -> bytes:
    parsed = parse_query(query(nonce=nonce)) if nonce is not None else parse_query(query())
    info = tst_info(policy=KZ3_TSA, query=parsed, serial=17, gen_time=NOW, accuracy=dt.timedelta(seconds=1),
                    tsa_name=signer.tsa_name)
    return signer.sign(info, include_certificate=include_certificate)


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.EC_P256, KeyAlgorithm.EC_P384, KeyAlgorithm.RSA_2048])
def test_token_signature_verifies_with_the_tsa_key(backend, algorithm):
    handle = backend.generate(algorithm, f"tsa-{algorithm.value}").handle
    certificate = _tsa_certificate(backend, handle)
    token = asn1_cms.ContentInfo.load(_token(TokenSigner(KeySigner(backend, handle), certificate)))
    signed_data = token["content"]
    signer_info = signed_data["signer_infos"][0]
    attributes = {a["type"].native: a["values"][0] for a in signer_info["signed_attrs"]}
    encapsulated = signed_data["encap_content_info"]
    assert (signed_data["version"].native, encapsulated["content_type"].native) == ("v3", "tst_info")
    hash_name = algorithm.default_hash
    assert signer_info["digest_algorithm"]["algorithm"].native == hash_name
    assert attributes["content_type"].native == "tst_info"
    assert attributes["message_digest"].native == hashlib.new(hash_name, encapsulated["content"].contents).digest()
    signed = b"\x31" + signer_info["signed_attrs"].dump()[1:]
    assert verify_signature(certificate.public_key(), signer_info["signature"].native, signed, hash_name)


def test_ess_cert_id_v2_is_sha256_of_the_certificate_with_issuer_and_serial(backend):
    """RFC 5816 §2.2.1."""
    handle = backend.generate(KeyAlgorithm.EC_P256, "tsa-ess").handle
    certificate = _tsa_certificate(backend, handle)
    signer_info = asn1_cms.ContentInfo.load(_token(TokenSigner(KeySigner(backend, handle), certificate)))[
        "content"]["signer_infos"][0]
    attribute = next(a for a in signer_info["signed_attrs"] if a["type"].native == "signing_certificate_v2")
    cert_id = attribute["values"][0]["certs"][0]
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert cert_id["hash_algorithm"]["algorithm"].native == "sha256"
    assert cert_id["cert_hash"].native == hashlib.sha256(der).digest()
    assert cert_id["issuer_serial"]["serial_number"].native == certificate.serial_number == 4242
    assert signer_info["sid"].chosen["serial_number"].native == 4242


def test_tst_info_fields(backend):
    handle = backend.generate(KeyAlgorithm.EC_P256, "tsa-fields").handle
    signer = TokenSigner(KeySigner(backend, handle), _tsa_certificate(backend, handle))
    info = asn1_cms.ContentInfo.load(_token(signer))["content"]["encap_content_info"]["content"].parsed
    assert info["version"].native == "v1" and info["policy"].dotted == KZ3_TSA
    assert info["serial_number"].native == 17 and info["nonce"].native == 99
    assert info["gen_time"].native == NOW and info["accuracy"].native["seconds"] == 1
    # ordering DEFAULT FALSE: DER leaves it out, so no BOOLEAN among TSTInfo's fields.
    assert info["ordering"].native is False and 0x01 not in _child_tags(info.dump())
    assert info["tsa"].chosen.native["common_name"] == "Test TSA"
    assert info["message_imprint"]["hashed_message"].native == DIGEST


def _child_tags(der: bytes) -> list[int]:
    _cls, _method, _tag, _header, contents, _trailer = asn1_parser.parse(der)
    tags, pointer = [], 0
    while pointer < len(contents):
        child, pointer = asn1_parser._parse(contents, len(contents), pointer)
        tags.append(child[2])
    return tags


def test_certificates_only_when_asked(backend):
    handle = backend.generate(KeyAlgorithm.EC_P256, "tsa-certreq").handle
    signer = TokenSigner(KeySigner(backend, handle), _tsa_certificate(backend, handle))
    with_cert = asn1_cms.ContentInfo.load(_token(signer, include_certificate=True))["content"]
    without = asn1_cms.ContentInfo.load(_token(signer, include_certificate=False))["content"]
    assert len(with_cert["certificates"]) == 1
    assert isinstance(without["certificates"], asn1_core.Void) or len(without["certificates"]) == 0


def test_granted_response_reads_back_with_the_token(backend):
    handle = backend.generate(KeyAlgorithm.EC_P256, "tsa-granted").handle
    token = _token(TokenSigner(KeySigner(backend, handle), _tsa_certificate(backend, handle)))
    reply = read_response(granted(token))
    assert reply.granted and reply.token == token and reply.fail_info == frozenset()
    assert asn1_tsp.TimeStampResp.load(granted(token))["status"]["status"].native == "granted"


def test_signer_refuses_a_certificate_for_another_key(backend):
    handle = backend.generate(KeyAlgorithm.EC_P256, "tsa-mine").handle
    other = backend.generate(KeyAlgorithm.EC_P256, "tsa-other").handle
    with pytest.raises(ValueError, match="does not hold"):
        TokenSigner(KeySigner(backend, handle), _tsa_certificate(backend, other))
