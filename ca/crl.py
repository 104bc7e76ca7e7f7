"""DER encoding and signing of X.509 v2 CRLs, full and delta (RFC 5280 §5).

A CRL may list a million entries, and it is regenerated on every revocation,
so the entry list is encoded column by column rather than entry by entry:
each step is one ``map`` of a builtin over a million values, which CPython
runs in C, and every per-entry byte string that can be shared is looked up in
a table instead of being built (the SEQUENCE and INTEGER headers, the day
part and the time-of-day part of the revocation date, the reasonCode
extension). ``io.BytesIO.writelines`` then concatenates the pieces; unlike
``bytes.join`` it does not first collect a buffer view of every piece, which
for five million pieces costs more than the copying. benchmarks/crl.py
measures it.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import add, floordiv, getitem, itemgetter, mod

from asn1crypto import x509 as asn1_x509

from keys import KeyBackend, UnsupportedAlgorithm, hash_algorithm, hash_for, sign_tbs, signature_algorithm_der

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
# Bounds the header tables below. RFC 5280 §4.1.2.2 allows 20 octets; a
# little room is left for non-conforming certificates that must still be
# revocable, and every entry stays short enough for a one-byte length.
MAX_SERIAL_OCTETS = 63

_SECONDS_PER_DAY = 86400
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_EPOCH_DATE = _EPOCH.date()
# RFC 5280 §5.1.2.4 and §4.1.2.5: UTCTime for 1950-01-01 up to the end of
# 2049, GeneralizedTime outside. Days counted from 1970-01-01.
_FIRST_UTCTIME_DAY = -7305
_FIRST_GENERALIZED_DAY_AFTER = 29220

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
        self._check_delta()

    def _check_delta(self) -> None:
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


def sign_crl(backend: KeyBackend, handle: str, params: CRLParams, entries: Sequence,
             hash_name: str | None = None) -> bytes:
    """Encode and sign a CRL with the CA key ``handle``; DER out.

    The hash defaults to the one the project pairs with the key type.
    """
    algorithm = backend.algorithm(handle)
    name = hash_algorithm(hash_name).name if hash_name else hash_for(algorithm).name
    sig_alg = signature_algorithm_der(algorithm, name)
    tbs = encode_tbs_crl(params, entries, sig_alg)
    used_alg, signature = sign_tbs(backend, handle, tbs, name)
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


class _DayPrefixes(dict):
    """Day number -> Time tag, length and date digits; filled on first use.

    The values never change, so threads racing to fill a day write equal bytes.
    """

    def __missing__(self, day: int) -> bytes:
        date = _EPOCH_DATE + dt.timedelta(days=day)
        if _FIRST_UTCTIME_DAY <= day < _FIRST_GENERALIZED_DAY_AFTER:
            prefix = b"\x17\x0d%02d%02d%02d" % (date.year % 100, date.month, date.day)
        else:
            prefix = b"\x18\x0f%04d%02d%02d" % (date.year, date.month, date.day)
        self[day] = prefix
        return prefix


_DAY_PREFIXES = _DayPrefixes()


@functools.cache
def _times_of_day() -> tuple[bytes, ...]:
    """``b"HHMMSSZ"`` for every second of a day, built on first use (~10 ms)."""
    two_digits = [b"%02d" % i for i in range(60)]
    seconds = [s + b"Z" for s in two_digits]
    return tuple(h + m + s for h in two_digits[:24] for m in two_digits for s in seconds)


def _epoch_der(epoch: int) -> bytes:
    day, second = divmod(epoch, _SECONDS_PER_DAY)
    return _DAY_PREFIXES[day] + _times_of_day()[second]


def _datetime_der(when: dt.datetime) -> bytes:
    # §5.1.2.4: whole seconds, no fractions; floor division keeps pre-1970
    # times right too.
    return _epoch_der((when - _EPOCH) // dt.timedelta(seconds=1))


# --- revokedCertificates ---------------------------------------------------------

# Octets of a positive INTEGER by bit length (see _integer). Zero bits, that
# is serial 0, maps to -1 so that int.to_bytes raises: §4.1.2.2 wants
# positive serial numbers. Longer serials fall off the end (IndexError).
_OCTETS_BY_BITS = (-1, *(bits // 8 + 1 for bits in range(1, 8 * MAX_SERIAL_OCTETS)))
# Added to an entry's serial length to pick its header when the revocation
# date is a GeneralizedTime, two octets longer than a UTCTime.
_GENERALIZED_KEY_OFFSET = MAX_SERIAL_OCTETS + 1

# §5.3.1: the reasonCode entry extension, non-critical, one per code; none
# for unspecified (§5.3.1 says to leave it out rather than use 0).
_REASON_EXTENSIONS: dict[int | None, bytes] = {None: b"", 0: b""}
for _code in REASON_CODES.values():
    if _code:
        _REASON_EXTENSIONS[_code] = b"\x30\x0c\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01" + bytes((_code,))


def _entry_headers(extension_length: int) -> tuple[bytes | None, ...]:
    """``SEQUENCE`` header + ``INTEGER`` header of an entry, by serial-length key."""
    headers: list[bytes | None] = []
    for time_length in (15, 17):  # UTCTime, GeneralizedTime TLVs
        headers.append(None)  # a zero-length serial cannot happen (see _OCTETS_BY_BITS)
        for octets in range(1, MAX_SERIAL_OCTETS + 1):
            length = 2 + octets + time_length + extension_length
            headers.append(bytes((0x30, length, 0x02, octets)))
    return tuple(headers)


_ENTRY_HEADERS = {code: _entry_headers(len(ext)) for code, ext in _REASON_EXTENSIONS.items()}


def _revoked_certificates(entries: Sequence) -> tuple[bytes, bytes]:
    """(header, content) of revokedCertificates; both empty without entries.

    §5.1.2.6: with no revoked certificates the field is left out, not empty.
    """
    if not isinstance(entries, (list, tuple)):
        entries = list(entries)
    if not entries:
        return b"", b""
    try:
        content = _encode_entries(entries)
    except (TypeError, ValueError, OverflowError, IndexError, KeyError) as exc:
        raise ValueError(_describe_bad_entry(entries)) from exc
    return _header(0x30, len(content)), content


def _encode_entries(entries: Sequence) -> bytes:
    # Each entry is five pieces: SEQUENCE+INTEGER header, serial octets, the
    # Time's tag, length and date, its HHMMSSZ, and the reasonCode extension
    # (maybe empty). Each column below is one pass in C; see the module doc.
    serials = list(map(itemgetter(0), entries))
    epochs = list(map(itemgetter(1), entries))
    reasons = list(map(itemgetter(2), entries))
    octets = list(map(_OCTETS_BY_BITS.__getitem__, map(int.bit_length, serials)))
    days = list(map(floordiv, epochs, repeat(_SECONDS_PER_DAY)))
    keys = octets
    if min(days) < _FIRST_UTCTIME_DAY or max(days) >= _FIRST_GENERALIZED_DAY_AFTER:
        keys = list(map(add, octets, map(_generalized_key_offset, days)))

    pieces: list = [None] * (5 * len(entries))
    pieces[0::5] = map(getitem, map(_ENTRY_HEADERS.__getitem__, reasons), keys)
    pieces[1::5] = map(int.to_bytes, serials, octets)
    pieces[2::5] = map(_DAY_PREFIXES.__getitem__, days)
    pieces[3::5] = map(_times_of_day().__getitem__, map(mod, epochs, repeat(_SECONDS_PER_DAY)))
    pieces[4::5] = map(_REASON_EXTENSIONS.__getitem__, reasons)
    out = io.BytesIO()
    out.writelines(pieces)
    return out.getvalue()


def _generalized_key_offset(day: int) -> int:
    return 0 if _FIRST_UTCTIME_DAY <= day < _FIRST_GENERALIZED_DAY_AFTER else _GENERALIZED_KEY_OFFSET


def _describe_bad_entry(entries: Sequence) -> str:
    """Why encoding failed, for the first bad entry; only run after a failure."""
    for index, entry in enumerate(entries):
        try:
            serial, epoch, reason = entry
        except (TypeError, ValueError):
            return f"entry {index}: expected (serial, revoked_at_epoch_seconds, reason_code)"
        if not isinstance(serial, int) or serial <= 0:
            return f"entry {index}: the serial number must be a positive int (RFC 5280 §4.1.2.2)"
        if serial.bit_length() > 8 * MAX_SERIAL_OCTETS - 1:
            return f"entry {index}: the serial number is longer than {MAX_SERIAL_OCTETS} octets"
        if not isinstance(epoch, int):
            return f"entry {index}: the revocation time must be int seconds since the epoch"
        try:
            _epoch_der(epoch)
        except (OverflowError, ValueError):
            return f"entry {index}: the revocation time is outside years 1..9999"
        if reason not in _REASON_EXTENSIONS:
            return f"entry {index}: {reason!r} is not an RFC 5280 §5.3.1 reason code"
    return "an entry could not be encoded"
