"""The algorithm sunset table (signing/verification/algorithms.py, issue 14 item 1): its dates and their sources.

Checked on 2026-12-07 against ETSI TS 119 312 V2.1.1 (2026-06) Annex D
("suggested cryptographic constraint", Tables D.1 and D.2) and EU DSS's
default validation policy (constraint.xml); every row names its source and
its version, so a reader can check it again.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from signing.verification.algorithms import NOT_APPLIED, SUNSETS, sunset_of_digest, sunset_of_key

UTC = dt.timezone.utc


def _last_day(row) -> dt.date:  # noqa: ANN001
    assert row.after.time() == dt.time(23, 59, 59)
    return row.after.date()


@pytest.mark.parametrize(("digest", "last_day"), [
    ("md2", dt.date(2004, 12, 31)), ("md5", dt.date(2004, 12, 31)),
    ("sha1", dt.date(2012, 7, 31)), ("ripemd160", dt.date(2014, 7, 31)), ("sha224", dt.date(2025, 12, 31)),
])
def test_digest_sunsets_are_annex_d_or_eu_dss(digest, last_day) -> None:
    """Table D.1's "< 2012-08-01" for SHA-1 is relied on up to 2012-07-31 23:59:59 UTC, and so on."""
    assert _last_day(sunset_of_digest(digest)) == last_day


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512", "sha3_256", "kz_streebog512"])
def test_digests_still_recommended_have_no_sunset(digest) -> None:
    assert sunset_of_digest(digest) is None


def _public(key) -> asn1_keys.PublicKeyInfo:  # noqa: ANN001
    return asn1_keys.PublicKeyInfo.load(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


@pytest.mark.parametrize(("key", "last_day"), [
    (lambda: rsa.generate_private_key(65537, 1024), dt.date(2019, 9, 30)),
    (lambda: ec.generate_private_key(ec.SECP192R1()), dt.date(2012, 7, 31)),
    (lambda: ec.generate_private_key(ec.SECP224R1()), dt.date(2021, 9, 30)),
    (lambda: rsa.generate_private_key(65537, 2048), None),
    (lambda: ec.generate_private_key(ec.SECP256R1()), None),
], ids=["rsa1024", "p192", "p224", "rsa2048", "p256"])
def test_key_sunsets_are_annex_d_table_d2(key, last_day) -> None:
    row = sunset_of_key(_public(key()))
    assert (_last_day(row) if row is not None else None) == last_day


def test_every_row_names_its_source_and_version() -> None:
    for row in SUNSETS + NOT_APPLIED:
        assert re.search(r"ETSI TS 119 312 V\d+\.\d+\.\d+ Annex D Table D\.[12]|EU DSS default policy constraint\.xml",
                         row.source), row


def test_rsa_below_3000_bits_is_known_and_deliberately_not_applied() -> None:
    """Annex D / SOG-IS ACM v1.3: RSA < 3000 bits legacy until 2025-12-31; DOMAIN.md KZ-5 keeps 2048-bit users' keys."""
    (row,) = NOT_APPLIED
    assert (row.what, row.below_bits, _last_day(row)) == ("rsa", 3000, dt.date(2025, 12, 31))
    assert "KZ-5" in row.source and row not in SUNSETS
