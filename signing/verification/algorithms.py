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

The dates (checked on 2026-12-07; each row names its source and version):
ETSI TS 119 312 V2.1.1 (2026-06) "Cryptographic Suites", Annex D, gives
for every algorithm and key size it stopped recommending a "suggested
cryptographic constraint" meant for exactly this, validation in the past
on proofs of existence (EN 319 102-1 §5): Table D.1 for digests, Table D.2
for key sizes. Those rows rule here. Algorithms Annex D does not list (MD2,
MD5) keep EU DSS's default validation policy (``constraint.xml``,
``AlgoExpirationDate``, taken from ETSI TS 102 176-1 V2.1.1). EU DSS's
validation tests expect SHA-1 to expire at Annex D's 2012-08-01 since it
took up ETSI TS 119 312 V1.5.1 (``etsiTS119312V151UpdateTest``; its older
``constraint.xml`` said 2009), so the two agree there; for RSA-1024/1536 and DSA-1024 the older DSS policy
(2009, 2016, 2013) is stricter than Annex D, and Annex D, the newer text,
is followed. EU DSS's dates for the algorithms still recommended (SHA-256,
RSA-3000, ECDSA-256: 2029) are the horizon of the recommendation, not a
sunset, and are not applied.

One row of Annex D is known and deliberately not applied (``NOT_APPLIED``):
RSA keys below 3000 bits, "legacy" until 2025-12-31 (Table D.2; the SOG-IS
Agreed Cryptographic Mechanisms v1.3 likewise, as the German supervisory
body, the Bundesnetzagentur, reminded trust service providers on
2024-09-06). DOMAIN.md KZ-5 prescribes 2048-bit RSA for users'
certificates in Kazakhstan, so applying it would call every RSA signature
the national CA's users make today INDETERMINATE; that is a decision for the
validation policy's owner, not a correction of a date. BSI TR-02102-1
(RSA >= 3000 bits from 2024, RSA >= 2000 bits conformant until the end of
2023) is a recommendation for new keys, not a validation constraint, and
is not applied either.

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

from signing.verification.plain_ecdsa import plain_digest
from signing.verification.words import sunset

_UTC = dt.timezone.utc


def _before(year: int, month: int, day: int) -> dt.datetime:
    """The last moment relied on when a source says "< year-month-day"."""
    return dt.datetime(year, month, day, tzinfo=_UTC) - dt.timedelta(seconds=1)


@dataclass(frozen=True)
class Sunset:
    what: str              # a digest ("sha1") or a key family ("rsa", "ec", "dsa")
    below_bits: int | None  # for a key: sizes below this many bits; None for a digest
    after: dt.datetime      # not relied on after this moment
    source: str


_D1 = "ETSI TS 119 312 V2.1.1 Annex D Table D.1"
_D2 = "ETSI TS 119 312 V2.1.1 Annex D Table D.2"
_DSS = "EU DSS default policy constraint.xml"

# The table. Digests and keys not listed (SHA-256/384/512, SHA-3, SHAKE, RSA >= 1900, ECDSA >= 256,
# Ed25519, Ed448, the GOST algorithms of DOMAIN.md KZ-5) have no sunset in this policy.
SUNSETS: tuple[Sunset, ...] = (
    # MD2 and MD5: not in ETSI TS 119 312; EU DSS: expired 2005 ("the same as for MD5"; ETSI TS 102 176-1 V2.1.1).
    Sunset("md2", None, _before(2005, 1, 1), f"{_DSS}, MD2 2005"),
    Sunset("md5", None, _before(2005, 1, 1), f"{_DSS}, MD5 2005, after ETSI TS 102 176-1 V2.1.1"),
    # Last recommended in ETSI TS 102 176-1 V2.0.0 (2007-11) for 1 year; Annex D: < 2012-08-01 (was 2009-12-31 here).
    Sunset("sha1", None, _before(2012, 8, 1), _D1),
    # Last recommended in ETSI TS 119 312 V1.5.1 as legacy; Annex D: < 2026-01-01 (DSS constraint.xml: 2026 too).
    Sunset("sha224", None, _before(2026, 1, 1), _D1),
    # ETSI TS 102 176-1 V2.0.0, 3 years; Annex D: < 2014-08-01 (was 2011-12-31 here).
    Sunset("ripemd160", None, _before(2014, 8, 1), _D1),
    # RSA below 1024 bits: the 786-bit row, factored 2010 (Annex D: < 2010-08-01; was 2008-12-31 here).
    Sunset("rsa", 1024, _before(2010, 8, 1), _D2),
    # RSA 1024 and 1536 bits: Annex D: < 2019-10-01 for both (was 2009-12-31 here).
    Sunset("rsa", 1900, _before(2019, 10, 1), _D2),
    # DSA 1024 bits: ETSI TS 102 176-1 V2.1.1, 1 year; Annex D: < 2015-12-01 (was 2015-12-31 here).
    Sunset("dsa", 2048, _before(2015, 12, 1), _D2),
    # ECDSA 163 bits (and anything else below 224): Annex D: < 2012-08-01 (was 2012-12-31 here).
    Sunset("ec", 224, _before(2012, 8, 1), _D2),
    # ECDSA 224 bits: ETSI TS 119 312 V1.1.1, 3 years; Annex D: < 2021-10-01 (was 2025-12-31 here).
    Sunset("ec", 256, _before(2021, 10, 1), _D2),
)

# Known and not applied (see the module's docstring): RSA 1900-2999 bits, legacy until 2025-12-31.
NOT_APPLIED: tuple[Sunset, ...] = (
    Sunset("rsa", 3000, _before(2026, 1, 1), f"{_D2}; SOG-IS ACM v1.3; not applied: DOMAIN.md KZ-5"),
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
            # plain ECDSA (plain_ecdsa.py) names its digest; otherwise it comes from digestAlgorithm
            hash_name = plain_digest(algo["algorithm"].dotted)
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

__all__ = ["CMS_POLICY", "NOT_APPLIED", "POLICY", "SUNSETS", "Sunset", "SunsetPolicy", "past_sunset", "sunset_of_digest",
           "sunset_of_key"]
