"""RFC 6960 OCSP responses: assembled by hand, signed by the responder's own signer.

Split from ca/ocsp.py (the requests). Tuned for the responder's hot path:
the pieces fixed at construction (ResponderID, certs, signature algorithm)
are encoded once; per response only the times, the SingleResponses and the
nonce are encoded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.ocsp import BASIC_OID, NONCE_OID, CertID, OCSPRequestError, checked_nonce, subject_and_key
from keys import KeySigner, normalise_hash_name, spki_of
from keys.der import tlv

# --- responses -------------------------------------------------------------------

_ERROR_STATUSES = {
    "malformedRequest": 1, "internalError": 2, "tryLater": 3, "sigRequired": 5, "unauthorized": 6,
}
# RFC 6960 §4.2.1: a response with an error status carries no responseBytes.
_ERROR_RESPONSES = {name: tlv(0x30, tlv(0x0A, bytes((code,)))) for name, code in _ERROR_STATUSES.items()}
_SUCCESSFUL = tlv(0x0A, b"\x00")
# RFC 5280 §5.3.1 CRLReason; 7 is unused and removeFromCRL (8) only exists in
# delta CRLs, so neither describes a revoked certificate.
_REASON_CODES = frozenset({0, 1, 2, 3, 4, 5, 6, 9, 10})
_STATUSES = frozenset({"good", "revoked", "unknown"})


def error_response(status: str) -> bytes:
    """The fixed OCSPResponse for an error status, e.g. ``"malformedRequest"``."""
    try:
        return _ERROR_RESPONSES[status]
    except KeyError:
        raise ValueError(f"not an OCSP error status: {status!r}") from None


@dataclass(frozen=True)
class SingleStatus:
    cert_id: CertID
    status: str
    revoked_at: dt.datetime | None = None
    reason_code: int | None = None

    def __post_init__(self) -> None:
        if self.status not in _STATUSES:
            raise ValueError(f"status must be good, revoked or unknown, not {self.status!r}")
        if self.status == "revoked":
            if self.revoked_at is None:
                raise ValueError("a revoked status needs revoked_at")
            _utc(self.revoked_at)
            if self.reason_code is not None and self.reason_code not in _REASON_CODES:
                raise ValueError(f"not a CRLReason for a revoked certificate: {self.reason_code}")
        elif self.revoked_at is not None or self.reason_code is not None:
            raise ValueError(f"a {self.status} status has no revocation time or reason")


def _utc(moment: dt.datetime) -> dt.datetime:
    # A naive datetime is ambiguous; the project's clocks are all aware (ca/clock.py).
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("OCSP times must be timezone-aware")
    return moment.astimezone(dt.timezone.utc)


def _generalized_time(moment: dt.datetime) -> bytes:
    # RFC 6960 §4.2.2.1 defers to RFC 5280 §4.1.2.5.2: UTC, "Z", seconds, no fraction.
    return tlv(0x18, _utc(moment).strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def _cert_status(status: SingleStatus) -> bytes:
    if status.status == "good":
        return b"\x80\x00"  # [0] IMPLICIT NULL
    if status.status == "unknown":
        return b"\x82\x00"  # [2] IMPLICIT UnknownInfo (NULL)
    info = _generalized_time(status.revoked_at)
    # RFC 5280 §5.3.1 and CA/B Forum BR §7.3: omit the reason rather than say
    # "unspecified" (0).
    if status.reason_code:
        info += tlv(0xA0, tlv(0x0A, bytes((status.reason_code,))))
    return tlv(0xA1, info)  # [1] IMPLICIT RevokedInfo


class ResponseSigner:
    """Signs BasicOCSPResponses as one responder key (CA key or delegated responder)."""

    def __init__(self, key: KeySigner, responder_certificate: x509.Certificate,
                 hash_name: str | None = None) -> None:
        # Compared as SubjectPublicKeyInfo DER, which any key type has (GOST too, issue 7).
        cert = asn1_x509.Certificate.load(responder_certificate.public_bytes(serialization.Encoding.DER))
        if cert.public_key.dump() != spki_of(key.public_key):
            # Caught now rather than by every relying party later.
            raise ValueError(f"{key.handle} does not hold the responder certificate's key")
        self._key = key
        # A GOST key signs with its own Streebog and the Kazakh GOST signature OID.
        self._hash_name = normalise_hash_name(hash_name) if hash_name else key.algorithm.default_hash
        _, key_bits = subject_and_key(responder_certificate)
        # RFC 6960 §4.2.1 ResponderID byKey [2]: SHA-1 of the key BIT STRING's value.
        self._responder_id = tlv(0xA2, tlv(0x04, hashlib.sha1(key_bits).digest()))
        cert_der = responder_certificate.public_bytes(serialization.Encoding.DER)
        # RFC 6960 §4.2.1 certs: the responder's certificate, so a client can
        # check a delegated responder (§4.2.2.2) without fetching anything.
        self._certs = tlv(0xA0, tlv(0x30, cert_der))

    def sign(self, statuses: Sequence[SingleStatus], *, produced_at: dt.datetime,
             this_update: dt.datetime, next_update: dt.datetime | None,
             nonce: bytes | None = None) -> bytes:
        """A DER OCSPResponse (successful, BasicOCSPResponse) for ``statuses``."""
        if not statuses:
            raise ValueError("a response needs at least one SingleStatus")
        if next_update is not None and _utc(next_update) < _utc(this_update):
            raise ValueError("nextUpdate is before thisUpdate")
        tbs = tlv(0x30, self._responder_id + _generalized_time(produced_at)
                   + _responses(statuses, this_update, next_update) + _nonce_extension(nonce))
        sig_alg, signature = self._key.sign_tbs(tbs, self._hash_name)
        basic = tlv(0x30, tbs + sig_alg + tlv(0x03, b"\x00" + signature) + self._certs)
        response_bytes = tlv(0x30, tlv(0x06, BASIC_OID) + tlv(0x04, basic))
        return tlv(0x30, _SUCCESSFUL + tlv(0xA0, response_bytes))


def _responses(statuses: Sequence[SingleStatus], this_update: dt.datetime,
               next_update: dt.datetime | None) -> bytes:
    times = _generalized_time(this_update)
    if next_update is not None:
        times += tlv(0xA0, _generalized_time(next_update))
    return tlv(0x30, b"".join(
        tlv(0x30, s.cert_id.der + _cert_status(s) + times) for s in statuses))


def _nonce_extension(nonce: bytes | None) -> bytes:
    if nonce is None:
        return b""
    # The same check as for requests: only a nonce parse_request returned fits.
    try:
        checked_nonce(nonce)
    except OCSPRequestError as exc:
        raise ValueError(str(exc)) from None
    extension = tlv(0x30, tlv(0x06, NONCE_OID) + tlv(0x04, nonce))
    return tlv(0xA1, tlv(0x30, extension))  # responseExtensions [1] EXPLICIT
