"""Is this certificate valid at a moment, under these trust anchors?

One certificate's signature and chain, for any algorithm we verify (RSA,
ECDSA, GOST 2015 and 2004): path building and RFC 5280 §6 validation are
pyhanko-certvalidator's, with our GOST-aware signature hook. A trust anchor
may be a root or an intermediate (a path simply ends at it). Revocation is
not checked here: no network, and the CRL and OCSP commands answer that.

Malformed input raises :class:`ca.errors.InvalidInput`; a well-formed
certificate that does not validate is a result with ``valid`` False and
one sentence saying why.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from asn1crypto import pem, x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)

from ca.errors import InvalidInput
from keys.gost import GOST_SIGNATURE_VALIDATOR

__all__ = ["CertificateCheck", "check_certificate", "read_certificates"]


@dataclass(frozen=True)
class CertificateCheck:
    valid: bool
    reason: str | None
    subject: str
    issuer: str
    serial: str
    signature_algorithm: str
    not_before: dt.datetime
    not_after: dt.datetime
    at: dt.datetime
    path: tuple[str, ...]  # subjects from the trust anchor down to the certificate, when valid

    def as_json(self) -> dict:
        return {"valid": self.valid, "reason": self.reason, "subject": self.subject, "issuer": self.issuer,
                "serial": self.serial, "signature_algorithm": self.signature_algorithm,
                "not_before": self.not_before.isoformat(), "not_after": self.not_after.isoformat(),
                "at": self.at.isoformat(), "path": list(self.path)}


def read_certificates(data: bytes, what: str) -> list[x509.Certificate]:
    """Every certificate of a PEM file (one or more blocks) or the one of a DER file."""
    try:
        if pem.detect(data):
            blocks = [der for kind, _headers, der in pem.unarmor(data, multiple=True)
                      if kind in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE")]
        else:
            blocks = [data]
        certificates = [x509.Certificate.load(der, strict=True) for der in blocks]
        for cert in certificates:
            cert.native  # asn1crypto parses lazily: force it, so a broken field shows here
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        raise InvalidInput(f"the {what} is not a certificate in PEM or DER: its bytes do not form an X.509 "
                           "certificate (RFC 5280)") from None
    if not certificates:
        raise InvalidInput(f"the {what} holds no certificate")
    return certificates


def _reason(error: Exception) -> str:
    if isinstance(error, PathBuildingError):
        return "no chain to a trust anchor: the certificate was not issued by a given anchor or its chain"
    if isinstance(error, ExpiredError):
        return "outside its validity period at the given time (expired)"
    if isinstance(error, NotYetValidError):
        return "outside its validity period at the given time (not yet valid)"
    if isinstance(error, RevokedError):
        return "revoked"
    message = " ".join(str(error).split()).rstrip(".")
    if "signature" in message and "could not be verified" in message:
        return "the issuer's signature does not verify"
    return message or "the certificate path could not be validated"


def check_certificate(certificate: x509.Certificate, anchors: list[x509.Certificate], at: dt.datetime,
                      intermediates: list[x509.Certificate] = ()) -> CertificateCheck:
    """Validate ``certificate`` at ``at``; ``intermediates`` may help build the path but are not trusted."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    context = ValidationContext(trust_roots=anchors, moment=at, allow_fetching=False,
                                revocation_mode="soft-fail", signature_validator=GOST_SIGNATURE_VALIDATOR)
    validator = CertificateValidator(certificate, intermediate_certs=list(intermediates), validation_context=context)
    reason, path = None, ()
    try:
        found = asyncio.run(validator.async_validate_path())
        path = tuple(c.subject.human_friendly for c in found.iter_certs(include_root=True))
    except (PathBuildingError, PathValidationError, InvalidCertificateError) as error:
        reason = _reason(error)
    tbs = certificate["tbs_certificate"]
    validity = tbs["validity"]
    return CertificateCheck(
        valid=reason is None, reason=reason, subject=certificate.subject.human_friendly,
        issuer=certificate.issuer.human_friendly, serial=format(certificate.serial_number, "x"),
        signature_algorithm=certificate["signature_algorithm"]["algorithm"].native,
        not_before=validity["not_before"].native, not_after=validity["not_after"].native, at=at, path=path)
