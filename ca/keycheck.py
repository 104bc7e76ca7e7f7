"""Checks on a holder's public key and its proof of possession (the CSR).

RSA and ECDSA requests are read and checked by ``cryptography``; a request
with a GOST key (issue 7) by asn1crypto and our GOST verifier, since
``cryptography`` cannot load the key.
"""

from __future__ import annotations

import warnings

from asn1crypto import csr as asn1_csr
from asn1crypto import pem
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes

from ca.errors import Problem
from keys.gost import TC26_256_A, TC26_512_A, GostPublicKey, UnsupportedGostAlgorithm, is_gost_key, public_key
from keys.gost import verify as gost_verify

ACCEPTED_CURVES = {"secp256r1", "secp384r1"}
MIN_RSA_BITS = 2048  # KZ-5: 2048-bit RSA for users
# KZ-5: GOST R 34.10-2015 on the curves the NCA issues for (its 512-bit and 256-bit parameter sets).
ACCEPTED_GOST_CURVES = (TC26_512_A, TC26_256_A)


def key_problems(public_key: object, field: str = "csr") -> list[Problem]:
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            return [Problem(field, f"RSA key of {public_key.key_size} bits is too weak; at least {MIN_RSA_BITS}")]
        if public_key.public_numbers().e != 65537:
            return [Problem(field, "RSA public exponent must be 65537")]
        return []
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in ACCEPTED_CURVES:
            return [Problem(field, f"curve {public_key.curve.name} is not accepted; use P-256 or P-384")]
        return []
    if isinstance(public_key, GostPublicKey):
        if public_key.curve not in ACCEPTED_GOST_CURVES:
            return [Problem(field, f"GOST curve {public_key.curve.name} is not accepted; use GOST R 34.10-2015 "
                                   "256 or 512 (KZ-5)")]
        return []
    return [Problem(field, f"key type {type(public_key).__name__} is not supported")]


# What cryptography raises for a malformed certificate or request: ValueError for bad DER,
# InvalidVersion (not a ValueError) for a version field out of range, UnsupportedAlgorithm
# for an unknown curve or key type. Found by tests/integration/test_fuzz_parsers.py.
MALFORMED_X509 = (ValueError, TypeError, x509.InvalidVersion, UnsupportedAlgorithm)


def load_certificate(data: bytes) -> x509.Certificate:
    """A PEM or DER certificate whose names, serial and extensions parse; ValueError otherwise.

    cryptography parses the subject, issuer and extensions lazily, so they are
    touched here: a malformed name must fail now, not in the caller's later use.
    """
    try:
        cert = (x509.load_pem_x509_certificate(data) if data.lstrip().startswith(b"-----BEGIN")
                else x509.load_der_x509_certificate(data))
        with warnings.catch_warnings():
            # The NCA RK's own issuer names ("ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022", 44 characters) are
            # longer than 64 bytes in UTF-8; cryptography warns about the bytes, RFC 5280's bound counts characters.
            warnings.filterwarnings("ignore", message="Attribute's length must be", category=UserWarning)
            cert.subject, cert.issuer, cert.serial_number, cert.extensions  # noqa: B018 - parse now
        return cert
    except MALFORMED_X509:
        raise ValueError("not a PEM or DER X.509 certificate: its bytes do not form an X.509 certificate "
                         "(RFC 5280)") from None


def csr_der(data: bytes) -> bytes:
    """The request in DER, whichever encoding it came in (call after ``parse_csr`` accepted it)."""
    if data.lstrip().startswith(b"-----"):
        return pem.unarmor(data.strip())[2]
    return data


def parse_csr(data: bytes, field: str = "csr") -> tuple[CertificateIssuerPublicKeyTypes | GostPublicKey | None,
                                                        list[Problem]]:
    """The CSR's public key if the request is well-formed, signed by that key and strong enough."""
    gost = _gost_request(data, field)
    if gost is not None:
        return gost
    try:
        csr = x509.load_pem_x509_csr(data) if data.lstrip().startswith(b"-----") else x509.load_der_x509_csr(data)
        csr.subject, csr.extensions  # noqa: B018 - parsed lazily; a malformed request fails here
    except MALFORMED_X509:
        return None, [Problem(field, "is not a PKCS#10 certificate request (PEM or DER)")]
    try:
        public_key = csr.public_key()
    except MALFORMED_X509:
        return None, [Problem(field, "its public key cannot be read")]
    problems = key_problems(public_key, field)
    try:
        if not csr.is_signature_valid:
            problems.append(Problem(field, "signature does not verify: no proof of possession of the private key"))
    except Exception:  # noqa: BLE001 - cryptography raises several types for exotic algorithms
        problems.append(Problem(field, "signature cannot be checked"))
    return (public_key if not problems else None), problems  # type: ignore[return-value]


def _gost_request(data: bytes, field: str) -> tuple[GostPublicKey | None, list[Problem]] | None:
    """The same checks for a request with a GOST key; None when the request's key is not GOST."""
    try:
        request = asn1_csr.CertificationRequest.load(csr_der(data))
        info = request["certification_request_info"]
        spki = info["subject_pk_info"]
        if not is_gost_key(spki):
            return None
    except (ValueError, TypeError, KeyError):
        return None  # cryptography's path reports what is wrong with it
    try:
        key = public_key(spki)
    except (ValueError, TypeError, KeyError, UnsupportedGostAlgorithm):
        return None, [Problem(field, "its GOST public key cannot be read")]
    problems = key_problems(key, field)
    try:
        gost_verify(spki, request["signature_algorithm"]["algorithm"].dotted, request["signature"].native,
                    info.dump())
    except InvalidSignature:
        problems.append(Problem(field, "signature does not verify: no proof of possession of the private key"))
    except (UnsupportedGostAlgorithm, ValueError):
        problems.append(Problem(field, "signature cannot be checked"))
    return (key if not problems else None), problems
