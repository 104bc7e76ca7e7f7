"""RFC 6960 OCSP, the protocol layer: parse requests, match a CertID to a CA (responses: ca/ocsp_response.py).

No I/O and no registry here: the responder service decides each status and
caches what this module produces. Two things are tuned for the responder's
hot path (thousands of requests a second from a cache of pre-signed answers):

* ``parse_request`` walks the usual request shape (what ``openssl ocsp`` and
  browsers send) with a small strict DER reader, about ten times cheaper than
  asn1crypto; anything else goes to asn1crypto, and both paths feed the same
  checks, so they cannot disagree about what is acceptable.
* Responses are assembled by hand from pieces fixed at construction
  (ResponderID, certs, signature algorithm): per response only the times,
  the SingleResponses and the nonce are encoded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from asn1crypto import core as asn1_core
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization


MAX_CERT_IDS = 20
# A request with MAX_CERT_IDS CertIDs and a signature carrying a certificate
# chain stays far below this; anything larger is refused before parsing.
MAX_REQUEST_BYTES = 16 * 1024
# RFC 8954 §2.1: Nonce ::= OCTET STRING (SIZE(1..32)).
MIN_NONCE_OCTETS, MAX_NONCE_OCTETS = 1, 32

_HASH_OIDS = {  # OID content octets -> hash name
    bytes.fromhex("2b0e03021a"): "sha1",
    bytes.fromhex("608648016503040201"): "sha256",
    bytes.fromhex("608648016503040202"): "sha384",
    bytes.fromhex("608648016503040203"): "sha512",
}
_HASH_SIZES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}
NONCE_OID = bytes.fromhex("2b0601050507300102")  # id-pkix-ocsp-nonce, RFC 6960 §4.4.1
BASIC_OID = bytes.fromhex("2b0601050507300101")  # id-pkix-ocsp-basic, RFC 6960 §4.2.1


class OCSPRequestError(Exception):
    """A request we cannot or will not parse; the caller answers malformedRequest."""


@dataclass(frozen=True)
class CertID:
    hash_algorithm: str
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    serial: int
    der: bytes  # echoed verbatim: RFC 6960 §4.2.1 clients compare the CertID they sent


@dataclass(frozen=True)
class ParsedRequest:
    cert_ids: tuple[CertID, ...]
    # The extnValue content of id-pkix-ocsp-nonce, i.e. the DER Nonce OCTET
    # STRING itself (04 len value): what ResponseSigner.sign echoes verbatim.
    nonce: bytes | None


# --- DER primitives ------------------------------------------------------------


class _NotCommon(Exception):
    """The fast reader met something outside the shape it handles."""


def _tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``pos``.

    Only low tag numbers and definite, minimally encoded lengths (X.690
    §10.1); anything else is left to asn1crypto.
    """
    if end - pos < 2:
        raise _NotCommon
    tag, first = buf[pos], buf[pos + 1]
    if tag & 0x1F == 0x1F:
        raise _NotCommon
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 3 or end - pos < count or buf[pos] == 0:
            raise _NotCommon
        length = int.from_bytes(buf[pos:pos + count], "big")
        if length < 0x80:
            raise _NotCommon
        pos += count
    if end - pos < length:
        raise _NotCommon
    return tag, pos, pos + length


def _expect(buf: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    got, start, stop = _tlv(buf, pos, end)
    if got != tag:
        raise _NotCommon
    return start, stop


# --- request parsing -------------------------------------------------------------

# Shapes both readers produce, so that one function checks them all:
# (hash OID content, parameters DER, name hash, key hash, serial, CertID DER)
_RawCertID = tuple[bytes, bytes, bytes, bytes, int, bytes]
_RawExtension = tuple[bytes, bool, bytes]  # (OID content, critical, extnValue content)


def parse_request(der: bytes) -> ParsedRequest:
    """Parse a DER OCSPRequest; raises only OCSPRequestError, whatever ``der`` is.

    The optional signature is ignored: RFC 6960 §4.1.2 lets a responder that
    does not require signed requests do so.
    """
    try:
        if not isinstance(der, (bytes, bytearray, memoryview)):
            raise OCSPRequestError("an OCSP request is bytes")
        der = bytes(der)
        if not der:
            raise OCSPRequestError("empty request")
        if len(der) > MAX_REQUEST_BYTES:
            raise OCSPRequestError(f"request larger than {MAX_REQUEST_BYTES} bytes")
        try:
            cert_ids, extensions = _read_common(der)
        except _NotCommon:
            cert_ids, extensions = _read_asn1crypto(der)
        return _checked(cert_ids, extensions)
    except OCSPRequestError:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract: malformed input never escapes as anything else
        raise OCSPRequestError(f"unparseable request: {type(exc).__name__}") from None


def _read_common(der: bytes) -> tuple[list[_RawCertID], list[_RawExtension]]:
    """Strict DER walk of OCSPRequest → TBSRequest → requestList → Request → CertID.

    Handles requests without version, requestorName or singleRequestExtensions
    (DER omits the DEFAULT version, and clients rarely send the others);
    raises _NotCommon for anything else.
    """
    start, end = _expect(der, 0, len(der), 0x30)
    if end != len(der):
        raise _NotCommon
    tbs_start, tbs_end = _expect(der, start, end, 0x30)
    if tbs_end != end:
        # RFC 6960 §4.1.1 optionalSignature [0] EXPLICIT Signature.
        sig_start, sig_end = _expect(der, tbs_end, end, 0xA0)
        if sig_end != end or _expect(der, sig_start, sig_end, 0x30)[1] != sig_end:
            raise _NotCommon
    list_start, list_end = _expect(der, tbs_start, tbs_end, 0x30)
    cert_ids = []
    pos = list_start
    while pos < list_end:
        req_start, req_end = _expect(der, pos, list_end, 0x30)
        cid_start, cid_end = _expect(der, req_start, req_end, 0x30)
        if cid_end != req_end:  # singleRequestExtensions: left to asn1crypto
            raise _NotCommon
        cert_ids.append(_read_cert_id(der, req_start, cid_start, cid_end))
        if len(cert_ids) > MAX_CERT_IDS:
            raise OCSPRequestError(f"more than {MAX_CERT_IDS} CertIDs")
        pos = req_end
    extensions: list[_RawExtension] = []
    if list_end != tbs_end:
        ext_start, ext_end = _expect(der, list_end, tbs_end, 0xA2)
        if ext_end != tbs_end:
            raise _NotCommon
        extensions = _read_extensions(der, ext_start, ext_end)
    return cert_ids, extensions


def _minimal_integer(contents: bytes) -> bool:
    """X.690 §8.3.2: no empty INTEGER and no redundant leading octet."""
    return bool(contents) and not (len(contents) > 1 and (contents[0], contents[1] & 0x80) in ((0, 0), (0xFF, 0x80)))


def _read_cert_id(der: bytes, outer: int, start: int, end: int) -> _RawCertID:
    alg_start, alg_end = _expect(der, start, end, 0x30)
    oid_start, oid_end = _expect(der, alg_start, alg_end, 0x06)
    params = der[oid_end:alg_end]
    if params not in (b"", b"\x05\x00"):
        raise _NotCommon
    name_start, name_end = _expect(der, alg_end, end, 0x04)
    key_start, key_end = _expect(der, name_end, end, 0x04)
    serial_start, serial_end = _expect(der, key_end, end, 0x02)
    serial = der[serial_start:serial_end]
    if serial_end != end or not _minimal_integer(serial):
        raise _NotCommon
    return (der[oid_start:oid_end], params, der[name_start:name_end], der[key_start:key_end],
            int.from_bytes(serial, "big", signed=True), der[outer:end])


def _read_extensions(der: bytes, start: int, end: int) -> list[_RawExtension]:
    seq_start, seq_end = _expect(der, start, end, 0x30)
    if seq_end != end or seq_start == seq_end:
        raise _NotCommon
    extensions = []
    pos = seq_start
    while pos < seq_end:
        ext_start, ext_end = _expect(der, pos, seq_end, 0x30)
        oid_start, oid_end = _expect(der, ext_start, ext_end, 0x06)
        critical = False
        tag, value_start, value_end = _tlv(der, oid_end, ext_end)
        if tag == 0x01:
            # DER: a DEFAULT FALSE BOOLEAN is either absent or TRUE (0xFF).
            if der[value_start:value_end] != b"\xff":
                raise _NotCommon
            critical = True
            value_start, value_end = _expect(der, value_end, ext_end, 0x04)
        elif tag != 0x04:
            raise _NotCommon
        if value_end != ext_end:
            raise _NotCommon
        extensions.append((der[oid_start:oid_end], critical, der[value_start:value_end]))
        pos = ext_end
    return extensions


class OpaqueExtension(asn1_core.Sequence):
    # asn1crypto's own extension classes parse known extnValues eagerly, which
    # would refuse a malformed non-critical extension RFC 6960 §4.4 says to
    # ignore; this one leaves every extnValue as opaque octets.
    _fields = [
        ("extn_id", asn1_core.ObjectIdentifier),
        ("critical", asn1_core.Boolean, {"default": False}),
        ("extn_value", asn1_core.OctetString),
    ]


class OpaqueExtensions(asn1_core.SequenceOf):
    _child_spec = OpaqueExtension


class _Request(asn1_core.Sequence):
    _fields = [
        ("req_cert", asn1_ocsp.CertId),
        ("single_request_extensions", OpaqueExtensions, {"explicit": 0, "optional": True}),
    ]


class _Requests(asn1_core.SequenceOf):
    _child_spec = _Request


class _TBSRequest(asn1_core.Sequence):
    _fields = [
        ("version", asn1_ocsp.Version, {"explicit": 0, "default": "v1"}),
        ("requestor_name", asn1_x509.GeneralName, {"explicit": 1, "optional": True}),
        ("request_list", _Requests),
        ("request_extensions", OpaqueExtensions, {"explicit": 2, "optional": True}),
    ]


class _OCSPRequest(asn1_core.Sequence):
    # RFC 6960 §4.1.2: the signature is ignored, so it is not even decoded.
    _fields = [
        ("tbs_request", _TBSRequest),
        ("optional_signature", asn1_core.Any, {"explicit": 0, "optional": True}),
    ]


def _read_asn1crypto(der: bytes) -> tuple[list[_RawCertID], list[_RawExtension]]:
    """Everything the fast reader declines: version, requestorName, BER quirks."""
    try:
        request = _OCSPRequest.load(der, strict=True)
        tbs = request["tbs_request"]
        if tbs["version"].native != "v1":
            raise OCSPRequestError("unsupported request version")
        cert_ids = []
        for one in tbs["request_list"]:
            if len(cert_ids) >= MAX_CERT_IDS:
                raise OCSPRequestError(f"more than {MAX_CERT_IDS} CertIDs")
            _check_single_extensions(one["single_request_extensions"])
            cid = one["req_cert"]
            if not _minimal_integer(cid["serial_number"].contents):
                # The CertID goes back in the answer as it came: a BER-only INTEGER there would make an
                # answer strict DER readers refuse (found by tests/integration/test_fuzz_parsers.py).
                raise OCSPRequestError("the CertID's serialNumber is not a DER INTEGER")
            algorithm = cid["hash_algorithm"]
            cert_ids.append((algorithm["algorithm"].contents, algorithm["parameters"].dump(),
                             cid["issuer_name_hash"].native, cid["issuer_key_hash"].native,
                             cid["serial_number"].native, cid.dump()))
        extensions = [(e["extn_id"].contents, bool(e["critical"].native), e["extn_value"].contents)
                      for e in tbs["request_extensions"]]
        tbs["requestor_name"].native  # noqa: B018 - parse it, so garbage there is refused
    except OCSPRequestError:
        raise
    except Exception as exc:  # noqa: BLE001 - asn1crypto raises a variety of types
        raise OCSPRequestError(f"malformed request: {exc}") from None
    return cert_ids, extensions


def _check_single_extensions(extensions: OpaqueExtensions) -> None:
    # RFC 6960 §4.4: unrecognised extensions are ignored unless critical.
    for extension in extensions:
        if extension["critical"].native:
            raise OCSPRequestError("critical singleRequestExtension not supported")


def _checked(cert_ids: list[_RawCertID], extensions: list[_RawExtension]) -> ParsedRequest:
    """The checks both readers share: what we accept, not how it was spelled."""
    if not cert_ids:
        raise OCSPRequestError("no CertID in requestList")
    parsed = []
    for oid, params, name_hash, key_hash, serial, cid_der in cert_ids:
        name = _HASH_OIDS.get(oid)
        if name is None or params not in (b"", b"\x05\x00"):
            raise OCSPRequestError("unsupported CertID hash algorithm")
        if len(name_hash) != _HASH_SIZES[name] or len(key_hash) != _HASH_SIZES[name]:
            raise OCSPRequestError("CertID hash length does not match its algorithm")
        parsed.append(CertID(name, name_hash, key_hash, serial, cid_der))
    seen: set[bytes] = set()
    nonce = None
    for oid, critical, value in extensions:
        if oid in seen:
            raise OCSPRequestError("repeated request extension")  # as RFC 5280 §4.2
        seen.add(oid)
        if oid == NONCE_OID:
            nonce = checked_nonce(value)
        elif critical:
            # RFC 6960 §4.4: a critical extension we do not understand is refused.
            raise OCSPRequestError("unsupported critical request extension")
    return ParsedRequest(tuple(parsed), nonce)


def checked_nonce(value: bytes) -> bytes:
    # RFC 8954 §2.1: a responder MUST reject a nonce of 0 or more than 32
    # octets with malformedRequest. The length must be the short form here,
    # since 32 < 0x80, so the whole encoding is two header octets + value.
    if len(value) < 2 or value[0] != 0x04 or value[1] != len(value) - 2:
        raise OCSPRequestError("nonce is not a DER OCTET STRING")
    if not MIN_NONCE_OCTETS <= len(value) - 2 <= MAX_NONCE_OCTETS:
        raise OCSPRequestError("nonce must be 1 to 32 octets (RFC 8954 §2.1)")
    return value


# --- matching a CertID to a CA -----------------------------------------------------


def issuer_hashes(issuer_certificate: x509.Certificate) -> dict[str, tuple[bytes, bytes]]:
    """Hash name -> (issuerNameHash, issuerKeyHash) for sha1/sha256/sha384/sha512.

    RFC 6960 §4.1.1: the name hash is over the DER issuer Name as it appears in
    the certificate, the key hash over the subjectPublicKey BIT STRING's value
    (without tag, length and unused-bits octet).
    """
    name_der, key_bits = subject_and_key(issuer_certificate)
    return {
        name: (hashlib.new(name, name_der).digest(), hashlib.new(name, key_bits).digest())
        for name in _HASH_SIZES
    }


def subject_and_key(certificate: x509.Certificate) -> tuple[bytes, bytes]:
    cert = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    tbs = cert["tbs_certificate"]
    return tbs["subject"].dump(), tbs["subject_public_key_info"]["public_key"].contents[1:]
