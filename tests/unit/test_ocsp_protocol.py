"""RFC 6960 protocol layer: request parsing, response building and signing.

Requests come from pyca/cryptography's builder and from asn1crypto, so the
parser is checked against encoders we did not write; responses are read back
with cryptography and their signatures checked with the responder's key.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as c_ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ca import ocsp
from ca.ocsp import CertID, OCSPRequestError, issuer_hashes, parse_request
from ca.ocsp_response import ResponseSigner, SingleStatus, error_response
from keys import KeyAlgorithm, KeySigner, SoftwareKeyBackend, sign_certificate, verify_signature

MASTER = bytes(range(32))
NOW = dt.datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=dt.timezone.utc)
HASHES = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "sha384": hashes.SHA384(),
          "sha512": hashes.SHA512()}
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- a CA, a delegated responder and a leaf ------------------------------------


class PKI:
    """CA, delegated responder and leaf, valid around ``at`` (the interop tests use the real now)."""

    def __init__(self, directory: Path, at: dt.datetime = NOW) -> None:
        self.backend = SoftwareKeyBackend(directory, MASTER)
        self.ca_handle = self.backend.generate(KeyAlgorithm.EC_P256, "ca").handle
        self.responder_handle = self.backend.generate(KeyAlgorithm.EC_P256, "ocsp").handle
        ca_name = _name("Qoltanba Test CA")
        self.ca = sign_certificate(self.backend, self.ca_handle, _builder(
            ca_name, ca_name, self.backend.public_key(self.ca_handle), at)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True))
        self.responder = sign_certificate(self.backend, self.ca_handle, _builder(
            _name("Qoltanba Test OCSP"), ca_name, self.backend.public_key(self.responder_handle), at)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            # RFC 6960 §4.2.2.2: delegation by id-kp-OCSPSigning; §4.2.2.2.1 nocheck.
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
            .add_extension(x509.OCSPNoCheck(), critical=False))
        leaf_key = self.backend.public_key(self.backend.generate(KeyAlgorithm.EC_P256, "leaf").handle)
        self.leaf = sign_certificate(self.backend, self.ca_handle, _builder(
            _name("Leaf"), ca_name, leaf_key, at).add_extension(_key_usage(cert_sign=False), critical=True))

    def signer(self) -> ResponseSigner:
        return ResponseSigner(KeySigner(self.backend, self.responder_handle), self.responder)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _builder(subject: x509.Name, issuer: x509.Name, public_key: object,
             at: dt.datetime = NOW) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(at - dt.timedelta(days=1)).not_valid_after(at + dt.timedelta(days=365)))


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not cert_sign, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False,
                         decipher_only=False)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return PKI(tmp_path_factory.mktemp("ocsp-keys"))


def _c_request(pki: PKI, hash_name: str, nonce: bytes | None) -> bytes:
    builder = c_ocsp.OCSPRequestBuilder().add_certificate(pki.leaf, pki.ca, HASHES[hash_name])
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


# --- asn1crypto-built requests, for shapes cryptography cannot make ---------------


def _asn1_cert_id(hash_name: str, name_hash: bytes, key_hash: bytes, serial: int) -> dict:
    return {"hash_algorithm": {"algorithm": hash_name}, "issuer_name_hash": name_hash,
            "issuer_key_hash": key_hash, "serial_number": serial}


def _asn1_request(cert_ids: list[dict], extensions: list[bytes] | None = None, **tbs: object) -> bytes:
    """asn1crypto encodes the request; extensions are spliced in as raw DER.

    asn1crypto parses the extnValue of extensions it knows while encoding, so
    it could not build the malformed ones these tests need.
    """
    body: dict = {"request_list": [{"req_cert": c} for c in cert_ids], **tbs}
    der = asn1_ocsp.OCSPRequest({"tbs_request": body}).dump()
    if extensions is None:
        return der
    tbs_der = asn1_ocsp.OCSPRequest.load(der)["tbs_request"].contents
    tbs_der += _tlv(0xA2, _tlv(0x30, b"".join(extensions)))
    return _tlv(0x30, _tlv(0x30, tbs_der))


def _tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(octets))) + octets + content


def _extension(oid: str, content: bytes, critical: bool = False) -> bytes:
    """An extension whose extnValue content is exactly ``content``."""
    return _tlv(0x30, asn1_core.ObjectIdentifier(oid).dump() + (b"\x01\x01\xff" if critical else b"")
                + _tlv(0x04, content))


NONCE_OID = "1.3.6.1.5.5.7.48.1.2"


def _nonce_ext(value: bytes, critical: bool = False) -> bytes:
    return _extension(NONCE_OID, _tlv(0x04, value), critical)


def _leaf_cert_id(pki: PKI, hash_name: str = "sha1") -> dict:
    name_hash, key_hash = issuer_hashes(pki.ca)[hash_name]
    return _asn1_cert_id(hash_name, name_hash, key_hash, pki.leaf.serial_number)


# --- parsing ----------------------------------------------------------------------


@pytest.mark.parametrize("hash_name", list(HASHES))
@pytest.mark.parametrize("nonce", [None, bytes(range(1, 17)), bytes(range(100, 132)), b"\x00"],
                         ids=["none", "16-bytes", "32-bytes", "zero"])
def test_parses_requests_cryptography_builds(pki: PKI, hash_name: str, nonce: bytes | None) -> None:
    der = _c_request(pki, hash_name, nonce)
    parsed = parse_request(der)
    (cert_id,) = parsed.cert_ids
    assert cert_id.hash_algorithm == hash_name
    assert (cert_id.issuer_name_hash, cert_id.issuer_key_hash) == issuer_hashes(pki.ca)[hash_name]
    assert cert_id.serial == pki.leaf.serial_number
    assert cert_id.der in der and cert_id.der[0] == 0x30
    # The raw extnValue content: the DER Nonce OCTET STRING, ready to echo.
    assert parsed.nonce == (None if nonce is None else bytes((4, len(nonce))) + nonce)


def test_issuer_hashes_match_what_cryptography_computes(pki: PKI) -> None:
    for hash_name, algorithm in HASHES.items():
        request = c_ocsp.load_der_ocsp_request(_c_request(pki, hash_name, None))
        assert issuer_hashes(pki.ca)[hash_name] == (request.issuer_name_hash, request.issuer_key_hash)
        assert isinstance(request.hash_algorithm, type(algorithm))


def test_parses_several_cert_ids_in_order(pki: PKI) -> None:
    hashes_ = issuer_hashes(pki.ca)
    ids = [_asn1_cert_id(h, *hashes_[h], serial) for h, serial in
           (("sha1", 1), ("sha256", 2**159 - 1), ("sha384", 3), ("sha512", 123456789))]
    parsed = parse_request(_asn1_request(ids, [_nonce_ext(b"n" * 8)]))
    assert [c.serial for c in parsed.cert_ids] == [1, 2**159 - 1, 3, 123456789]
    assert [c.hash_algorithm for c in parsed.cert_ids] == ["sha1", "sha256", "sha384", "sha512"]
    assert [c.der for c in parsed.cert_ids] == [asn1_ocsp.CertId(i).dump() for i in ids]
    assert parsed.nonce == b"\x04\x08" + b"n" * 8


def test_accepts_up_to_the_cert_id_cap_and_refuses_more(pki: PKI) -> None:
    assert len(parse_request(_asn1_request([_leaf_cert_id(pki)] * ocsp.MAX_CERT_IDS)).cert_ids) == 20
    with pytest.raises(OCSPRequestError):
        parse_request(_asn1_request([_leaf_cert_id(pki)] * (ocsp.MAX_CERT_IDS + 1)))


def test_refuses_an_empty_request_list() -> None:
    with pytest.raises(OCSPRequestError):
        parse_request(_asn1_request([]))


@pytest.mark.parametrize("value", [b"", b"x" * 33, b"x" * 200])
def test_refuses_nonce_outside_1_to_32_octets(pki: PKI, value: bytes) -> None:
    # RFC 8954 §2.1.
    with pytest.raises(OCSPRequestError):
        parse_request(_asn1_request([_leaf_cert_id(pki)], [_nonce_ext(value)]))


def test_refuses_a_nonce_that_is_not_an_octet_string(pki: PKI) -> None:
    bare = _extension(NONCE_OID, b"\x01\x02\x03\x04")
    with pytest.raises(OCSPRequestError):
        parse_request(_asn1_request([_leaf_cert_id(pki)], [bare]))


def test_refuses_a_repeated_nonce(pki: PKI) -> None:
    with pytest.raises(OCSPRequestError):
        parse_request(_asn1_request([_leaf_cert_id(pki)], [_nonce_ext(b"a"), _nonce_ext(b"b")]))


def test_ignores_unknown_non_critical_extension_and_refuses_critical_one(pki: PKI) -> None:
    # RFC 6960 §4.4: unrecognised extensions are ignored unless critical.
    def other(critical: bool) -> dict:
        return _extension("1.2.3.4", b"\x05\x00", critical)
    parsed = parse_request(_asn1_request([_leaf_cert_id(pki)], [other(False), _nonce_ext(b"z")]))
    assert parsed.nonce == b"\x04\x01z"
    with pytest.raises(OCSPRequestError):
        parse_request(_asn1_request([_leaf_cert_id(pki)], [other(True)]))


def test_refuses_unsupported_hash_and_wrong_hash_length(pki: PKI) -> None:
    with pytest.raises(OCSPRequestError):
        parse_request(_asn1_request([_asn1_cert_id("md5", b"a" * 16, b"b" * 16, 1)]))
    with pytest.raises(OCSPRequestError):
        parse_request(_asn1_request([_asn1_cert_id("sha256", b"a" * 20, b"b" * 20, 1)]))


def test_accepts_and_ignores_a_request_signature(pki: PKI) -> None:
    # RFC 6960 §4.1.2: a responder may ignore the optional signature.
    unsigned = asn1_ocsp.OCSPRequest.load(_c_request(pki, "sha1", b"nonce"))
    signed = asn1_ocsp.OCSPRequest({
        "tbs_request": unsigned["tbs_request"],
        "optional_signature": {
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": b"\x30\x06\x02\x01\x01\x02\x01\x01",
            "certs": [asn1_x509.Certificate.load(pki.leaf.public_bytes(serialization.Encoding.DER))],
        },
    }).dump()
    assert parse_request(signed) == parse_request(unsigned.dump())
    assert ocsp._read_common(signed) == ocsp._read_asn1crypto(signed)


def test_unusual_shapes_go_to_asn1crypto_and_parse_the_same(pki: PKI) -> None:
    plain = _asn1_request([_leaf_cert_id(pki)], [_nonce_ext(b"n")])
    requestor = _asn1_request([_leaf_cert_id(pki)], [_nonce_ext(b"n")], requestor_name={
        "directory_name": asn1_x509.Name.build({"common_name": "client"})})
    with pytest.raises(ocsp._NotCommon):
        ocsp._read_common(requestor)
    assert parse_request(requestor) == parse_request(plain)


def test_refuses_critical_single_request_extension(pki: PKI) -> None:
    ext = {"extn_id": "service_locator", "critical": True, "extn_value": {
        "issuer": asn1_x509.Name.build({"common_name": "x"}), "locator": []}}
    der = asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": [
        {"req_cert": _leaf_cert_id(pki), "single_request_extensions": [ext]}]}}).dump()
    with pytest.raises(OCSPRequestError):
        parse_request(der)


@pytest.mark.parametrize("bad", [
    b"", b"\x30", b"\x30\x00", b"\x30\x80\x00\x00", b"\x04\x03abc", None, "30 00", 12345,
    b"\x30" * 100_000, b"\x30\x84\xff\xff\xff\xff",
])
def test_garbage_raises_only_request_error(bad: object) -> None:
    with pytest.raises(OCSPRequestError):
        parse_request(bad)  # type: ignore[arg-type]


def test_every_truncation_and_trailing_byte_is_refused(pki: PKI) -> None:
    der = _c_request(pki, "sha256", b"0123456789abcdef")
    for cut in range(len(der)):
        with pytest.raises(OCSPRequestError):
            parse_request(der[:cut])
    for tail in (b"\x00", b"\x30\x00", b"garbage"):
        with pytest.raises(OCSPRequestError):
            parse_request(der + tail)


def test_wrong_outer_tag_is_refused(pki: PKI) -> None:
    der = _c_request(pki, "sha1", None)
    for tag in (0x31, 0x04, 0xA0, 0x10):
        with pytest.raises(OCSPRequestError):
            parse_request(bytes((tag,)) + der[1:])


def test_huge_request_is_refused_before_parsing(pki: PKI) -> None:
    ids = [_leaf_cert_id(pki, "sha512")] * 19
    big_ext = _extension("1.2.3.4", b"\x00" * 20_000)
    with pytest.raises(OCSPRequestError, match="larger"):
        parse_request(_asn1_request(ids, [big_ext]))


def _outcome(read, der: bytes) -> object:
    try:
        return ocsp._checked(*read(der))
    except OCSPRequestError:
        return "error"


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes_raise_only_request_error(data: bytes) -> None:
    try:
        parse_request(data)
    except OCSPRequestError:
        pass


_serials = st.integers(min_value=-(2**70), max_value=2**170)
_hash_names = st.sampled_from(["sha1", "sha256", "sha384", "sha512", "md5"])


@st.composite
def _requests(draw: st.DrawFn) -> bytes:
    ids = []
    for _ in range(draw(st.integers(1, 3))):
        hash_name = draw(_hash_names)
        size = draw(st.sampled_from([16, 20, 32, 48, 64]))
        ids.append(_asn1_cert_id(hash_name, draw(st.binary(min_size=size, max_size=size)),
                                 draw(st.binary(min_size=size, max_size=size)), draw(_serials)))
    extensions = []
    if draw(st.booleans()):
        extensions.append(_nonce_ext(draw(st.binary(max_size=40)), draw(st.booleans())))
    if draw(st.booleans()):
        oid = draw(st.sampled_from(["1.2.3.4", "1.3.6.1.5.5.7.48.1.4", "1.3.6.1.5.5.7.48.1.2"]))
        extensions.append(_extension(oid, draw(st.binary(max_size=40)), draw(st.booleans())))
    return _asn1_request(ids, extensions or None)


@FUZZ
@given(_requests())
def test_fast_reader_handles_common_shape_exactly_as_asn1crypto(der: bytes) -> None:
    # Every DER request of the common shape stays on the fast path...
    fast = _outcome(ocsp._read_common, der)
    # ...and means exactly what asn1crypto says it means.
    assert fast == _outcome(ocsp._read_asn1crypto, der)


@FUZZ
@given(_requests(), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
       st.integers(0, 3))
def test_fuzz_mutated_requests_agree_whenever_fast_reader_accepts(
        der: bytes, edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(der)
    for where, value in edits:
        data[where % len(data)] = value
    data = bytes(data[:len(data) - cut])
    try:
        fast = _outcome(ocsp._read_common, data)
    except ocsp._NotCommon:
        fast = None  # declined: asn1crypto alone decides
    slow = _outcome(ocsp._read_asn1crypto, data)
    if fast is not None:
        assert fast == slow
    try:
        parse_request(data)
    except OCSPRequestError:
        pass


# --- responses ----------------------------------------------------------------------


def _cert_id(pki: PKI, hash_name: str = "sha1", serial: int | None = None) -> CertID:
    request = _c_request(pki, hash_name, None)
    cert_id = parse_request(request).cert_ids[0]
    if serial is None:
        return cert_id
    return parse_request(_asn1_request([_asn1_cert_id(
        hash_name, cert_id.issuer_name_hash, cert_id.issuer_key_hash, serial)])).cert_ids[0]


def _load_verified(pki: PKI, der: bytes) -> c_ocsp.OCSPResponse:
    response = c_ocsp.load_der_ocsp_response(der)
    assert response.response_status is c_ocsp.OCSPResponseStatus.SUCCESSFUL
    assert verify_signature(pki.responder.public_key(), response.signature,
                            response.tbs_response_bytes, response.signature_hash_algorithm.name)
    return response


def _sign(pki: PKI, *statuses: SingleStatus, nonce: bytes | None = None,
          next_update: dt.datetime | None = NOW + dt.timedelta(days=1)) -> bytes:
    return pki.signer().sign(statuses, produced_at=NOW, this_update=NOW,
                             next_update=next_update, nonce=nonce)


def test_good_response_is_signed_by_responder_and_names_it_by_key(pki: PKI) -> None:
    cert_id = _cert_id(pki)
    response = _load_verified(pki, _sign(pki, SingleStatus(cert_id, "good")))
    assert response.certificate_status is c_ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == pki.leaf.serial_number
    assert isinstance(response.hash_algorithm, hashes.SHA1)
    assert (response.issuer_name_hash, response.issuer_key_hash) == issuer_hashes(pki.ca)["sha1"]
    key_id = x509.SubjectKeyIdentifier.from_public_key(pki.responder.public_key()).digest
    assert response.responder_key_hash == key_id and response.responder_name is None
    assert response.certificates == [pki.responder]
    assert len(response.extensions) == 0


def test_times_are_whole_second_utc_generalized_time(pki: PKI) -> None:
    # RFC 5280 §4.1.2.5.2 via RFC 6960 §4.2.2.1: "YYYYMMDDHHMMSSZ", no fraction.
    almaty = dt.timezone(dt.timedelta(hours=5))
    der = pki.signer().sign([SingleStatus(_cert_id(pki), "good")], produced_at=NOW.astimezone(almaty),
                            this_update=NOW, next_update=NOW + dt.timedelta(hours=12))
    assert der.count(b"\x18\x0f20250314092653Z") == 2 and b"\x18\x0f20250314212653Z" in der
    response = _load_verified(pki, der)
    assert response.produced_at_utc == NOW.replace(microsecond=0)
    assert response.next_update_utc == NOW.replace(microsecond=0) + dt.timedelta(hours=12)


def test_next_update_may_be_absent(pki: PKI) -> None:
    response = _load_verified(pki, _sign(pki, SingleStatus(_cert_id(pki), "good"), next_update=None))
    assert response.next_update_utc is None


def test_revoked_response_carries_time_and_reason(pki: PKI) -> None:
    revoked_at = NOW - dt.timedelta(hours=3)
    status = SingleStatus(_cert_id(pki, "sha256"), "revoked", revoked_at=revoked_at, reason_code=1)
    response = _load_verified(pki, _sign(pki, status))
    assert response.certificate_status is c_ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == revoked_at.replace(microsecond=0)
    assert response.revocation_reason is x509.ReasonFlags.key_compromise


@pytest.mark.parametrize("reason_code", [None, 0])
def test_revoked_without_or_with_unspecified_reason_omits_it(pki: PKI, reason_code: int | None) -> None:
    status = SingleStatus(_cert_id(pki), "revoked", revoked_at=NOW, reason_code=reason_code)
    response = _load_verified(pki, _sign(pki, status))
    assert response.certificate_status is c_ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason is None


def test_unknown_response(pki: PKI) -> None:
    response = _load_verified(pki, _sign(pki, SingleStatus(_cert_id(pki, serial=42), "unknown")))
    assert response.certificate_status is c_ocsp.OCSPCertStatus.UNKNOWN
    assert response.serial_number == 42


def test_nonce_is_echoed(pki: PKI) -> None:
    value = os.urandom(32)
    parsed = parse_request(_c_request(pki, "sha1", value))
    response = _load_verified(pki, _sign(pki, SingleStatus(parsed.cert_ids[0], "good"), nonce=parsed.nonce))
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == value


def test_refuses_to_echo_a_nonce_parse_request_would_not_return(pki: PKI) -> None:
    with pytest.raises(ValueError):
        _sign(pki, SingleStatus(_cert_id(pki), "good"), nonce=b"raw-not-an-octet-string")


def test_several_statuses_keep_order_and_cert_id_bytes(pki: PKI) -> None:
    ids = [_cert_id(pki, "sha256", serial) for serial in (7, 8, 9)]
    der = _sign(pki, SingleStatus(ids[0], "good"),
                SingleStatus(ids[1], "revoked", revoked_at=NOW, reason_code=4),
                SingleStatus(ids[2], "unknown"))
    response = _load_verified(pki, der)
    singles = list(response.responses)
    assert [s.serial_number for s in singles] == [7, 8, 9]
    assert [s.certificate_status for s in singles] == [
        c_ocsp.OCSPCertStatus.GOOD, c_ocsp.OCSPCertStatus.REVOKED, c_ocsp.OCSPCertStatus.UNKNOWN]
    assert singles[1].revocation_reason is x509.ReasonFlags.superseded
    basic = asn1_ocsp.OCSPResponse.load(der).basic_ocsp_response
    assert [r["cert_id"].dump() for r in basic["tbs_response_data"]["responses"]] == [i.der for i in ids]


def test_ca_key_can_sign_its_own_responses(pki: PKI) -> None:
    signer = ResponseSigner(KeySigner(pki.backend, pki.ca_handle), pki.ca, "sha384")
    der = signer.sign([SingleStatus(_cert_id(pki), "good")], produced_at=NOW, this_update=NOW,
                      next_update=None)
    response = c_ocsp.load_der_ocsp_response(der)
    assert isinstance(response.signature_hash_algorithm, hashes.SHA384)
    assert verify_signature(pki.ca.public_key(), response.signature, response.tbs_response_bytes, "sha384")


def test_signer_refuses_a_certificate_for_another_key(pki: PKI) -> None:
    with pytest.raises(ValueError):
        ResponseSigner(KeySigner(pki.backend, pki.responder_handle), pki.ca)


@pytest.mark.parametrize("kwargs", [
    {"status": "fine"},
    {"status": "revoked"},
    {"status": "revoked", "revoked_at": NOW, "reason_code": 7},
    {"status": "revoked", "revoked_at": NOW, "reason_code": 8},
    {"status": "revoked", "revoked_at": NOW.replace(tzinfo=None)},
    {"status": "good", "revoked_at": NOW},
    {"status": "unknown", "reason_code": 1},
])
def test_single_status_refuses_inconsistent_fields(pki: PKI, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        SingleStatus(_cert_id(pki), **kwargs)


def test_sign_refuses_naive_times_and_next_update_before_this_update(pki: PKI) -> None:
    status = SingleStatus(_cert_id(pki), "good")
    with pytest.raises(ValueError):
        pki.signer().sign([status], produced_at=NOW.replace(tzinfo=None), this_update=NOW, next_update=None)
    with pytest.raises(ValueError):
        pki.signer().sign([status], produced_at=NOW, this_update=NOW,
                          next_update=NOW - dt.timedelta(seconds=1))
    with pytest.raises(ValueError):
        pki.signer().sign([], produced_at=NOW, this_update=NOW, next_update=None)


@pytest.mark.parametrize("name,status", [
    ("malformedRequest", c_ocsp.OCSPResponseStatus.MALFORMED_REQUEST),
    ("internalError", c_ocsp.OCSPResponseStatus.INTERNAL_ERROR),
    ("tryLater", c_ocsp.OCSPResponseStatus.TRY_LATER),
    ("sigRequired", c_ocsp.OCSPResponseStatus.SIG_REQUIRED),
    ("unauthorized", c_ocsp.OCSPResponseStatus.UNAUTHORIZED),
])
def test_error_responses_carry_only_their_status(name: str, status: c_ocsp.OCSPResponseStatus) -> None:
    der = error_response(name)
    assert c_ocsp.load_der_ocsp_response(der).response_status is status
    assert asn1_ocsp.OCSPResponse.load(der)["response_bytes"].native is None
    assert error_response(name) is der  # precomputed once


def test_error_response_refuses_successful_and_unknown_names() -> None:
    for name in ("successful", "nonsense"):
        with pytest.raises(ValueError):
            error_response(name)


def test_digest_algorithm_identifiers_parse_with_or_without_null(pki: PKI) -> None:
    # RFC 5754 §2: SHA-2 AlgorithmIdentifiers may omit or carry NULL parameters.
    name_hash, key_hash = issuer_hashes(pki.ca)["sha256"]
    with_null = _asn1_cert_id("sha256", name_hash, key_hash, 5)
    with_null["hash_algorithm"] = asn1_algos.DigestAlgorithm(
        {"algorithm": "sha256", "parameters": asn1_core.Null()})
    assert parse_request(_asn1_request([with_null])).cert_ids[0].serial == 5
