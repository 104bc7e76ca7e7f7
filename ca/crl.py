"""DER encoding and signing of X.509 v2 CRLs, full and delta (RFC 5280 §5).

A CRL may list a million entries and is regenerated after every revocation,
so the list of entries is encoded column by column rather than entry by
entry (see "the fast path" below); benchmarks/crl.py measures it against
asn1crypto. Everything else is small and written out by hand, as
keys/x509sign.py does for certificates.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import floordiv, getitem, itemgetter, mod

from asn1crypto import x509 as asn1_x509

from keys import KeySigner, UnsupportedAlgorithm, normalise_hash_name, signature_algorithm_der

# RFC 5280 §5.3.1 CRLReason, in kebab case. 7 is not used.
REASON_CODES: dict[str, int] = {
    "unspecified": 0,
    "key-compromise": 1,
    "ca-compromise": 2,
    "affiliation-changed": 3,
    "superseded": 4,
    "cessation-of-operation": 5,
    "certificate-hold": 6,
    "remove-from-crl": 8,
    "privilege-withdrawn": 9,
    "aa-compromise": 10,
}

# RFC 5280 §5.2.3: CRL numbers (and so BaseCRLNumber) are at most 20 octets.
_MAX_CRL_NUMBER = (1 << 159) - 1
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

_VERSION_V2 = b"\x02\x01\x01"  # RFC 5280 §5.1.2.1: v2 whenever extensions are present.
_CRITICAL = b"\x01\x01\xff"
_OID_AKI = b"\x06\x03\x55\x1d\x23"  # 2.5.29.35
_OID_CRL_NUMBER = b"\x06\x03\x55\x1d\x14"  # 2.5.29.20
_OID_DELTA_CRL_INDICATOR = b"\x06\x03\x55\x1d\x1b"  # 2.5.29.27
_OID_FRESHEST_CRL = b"\x06\x03\x55\x1d\x2e"  # 2.5.29.46


@dataclass(frozen=True)
class CRLParams:
    """What a CRL says besides its entries; checked when built.

    ``delta_base`` set makes a delta CRL: a critical Delta CRL Indicator
    naming the complete CRL it updates (RFC 5280 §5.2.4).
    ``freshest_crl_url`` is for complete CRLs: where their deltas are
    (Freshest CRL, §5.2.6).
    """

    issuer_name_der: bytes
    authority_key_identifier: bytes
    this_update: dt.datetime
    next_update: dt.datetime
    crl_number: int
    delta_base: int | None = None
    freshest_crl_url: str | None = None

    def __post_init__(self) -> None:
        name = asn1_x509.Name.load(self.issuer_name_der, strict=True)
        if not len(name.chosen):  # RFC 5280 §5.1.2.3: a non-empty distinguished name.
            raise ValueError("the CRL issuer name is empty")
        if not self.authority_key_identifier:
            raise ValueError("the authority key identifier is empty (RFC 5280 §5.2.1)")
        for label, when in (("this_update", self.this_update), ("next_update", self.next_update)):
            if when.tzinfo is None or when.utcoffset() is None:
                raise ValueError(f"{label} must be an aware datetime")
        if self.next_update <= self.this_update:
            raise ValueError("next_update must be later than this_update")
        if not 0 <= self.crl_number <= _MAX_CRL_NUMBER:
            raise ValueError("the CRL number must be 0 .. 2**159-1 (RFC 5280 §5.2.3)")
        self._check_delta_and_freshest()

    def _check_delta_and_freshest(self) -> None:
        if self.delta_base is not None:
            # §5.2.3: complete and delta CRLs of one scope share one numbering
            # sequence, so the base was issued earlier with a smaller number.
            if not 0 <= self.delta_base < self.crl_number:
                raise ValueError("delta_base must be 0 .. crl_number-1 (RFC 5280 §5.2.3, §5.2.4)")
            if self.freshest_crl_url is not None:
                raise ValueError("a delta CRL carries no Freshest CRL extension (RFC 5280 §5.2.6)")
        if self.freshest_crl_url is not None:
            if not self.freshest_crl_url.isascii() or ":" not in self.freshest_crl_url:
                raise ValueError("freshest_crl_url must be an ASCII URI (IA5String, RFC 5280 §4.2.1.13)")


def encode_tbs_crl(params: CRLParams, entries: Sequence, signature_algorithm_der: bytes) -> bytes:
    """DER TBSCertList (RFC 5280 §5.1.2).

    ``entries`` are ``(serial, revoked_at_epoch_seconds, reason_code | None)``;
    reason ``None`` or 0 (unspecified) adds no reasonCode, which §5.3.1 asks
    for. ``signature_algorithm_der`` must be the AlgorithmIdentifier the CRL
    will be signed with (§5.1.2.2 wants the two copies identical).
    """
    revoked_header, revoked = _revoked_certificates(entries)
    head = b"".join((
        _VERSION_V2,
        signature_algorithm_der,
        params.issuer_name_der,
        _datetime_der(params.this_update),
        _datetime_der(params.next_update),  # §5.1.2.5: conforming issuers always include it.
    ))
    extensions = _crl_extensions(params)
    length = len(head) + len(revoked_header) + len(revoked) + len(extensions)
    return b"".join((_header(0x30, length), head, revoked_header, revoked, extensions))


def assemble_crl(tbs_der: bytes, signature_algorithm_der: bytes, signature: bytes) -> bytes:
    """DER CertificateList from its three parts (RFC 5280 §5.1.1)."""
    bit_string_header = _header(0x03, len(signature) + 1)
    length = len(tbs_der) + len(signature_algorithm_der) + len(bit_string_header) + 1 + len(signature)
    return b"".join((_header(0x30, length), tbs_der, signature_algorithm_der,
                     bit_string_header, b"\x00", signature))


def sign_crl(key: KeySigner, params: CRLParams, entries: Sequence, hash_name: str | None = None) -> bytes:
    """Encode and sign a CRL with the CA's key; DER out.

    The hash defaults to the one the project pairs with the key type; a GOST
    key signs with its Streebog and the Kazakh GOST signature OID (issue 7).
    """
    algorithm = key.algorithm
    name = normalise_hash_name(hash_name) if hash_name else algorithm.default_hash
    sig_alg = signature_algorithm_der(algorithm, name)
    tbs = encode_tbs_crl(params, entries, sig_alg)
    used_alg, signature = key.sign_tbs(tbs, name)
    if used_alg != sig_alg:
        # RFC 5280 §5.1.1.2: signatureAlgorithm must equal the TBS's signature field.
        raise UnsupportedAlgorithm("the signing algorithm differs from the one encoded in the TBSCertList")
    return assemble_crl(tbs, sig_alg, signature)


# --- DER pieces ----------------------------------------------------------------


def _header(tag: int, length: int) -> bytes:
    # X.690 §8.1.3: short form below 128, else the fewest length octets (DER).
    if length < 0x80:
        return bytes((tag, length))
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(octets))) + octets


def _tlv(tag: int, content: bytes) -> bytes:
    return _header(tag, len(content)) + content


def _integer(value: int) -> bytes:
    # X.690 §8.3.2: minimal two's complement; bit_length // 8 + 1 octets adds
    # the leading zero exactly when the top bit of a non-negative value is set.
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _extension(oid: bytes, value: bytes, *, critical: bool = False) -> bytes:
    return _tlv(0x30, oid + (_CRITICAL if critical else b"") + _tlv(0x04, value))


def _crl_extensions(params: CRLParams) -> bytes:
    """crlExtensions, [0] EXPLICIT Extensions (RFC 5280 §5.1.2.7, §5.2)."""
    extensions = [
        # §5.2.1: keyIdentifier method; non-critical as in certificates (§4.2.1.1).
        _extension(_OID_AKI, _tlv(0x30, _tlv(0x80, params.authority_key_identifier))),
        # §5.2.3: non-critical.
        _extension(_OID_CRL_NUMBER, _integer(params.crl_number)),
    ]
    if params.delta_base is not None:
        # §5.2.4: critical, so a client that does not know deltas does not
        # take this CRL for a complete one.
        extensions.append(_extension(_OID_DELTA_CRL_INDICATOR, _integer(params.delta_base), critical=True))
    if params.freshest_crl_url is not None:
        # §5.2.6 with §4.2.1.13 syntax: one DistributionPoint whose fullName
        # is one uniformResourceIdentifier [6]; non-critical.
        uri = _tlv(0x86, params.freshest_crl_url.encode("ascii"))
        points = _tlv(0x30, _tlv(0x30, _tlv(0xA0, _tlv(0xA0, uri))))
        extensions.append(_extension(_OID_FRESHEST_CRL, points))
    return _tlv(0xA0, _tlv(0x30, b"".join(extensions)))


# --- times -----------------------------------------------------------------------


def _time_der(epoch: int) -> bytes:
    """UTCTime or GeneralizedTime TLV of whole seconds (RFC 5280 §4.1.2.5, §5.1.2.4)."""
    when = _EPOCH + dt.timedelta(seconds=epoch)
    fields = (when.month, when.day, when.hour, when.minute, when.second)
    if 1950 <= when.year < 2050:
        return b"\x17\x0d%02d%02d%02d%02d%02d%02dZ" % (when.year % 100, *fields)
    return b"\x18\x0f%04d%02d%02d%02d%02d%02dZ" % (when.year, *fields)


def _datetime_der(when: dt.datetime) -> bytes:
    # §5.1.2.4: no fractional seconds; floor division keeps pre-1970 times right.
    return _time_der((when - _EPOCH) // dt.timedelta(seconds=1))


# --- revokedCertificates ---------------------------------------------------------

# RFC 5280 §4.1.2.2: serial numbers are positive and at most 20 octets.
_MAX_SERIAL = (1 << 159) - 1
_ENTRY_SEQUENCE_TAG, _INTEGER_TAG = 0x30, 0x02

# §5.3.1: the reasonCode entry extension, non-critical, one per code; none
# for unspecified, which §5.3.1 asks to leave out rather than encode as 0.
_REASON_EXTENSIONS: dict[int | None, bytes] = {None: b"", 0: b""}
for _code in REASON_CODES.values():
    if _code:
        _REASON_EXTENSIONS[_code] = b"\x30\x0c\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01" + bytes((_code,))


def _revoked_certificates(entries: Sequence) -> tuple[bytes, bytes]:
    """(header, content) of revokedCertificates; both empty without entries.

    §5.1.2.6: with no revoked certificates the field is left out, not empty.
    """
    if not isinstance(entries, (list, tuple)):
        entries = list(entries)
    if not entries:
        return b"", b""
    try:
        content = _encode_entries_fast(entries)
    except (_NeedsGeneralizedTime, TypeError, ValueError, OverflowError, IndexError, KeyError):
        # The fast path stops at anything out of the ordinary: a revocation
        # date outside 1950-2049 or a bad entry. The plain loop encodes the
        # first and names the entry at fault for the second.
        content = _encode_entries_plainly(entries)
    return _header(0x30, len(content)), content


def _encode_entries_plainly(entries: Sequence) -> bytes:
    """One entry at a time: the reference the fast path is tested against."""
    out = []
    for index, entry in enumerate(entries):
        try:
            serial, epoch, reason = entry
        except (TypeError, ValueError):
            raise ValueError(f"entry {index}: expected (serial, revoked_at_epoch_seconds, reason_code)") from None
        if not isinstance(serial, int) or not 0 < serial <= _MAX_SERIAL:
            raise ValueError(f"entry {index}: serial numbers are positive and at most 20 octets "
                             f"(RFC 5280 §4.1.2.2), got {serial!r}")
        if not isinstance(epoch, int):
            raise ValueError(f"entry {index}: the revocation time must be int seconds since the epoch")
        try:
            time = _time_der(epoch)
        except OverflowError:
            raise ValueError(f"entry {index}: the revocation time is outside years 1-9999") from None
        if reason not in _REASON_EXTENSIONS:
            raise ValueError(f"entry {index}: {reason!r} is not an RFC 5280 §5.3.1 reason code")
        out.append(_tlv(_ENTRY_SEQUENCE_TAG, _integer(serial) + time + _REASON_EXTENSIONS[reason]))
    return b"".join(out)


# --- the fast path ---------------------------------------------------------------
#
# An entry is four pieces: (1) its SEQUENCE header with the INTEGER header,
# (2) the serial's octets, (3) the revocation date's UTCTime tag, length and
# YYMMDDHH, (4) its MMSSZ followed by the reasonCode extension, if any.
# (1) depends only on the serial's length and the reason, (3) only on the
# hour, (4) only on the second within the hour and the reason, so all but
# (2) come from tables. Each column is one ``map`` of a builtin, which CPython
# runs in C; ``io.BytesIO.writelines`` joins the pieces. (``bytes.join``
# first takes a buffer view of every piece, which costs more than the copying
# for four million of them.)


class _NeedsGeneralizedTime(Exception):
    pass


class _HourPrefixes(dict):
    """Hours since the epoch -> UTCTime tag, length and YYMMDDHH.

    Filled on first use; values never change, so threads racing to fill an
    hour store equal bytes. Cleared when large: ten years is 87 600 hours.
    """

    def __missing__(self, hour: int) -> bytes:
        when = _EPOCH + dt.timedelta(hours=hour)
        if not 1950 <= when.year < 2050:
            raise _NeedsGeneralizedTime(hour)
        if len(self) >= 1 << 17:
            self.clear()
        prefix = b"\x17\x0d%02d%02d%02d%02d" % (when.year % 100, when.month, when.day, when.hour)
        self[hour] = prefix
        return prefix


class _EntryTails(dict):
    """Reason code -> 3600 byte strings ``MMSSZ`` + reasonCode extension; on first use."""

    def __missing__(self, reason: int | None) -> tuple[bytes, ...]:
        extension = _REASON_EXTENSIONS[reason]
        two_digits = [b"%02d" % i for i in range(60)]
        tails = tuple(m + s + b"Z" + extension for m in two_digits for s in two_digits)
        self[reason] = tails
        return tails


def _entry_headers(octets: int) -> dict[int | None, bytes]:
    """Reason code -> SEQUENCE header + INTEGER header of an entry with a UTCTime."""
    return {
        reason: bytes((_ENTRY_SEQUENCE_TAG, 2 + octets + 15 + len(extension), _INTEGER_TAG, octets))
        for reason, extension in _REASON_EXTENSIONS.items()
    }


_HOUR_PREFIXES = _HourPrefixes()
_ENTRY_TAILS = _EntryTails()
_OCTETS_BY_BITS = tuple(bits // 8 + 1 for bits in range(160))  # see _integer
_HEADERS_BY_OCTETS = tuple(_entry_headers(octets) for octets in range(21))
_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)


def _encode_entries_fast(entries: Sequence) -> bytes:
    """The entries' DER; raises on anything unusual and leaves it to the plain loop."""
    low, high = min(map(_first, entries)), max(map(_first, entries))
    if not (isinstance(low, int) and isinstance(high, int) and 0 < low <= high <= _MAX_SERIAL):
        raise ValueError("serial number out of range")
    reasons = list(map(_third, entries))
    octets = _OCTETS_BY_BITS[high.bit_length()]
    if _OCTETS_BY_BITS[low.bit_length()] == octets:
        # The usual case, our own 159-bit serials: one length for all.
        headers = map(_HEADERS_BY_OCTETS[octets].__getitem__, reasons)
        serials = map(int.to_bytes, map(_first, entries), repeat(octets))
    else:
        lengths = list(map(_OCTETS_BY_BITS.__getitem__, map(int.bit_length, map(_first, entries))))
        headers = map(getitem, map(_HEADERS_BY_OCTETS.__getitem__, lengths), reasons)
        serials = map(int.to_bytes, map(_first, entries), lengths)
    hours = map(_HOUR_PREFIXES.__getitem__, map(floordiv, map(_second, entries), repeat(3600)))
    tails = map(getitem, map(_ENTRY_TAILS.__getitem__, reasons), map(mod, map(_second, entries), repeat(3600)))
    out = io.BytesIO()
    out.writelines(chain.from_iterable(zip(headers, serials, hours, tails)))
    return out.getvalue()
