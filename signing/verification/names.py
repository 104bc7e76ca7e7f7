"""Distinguished names compared byte for byte first (verification rate, issue 14).

asn1crypto compares two names as RFC 5280 section 7.1 says: each value
through the LDAP string preparation (NFKC, case folding, stringprep
tables), for every comparison of names parsed anew, and pyhanko-certvalidator
compares names often (the issuer of each certificate, each OCSP response's
responder and certificate ID, the trust anchors): about a seventh of a
two-signature report's time went there. Two names whose DER encodings are
identical are equal under any rule, so ``install`` puts that test in front
of asn1crypto's; names that differ in their bytes still go through the
preparation (a name may be written in two ways and be equal), and its
answer for that pair of encodings is remembered (a pure function of the
two) until ``forget`` (each verification starts with it: what one report
costs does not depend on the ones before) or 4096 pairs. A name's
``hashable`` form (the key pyhanko-certvalidator files certificates under,
the same preparation again, recomputed on every read) is remembered by its
encoding likewise.

Process-wide and idempotent, like ``pdf_hex``; the benchmark takes it out
for its stock-pyHanko rounds (benchmarks/verify.py).
"""

from __future__ import annotations

import threading

from asn1crypto import x509 as asn1_x509

_original = asn1_x509.Name.__eq__
_original_hashable = asn1_x509.Name.hashable
_lock = threading.Lock()
_known: dict[tuple[bytes, bytes], bool] = {}
_hashables: dict[bytes, str] = {}
_KNOWN_AT_MOST = 4096


def _equal(self: asn1_x509.Name, other: object) -> bool:
    if not isinstance(other, asn1_x509.Name):
        return _original(self, other)
    pair = (self.dump(), other.dump())
    if pair[0] == pair[1]:
        return True
    answer = _known.get(pair)
    if answer is None:
        answer = _original(self, other)
        if len(_known) >= _KNOWN_AT_MOST:
            _known.clear()
        _known[pair] = answer
    return answer


def _hashable(self: asn1_x509.Name) -> str:
    der = self.dump()
    value = _hashables.get(der)
    if value is None:
        value = _original_hashable.fget(self)  # type: ignore[union-attr]
        if len(_hashables) >= _KNOWN_AT_MOST:
            _hashables.clear()
        _hashables[der] = value
    return value


def forget() -> None:
    """Drop the remembered comparisons and forms (a verification starts with none)."""
    _known.clear()
    _hashables.clear()


def install() -> None:
    """Compare names byte for byte before asn1crypto's string preparation (idempotent, process-wide)."""
    with _lock:
        asn1_x509.Name.__eq__ = _equal  # type: ignore[method-assign]
        asn1_x509.Name.hashable = property(_hashable)  # type: ignore[method-assign]


def uninstall() -> None:
    """Put asn1crypto's own comparison back (benchmarks measure stock pyHanko with it)."""
    with _lock:
        asn1_x509.Name.__eq__ = _original  # type: ignore[method-assign]
        asn1_x509.Name.hashable = _original_hashable  # type: ignore[method-assign]


__all__ = ["forget", "install", "uninstall"]
