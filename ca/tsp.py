"""RFC 3161 time-stamp protocol, the protocol layer: read queries, build and sign tokens.

No I/O, no registry and no clock here: the authority (ca/tsa.py) decides
what it grants, draws serial numbers and reads the time; this module reads
what clients send and encodes what the authority decided.

Queries are read with asn1crypto and must be DER (RFC 3161 §3.4 names the
body of ``application/timestamp-query`` "the ASN.1 DER-encoded Time-Stamp
Request"), checked by re-encoding. Responses are built with asn1crypto too,
except the TimeStampResp wrapper itself: asn1crypto declares its
timeStampToken mandatory, so it can neither write nor read a rejection.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from asn1crypto import algos as asn1_algos
from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from asn1crypto import tsp as asn1_tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.errors import Problem, QoltanbaError
from ca.ocsp import OpaqueExtensions
from keys import KeySigner, hash_for
from keys.der import tlv

# Far above any real query (an imprint of at most 64 octets, a nonce, an OID);
# the HTTP route refuses larger bodies before they get here.
MAX_QUERY_BYTES = 64 * 1024
# Digest sizes of the algorithms a query may name; the authority's policy
# says which of them it accepts.
HASH_SIZES = {"md5": 16, "sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}
_NULL = b"\x05\x00"

# RFC 3161 §2.4.2 PKIFailureInfo: the named bits a rejection can carry.
FAIL_INFO_BITS = {
    "badAlg": 0, "badRequest": 2, "badDataFormat": 5, "timeNotAvailable": 14,
    "unacceptedPolicy": 15, "unacceptedExtension": 16, "addInfoNotAvailable": 17, "systemFailure": 25,
}
_FAIL_INFO_NAMES = {bit: name for name, bit in FAIL_INFO_BITS.items()}
PKI_STATUSES = ("granted", "grantedWithMods", "rejection", "waiting", "revocationWarning",
                "revocationNotification")


class TimeStampRefused(QoltanbaError):
    """A query the TSA will not stamp; ``fail_info`` is the RFC 3161 §2.4.2 reason."""

    def __init__(self, fail_info: str, detail: str) -> None:
        if fail_info not in FAIL_INFO_BITS:
            raise ValueError(f"not a PKIFailureInfo name: {fail_info!r}")
        super().__init__("refused", detail, [Problem("query", f"{fail_info}: {detail}")])
        self.fail_info = fail_info


@dataclass(frozen=True)
class TimeStampQuery:
    """What a TimeStampReq asks for, as read; whether to grant it is the authority's call."""

    hash_algorithm: str  # asn1crypto's name ("sha256"), or the dotted OID of one it does not know
    digest: bytes
    imprint_der: bytes  # the MessageImprint as sent: RFC 3161 §2.4.2 wants it back unchanged
    policy: str | None = None
    nonce: int | None = None
    cert_req: bool = False
    extensions: tuple[str, ...] = ()


# --- queries ------------------------------------------------------------------------


class _DigestAlgorithm(asn1_core.Sequence):
    # asn1crypto's DigestAlgorithm refuses unexpected parameters as a parse
    # error; these are read as they come, so they can be refused as badAlg.
    _fields = [
        ("algorithm", asn1_algos.DigestAlgorithmId),
        ("parameters", asn1_core.Any, {"optional": True}),
    ]


class _MessageImprint(asn1_core.Sequence):
    _fields = [
        ("hash_algorithm", _DigestAlgorithm),
        ("hashed_message", asn1_core.OctetString),
    ]


class _TimeStampReq(asn1_core.Sequence):
    _fields = [
        ("version", asn1_core.Integer),
        ("message_imprint", _MessageImprint),
        ("req_policy", asn1_core.ObjectIdentifier, {"optional": True}),
        ("nonce", asn1_core.Integer, {"optional": True}),
        ("cert_req", asn1_core.Boolean, {"default": False}),
        ("extensions", OpaqueExtensions, {"implicit": 0, "optional": True}),
    ]


def parse_query(der: bytes) -> TimeStampQuery:
    """Read a DER TimeStampReq; raises only TimeStampRefused, whatever ``der`` is.

    Malformed input is ``badDataFormat``; a hash algorithm identifier with
    parameters other than absent or NULL is ``badAlg`` (RFC 5754 §2).
    """
    try:
        return _parse(der)
    except TimeStampRefused:
        raise
    except Exception:  # noqa: BLE001 - the contract: malformed input never escapes as anything else
        raise TimeStampRefused("badDataFormat", "the query is not a DER TimeStampReq") from None


def _parse(der: bytes) -> TimeStampQuery:
    if not isinstance(der, (bytes, bytearray, memoryview)):
        raise TimeStampRefused("badDataFormat", "a time-stamp query is bytes")
    der = bytes(der)
    if not der or len(der) > MAX_QUERY_BYTES:
        raise TimeStampRefused("badDataFormat", f"a time-stamp query is 1 to {MAX_QUERY_BYTES} bytes")
    request = _TimeStampReq.load(der, strict=True)
    request.native  # noqa: B018 - decode every field now, so garbage anywhere is refused here
    if request.dump(force=True) != der:
        raise TimeStampRefused("badDataFormat", "the query is not DER (RFC 3161 §3.4)")
    if request["version"].native != 1:
        raise TimeStampRefused("badDataFormat", "unsupported TimeStampReq version")
    imprint = request["message_imprint"]
    algorithm = imprint["hash_algorithm"]
    if algorithm["parameters"].dump() not in (b"", _NULL):
        raise TimeStampRefused("badAlg", "hash algorithm parameters must be absent or NULL")
    extensions = () if isinstance(request["extensions"], asn1_core.Void) else tuple(
        e["extn_id"].dotted for e in request["extensions"])
    if not isinstance(request["extensions"], asn1_core.Void) and not extensions:
        raise TimeStampRefused("badDataFormat", "an empty extensions field")  # SIZE (1..MAX)
    policy = request["req_policy"]
    return TimeStampQuery(
        hash_algorithm=algorithm["algorithm"].native,
        digest=imprint["hashed_message"].native,
        imprint_der=imprint.dump(),
        policy=None if isinstance(policy, asn1_core.Void) else policy.dotted,
        nonce=request["nonce"].native,
        cert_req=bool(request["cert_req"].native),
        extensions=extensions,
    )


def local_query(digest: bytes, hash_name: str, *, nonce: int | None = None,
                cert_req: bool = True) -> TimeStampQuery:
    """The query an in-process caller means; raises TimeStampRefused for an unknown hash name."""
    name = hash_name.lower().replace("-", "").replace("_", "")
    if name not in HASH_SIZES:
        raise TimeStampRefused("badAlg", f"unknown hash algorithm {hash_name!r}")
    if not isinstance(digest, bytes):
        raise TimeStampRefused("badDataFormat", "the digest is bytes")
    imprint = asn1_tsp.MessageImprint({"hash_algorithm": {"algorithm": name}, "hashed_message": digest})
    return TimeStampQuery(name, digest, imprint.dump(), None, nonce, cert_req)


# --- TSTInfo ------------------------------------------------------------------------


def accuracy_fields(accuracy: dt.timedelta) -> dict[str, int]:
    """RFC 3161 §2.4.2 Accuracy: seconds, millis (1..999), micros (1..999); zero parts left out."""
    micros_total = accuracy // dt.timedelta(microseconds=1)
    seconds, rest = divmod(micros_total, 1_000_000)
    millis, micros = divmod(rest, 1000)
    fields = {"seconds": seconds, "millis": millis, "micros": micros}
    return {name: value for name, value in fields.items() if value}


def tst_info(*, policy: str, query: TimeStampQuery, serial: int, gen_time: dt.datetime,
             accuracy: dt.timedelta, tsa_name: bytes | None) -> bytes:
    """DER TSTInfo. ``tsa_name`` is a DER GeneralName; ``ordering`` stays at its DEFAULT FALSE."""
    if gen_time.tzinfo is None or gen_time.utcoffset() is None:
        raise ValueError("genTime must be timezone-aware")
    fields = {
        "version": "v1",
        "policy": policy,
        "message_imprint": asn1_tsp.MessageImprint.load(query.imprint_der),
        "serial_number": serial,
        # RFC 3161 §2.4.2: UTC, seconds always, a fraction without trailing
        # zeros; asn1crypto's GeneralizedTime writes exactly that.
        "gen_time": asn1_core.GeneralizedTime(gen_time.astimezone(dt.timezone.utc)),
        "accuracy": accuracy_fields(accuracy),
    }
    if query.nonce is not None:
        fields["nonce"] = query.nonce
    if tsa_name is not None:
        fields["tsa"] = asn1_x509.GeneralName.load(tsa_name)
    return asn1_tsp.TSTInfo(fields).dump()


# --- the token: CMS SignedData (RFC 3161 §2.4.2, RFC 5816) ------------------------------

_OID_SIGNED_DATA = asn1_cms.ContentType("signed_data").dump()
_OID_TST_INFO = asn1_cms.ContentType("tst_info").dump()
_OID_MESSAGE_DIGEST = asn1_cms.CMSAttributeType("message_digest").dump()


class TokenSigner:
    """Signs TSTInfos as the TSA: one SignerInfo with contentType, messageDigest and signingCertificateV2.

    Everything derived from the TSA certificate is encoded once here, and a
    token is assembled from those DER pieces: asn1crypto copies and re-encodes
    a cached object (the certificate above all) each time it is put into a
    new parent, which made a token cost 40 ms instead of 2.
    """

    def __init__(self, key: KeySigner, certificate: x509.Certificate,
                 hash_name: str | None = None, chain: tuple[x509.Certificate, ...] = ()) -> None:
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        if (certificate.public_key().public_bytes(serialization.Encoding.DER, spki)
                != key.public_key.public_bytes(serialization.Encoding.DER, spki)):
            # Caught now rather than by every relying party later.
            raise ValueError(f"{key.handle} does not hold the TSA certificate's key")
        self._key = key
        self.hash_name = hash_name or hash_for(key.algorithm).name
        self.certificate = certificate
        self.certificate_der = certificate.public_bytes(serialization.Encoding.DER)
        # With certReq the issuing CA goes along too: a verifier holding only
        # the root (a PDF reader, pyHanko) can then build the TSA's path.
        self._certificates = tlv(0xA0, b"".join(sorted({self.certificate_der, *(
            c.public_bytes(serialization.Encoding.DER) for c in chain)})))
        self.not_before = certificate.not_valid_before_utc
        self.not_after = certificate.not_valid_after_utc
        cert = asn1_x509.Certificate.load(self.certificate_der)
        # RFC 3161 §2.4.2 tsa: the name of the TSA, here its certificate's
        # subject, which is what `openssl ts -verify` compares it with.
        self.tsa_name = asn1_x509.GeneralName({"directory_name": cert.subject}).dump()
        # RFC 5754 §2: SHA-2 AlgorithmIdentifiers without parameters.
        self._digest_algorithm = tlv(0x30, asn1_algos.DigestAlgorithmId(self.hash_name).dump())
        self._sid = asn1_cms.IssuerAndSerialNumber({
            "issuer": cert.issuer, "serial_number": cert.serial_number}).dump()
        content_type = asn1_cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}).dump()
        # RFC 5816 §2.2.1: ESSCertIDv2 with SHA-256 (the DEFAULT, so DER
        # leaves hashAlgorithm out) over the whole certificate, and its
        # issuer and serial so a relying party can find it.
        signing_certificate = asn1_cms.CMSAttribute({
            "type": "signing_certificate_v2",
            "values": [{"certs": [{
                "cert_hash": hashlib.sha256(self.certificate_der).digest(),
                "issuer_serial": {"issuer": [asn1_x509.GeneralName({"directory_name": cert.issuer})],
                                  "serial_number": cert.serial_number},
            }]}],
        }).dump()
        self._fixed_attributes = (content_type, signing_certificate)

    def sign(self, tst_info_der: bytes, *, include_certificate: bool) -> bytes:
        """The TimeStampToken: a DER ContentInfo holding the SignedData."""
        message_digest = tlv(0x30, _OID_MESSAGE_DIGEST + tlv(0x31, tlv(
            0x04, hashlib.new(self.hash_name, tst_info_der).digest())))
        # X.690 §11.6: a DER SET OF is sorted by its elements' encodings.
        attributes = b"".join(sorted((*self._fixed_attributes, message_digest)))
        # RFC 5652 §5.4: the signature covers the attributes' DER with the
        # SET OF tag, not the [0] IMPLICIT tag they carry in SignerInfo.
        sig_alg, signature = self._key.sign_tbs(tlv(0x31, attributes), self.hash_name)
        signer_info = tlv(0x30, b"\x02\x01\x01" + self._sid + self._digest_algorithm + tlv(0xA0, attributes)
                           + sig_alg + tlv(0x04, signature))
        encapsulated = tlv(0x30, _OID_TST_INFO + tlv(0xA0, tlv(0x04, tst_info_der)))
        # RFC 3161 §2.4.1 certReq: the certificate the ESSCertIDv2 names.
        certificates = self._certificates if include_certificate else b""
        # RFC 5652 §5.1: version 3 because eContentType is not id-data.
        signed_data = tlv(0x30, b"\x02\x01\x03" + tlv(0x31, self._digest_algorithm) + encapsulated
                           + certificates + tlv(0x31, signer_info))
        return tlv(0x30, _OID_SIGNED_DATA + tlv(0xA0, signed_data))


# --- TimeStampResp --------------------------------------------------------------------

_GRANTED = tlv(0x30, tlv(0x02, b"\x00"))


def granted(token: bytes) -> bytes:
    """TimeStampResp with status granted and the token."""
    return tlv(0x30, _GRANTED + token)


def rejection(fail_info: str, text: str) -> bytes:
    """TimeStampResp with status rejection, one statusString and one failInfo bit."""
    bit = FAIL_INFO_BITS[fail_info]
    # X.690 §11.2.2: a named bit list ends at its last 1 bit.
    octets = bytearray(bit // 8 + 1)
    octets[-1] = 0x80 >> (bit % 8)
    fail_bits = tlv(0x03, bytes((7 - bit % 8,)) + bytes(octets))
    status_string = tlv(0x30, tlv(0x0C, text.encode("utf-8")))
    return tlv(0x30, tlv(0x30, tlv(0x02, b"\x02") + status_string + fail_bits))


class _PKIStatusInfo(asn1_core.Sequence):
    _fields = [
        ("status", asn1_core.Integer),
        ("status_string", asn1_tsp.PKIFreeText, {"optional": True}),
        ("fail_info", asn1_core.BitString, {"optional": True}),
    ]


class _TimeStampResp(asn1_core.Sequence):
    _fields = [
        ("status", _PKIStatusInfo),
        ("time_stamp_token", asn1_core.Any, {"optional": True}),
    ]


@dataclass(frozen=True)
class TimeStampReply:
    status: str
    fail_info: frozenset[str]
    texts: tuple[str, ...]
    token: bytes | None

    @property
    def granted(self) -> bool:
        return self.status in ("granted", "grantedWithMods") and self.token is not None


def read_response(der: bytes) -> TimeStampReply:
    """Read a TimeStampResp, rejections included (which asn1crypto's TimeStampResp cannot).

    Raises ValueError when ``der`` is not one.
    """
    response = _TimeStampResp.load(der, strict=True)
    info = response["status"]
    code = info["status"].native
    if not 0 <= code < len(PKI_STATUSES):
        raise ValueError(f"unknown PKIStatus {code}")
    bits = info["fail_info"].native if not isinstance(info["fail_info"], asn1_core.Void) else ()
    fail_info = frozenset(_FAIL_INFO_NAMES.get(i, str(i)) for i, bit in enumerate(bits) if bit)
    texts = tuple(info["status_string"].native or ())
    token = response["time_stamp_token"]
    return TimeStampReply(PKI_STATUSES[code], fail_info, texts,
                          None if isinstance(token, asn1_core.Void) else token.dump())
