"""Linting at issuance (off by default): pkilint's RFC 5280 verdict, in-process."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ca.lint import LintFailed, blocking_findings, check


def _certificate(key_encipherment: bool) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "lint test")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now)
               .not_valid_after(now + dt.timedelta(days=30))
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
               .add_extension(x509.KeyUsage(True, False, key_encipherment, False, False, False, False, False, False),
                              critical=True))
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_lint_refuses_an_ec_key_with_key_encipherment():
    """RFC 5480 §3 forbids keyEncipherment for an EC key; pkilint calls it an error."""
    assert any("key_usage" in p.message for p in blocking_findings(_certificate(True)))
    with pytest.raises(LintFailed):
        check(_certificate(True))


def test_lint_passes_a_clean_certificate():
    assert blocking_findings(_certificate(False)) == []
