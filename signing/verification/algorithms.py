"""The validation policy for algorithms: which digest and key may be relied on, until when (the one table).

ETSI EN 319 102-1 §5.2.8 (cryptographic constraints) and §5.6.2.5 (past
signature validation): an algorithm (or a key size) has a date up to which
it is considered secure. Material made before that date and proven to be
(a trusted time-stamp, an archive time-stamp) is judged as of its proven
time; without such a proof it is judged at the validation time. After the
date the answer is INDETERMINATE: CRYPTO_CONSTRAINTS_FAILURE_NO_POE when
nothing proves the material is older than the date, CRYPTO_CONSTRAINTS_FAILURE
when a time-stamp proves it was made after the date (EN 319 102-1 Table 5).
A legacy algorithm is still checked cryptographically: a SHA-1 signature
that does not verify is TOTAL-FAILED like any other.

The dates are those of EU DSS's default validation policy
(``constraint.xml``, ``AlgoExpirationDate``), which takes them from ETSI
TS 119 312 ("Cryptographic Suites") and its predecessor ETSI TS 102 176-1
(V2.0.0, 2007: SHA-1 and 1024-bit RSA for signatures until the end of
2009), cross-checked with the SOG-IS "Agreed Cryptographic Mechanisms"
(v1.3, 2023), which lists SHA-1, MD5 and RIPEMD-160 as not agreed for
signatures and keeps RSA >= 1900 bits and ECDSA on 256-bit curves agreed.
A row is a digest (asn1crypto's name) or a key (family, below how many
bits). pyHanko applies the table to the signature, its time-stamps, the
certificates and the revocation data alike (``ValidationContext``'s
``algorithm_usage_policy``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from asn1crypto import algos
from asn1crypto import keys as asn1_keys
from pyhanko.sign.validation.utils import CMSAlgorithmUsagePolicy
from pyhanko_certvalidator.policy_decl import AlgorithmUsageConstraint, AlgorithmUsagePolicy

from signing.verification.words import sunset

_UTC = dt.timezone.utc


def _end_of(year: int) -> dt.datetime:
    return dt.datetime(year, 12, 31, 23, 59, 59, tzinfo=_UTC)


@dataclass(frozen=True)
class Sunset:
    what: str              # a digest ("sha1") or a key family ("rsa", "ec", "dsa")
    below_bits: int | None  # for a key: sizes below this many bits; None for a digest
    after: dt.datetime      # not relied on after this moment
    source: str


# The table. Digests and keys not listed (SHA-2, SHA-3, SHAKE, RSA >= 1900, ECDSA >= 256,
# Ed25519, Ed448, the GOST algorithms of DOMAIN.md KZ-5) have no sunset in this policy.
SUNSETS: tuple[Sunset, ...] = (
    Sunset("md2", None, _end_of(2004), "ETSI TS 102 176-1 V2.0.0; EU DSS constraint.xml"),
    Sunset("md5", None, _end_of(2004), "ETSI TS 102 176-1 V2.0.0; EU DSS constraint.xml; SOG-IS ACM v1.3"),
    Sunset("sha1", None, _end_of(2009), "ETSI TS 102 176-1 V2.0.0; EU DSS constraint.xml; SOG-IS ACM v1.3"),
    Sunset("ripemd160", None, _end_of(2011), "EU DSS constraint.xml; SOG-IS ACM v1.3"),
    Sunset("rsa", 1024, _end_of(2008), "ETSI TS 102 176-1 V2.0.0; EU DSS constraint.xml"),
    Sunset("rsa", 1900, _end_of(2009), "ETSI TS 102 176-1 V2.0.0 (1024-bit RSA); EU DSS constraint.xml"),
    Sunset("dsa", 2048, _end_of(2015), "ETSI TS 119 312; EU DSS constraint.xml"),
    Sunset("ec", 224, _end_of(2012), "ETSI TS 119 312; EU DSS constraint.xml"),
    Sunset("ec", 256, _end_of(2025), "ETSI TS 119 312 (224-bit curves); SOG-IS ACM v1.3"),
)


_KEY_FAMILIES = frozenset(s.what for s in SUNSETS if s.below_bits is not None)


def sunset_of_digest(name: str) -> Sunset | None:
    return next((s for s in SUNSETS if s.below_bits is None and s.what == name), None)


def sunset_of_key(public_key: asn1_keys.PublicKeyInfo | None) -> Sunset | None:
    if public_key is None:
        return None
    try:
        family = {"rsassa_pss": "rsa"}.get(public_key.algorithm, public_key.algorithm)
        if family not in _KEY_FAMILIES:
            return None      # Ed25519, Ed448, GOST: no key-size rows (asn1crypto cannot size them either)
        bits = public_key.bit_size
    except (ValueError, KeyError, TypeError):
        return None
    fitting = [s for s in SUNSETS if s.what == family and s.below_bits is not None and bits < s.below_bits]
    return min(fitting, key=lambda s: s.after, default=None)


def _judge(row: Sunset | None, moment: dt.datetime | None, what: str) -> AlgorithmUsageConstraint:
    if row is None or (moment is not None and moment <= row.after):
        return AlgorithmUsageConstraint(allowed=True)
    return AlgorithmUsageConstraint(allowed=False, not_allowed_after=row.after, failure_reason=sunset_reason(row, what))


def sunset_reason(row: Sunset, what: str) -> str:
    return sunset(what, row.after.date(), row.source)


def past_sunset(signer_info, public_key, path, moment: dt.datetime) -> str | None:  # noqa: ANN001
    """The verdict's reason when the signature (or a certificate of its path) is past a sunset at ``moment``."""
    digest = signer_info["digest_algorithm"]["algorithm"].native
    row = sunset_of_digest(digest)
    if row is not None and moment > row.after:
        return sunset_reason(row, f"the digest algorithm {digest.upper()}")
    row = sunset_of_key(public_key)
    if row is not None and moment > row.after:
        return sunset_reason(row, f"a {public_key.algorithm.upper()} key of {public_key.bit_size} bits")
    for cert in (path.iter_certs(include_root=False) if path is not None else ()):
        try:
            hash_name = cert["signature_algorithm"].hash_algo
        except (ValueError, KeyError):
            continue
        row = sunset_of_digest(hash_name)
        if row is not None and moment > row.after:
            return sunset_reason(row, f"the digest algorithm {hash_name.upper()} in the certificate of "
                                      f"{cert.subject.human_friendly}")
    return None


class SunsetPolicy(AlgorithmUsagePolicy):
    """pyHanko's algorithm policy hook, answering from ``SUNSETS`` at the moment pyHanko asks about."""

    def digest_algorithm_allowed(self, algo: algos.DigestAlgorithm,
                                 moment: dt.datetime | None) -> AlgorithmUsageConstraint:
        name = algo["algorithm"].native
        return _judge(sunset_of_digest(name), moment, f"the digest algorithm {name}")

    def signature_algorithm_allowed(self, algo: algos.SignedDigestAlgorithm, moment: dt.datetime | None,
                                    public_key: asn1_keys.PublicKeyInfo | None) -> AlgorithmUsageConstraint:
        try:
            hash_name = algo.hash_algo
        except (ValueError, KeyError):
            hash_name = None       # the digest comes from digestAlgorithm, or the OID is not asn1crypto's
        if hash_name is not None:
            verdict = _judge(sunset_of_digest(hash_name), moment, f"the digest algorithm {hash_name}")
            if not verdict:
                return verdict
        row = sunset_of_key(public_key)
        what = f"a {public_key.algorithm.upper()} key of {public_key.bit_size} bits" if row is not None else ""
        return _judge(row, moment, what)


# One instance for the certificate validation (ValidationContext) and the CMS checks (pyHanko's validators).
POLICY = SunsetPolicy()
CMS_POLICY = CMSAlgorithmUsagePolicy.lift_policy(POLICY)

__all__ = ["CMS_POLICY", "POLICY", "SUNSETS", "Sunset", "SunsetPolicy", "past_sunset", "sunset_of_digest",
           "sunset_of_key"]
