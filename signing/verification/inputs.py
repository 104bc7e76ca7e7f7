"""What a verification is given: the input's limits, the options, the trust anchors (issue 6).

The plain data a caller builds before anything is verified, apart from the
verifier itself: reading these needs asn1crypto, not pyHanko, so ``qoltanba
verify`` reads its settings and the home's trust store while its worker
process imports the verifier (start-up, issue 21; signing/verification/
sandbox.py). ``context`` and ``verifier`` re-export every name, where they
were first defined.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509

from ca.errors import QoltanbaError
from signing.verification.certs import certificate_view
from signing.verification.report import CertificateView
from signing.verification.words import why_unreadable

_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.DOTALL)


class UnreadableCertificate(ValueError):
    pass


class UnverifiableInput(QoltanbaError):
    """The input cannot be processed at all: not a PDF or CMS, unreadable, too large or too slow.

    A signature that is merely broken is no such error: it gets a report
    with TOTAL-FAILED.
    """

    def __init__(self, detail: str) -> None:
        super().__init__("unverifiable", detail, [])


@dataclass(frozen=True)
class VerificationOptions:
    """How to verify: at which time, whether to fetch revocation data, how strictly to read PDFs."""

    at: dt.datetime | None = None     # the validation time; None: now (archived documents: a past time)
    online: bool = False              # fetch OCSP/CRL live for what the document does not carry
    fetch_timeout: float = 10.0       # seconds per OCSP/CRL request
    strict: bool = True               # pyHanko's strict PDF syntax (lenient reading takes more guesses)

    def __post_init__(self) -> None:
        if self.at is not None and self.at.tzinfo is None:
            raise ValueError("the validation time must carry a time zone")
        if self.fetch_timeout <= 0:
            raise ValueError("fetch_timeout must be positive")


def read_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    """Every certificate in a PEM bundle, or the one DER certificate."""
    blocks = _PEM_BLOCK.findall(data)
    ders = [asn1_pem.unarmor(b)[2] for b in blocks] if blocks else [data]
    certificates = []
    for der in ders:
        try:
            cert = asn1_x509.Certificate.load(der, strict=True)
            cert.native  # noqa: B018 - asn1crypto parses lazily; fail here, not during validation
        except (ValueError, TypeError, KeyError) as exc:
            raise UnreadableCertificate(f"not a PEM or DER X.509 certificate: {why_unreadable(exc)}") from None
        certificates.append(cert)
    if not certificates:
        raise UnreadableCertificate("no certificate found")
    return certificates


@dataclass(frozen=True)
class TrustAnchors:
    """The certificates a verification trusts: our root by default, plus imported ones."""

    certificates: tuple[asn1_x509.Certificate, ...] = ()

    @classmethod
    def from_der(cls, ders) -> "TrustAnchors":  # noqa: ANN001 - iterable of bytes
        unique = {d: asn1_x509.Certificate.load(d) for d in ders}
        return cls(tuple(unique.values()))

    def plus(self, other: "TrustAnchors") -> "TrustAnchors":
        known = {c.sha256 for c in self.certificates}
        return TrustAnchors(self.certificates + tuple(c for c in other.certificates if c.sha256 not in known))

    def der(self) -> tuple[bytes, ...]:
        return tuple(c.dump() for c in self.certificates)

    def views(self) -> tuple[CertificateView, ...]:
        return tuple(certificate_view(c) for c in self.certificates)


DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class VerificationLimits:
    """Bounds on one verification: what is read at all, before any parsing."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_detached_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if self.max_bytes < 1024 or self.max_detached_bytes < 1:
            raise ValueError("verification limits must allow at least 1 KiB")


def check_size(limits: VerificationLimits, data: bytes, detached: bytes | None) -> None:
    """Refuse an input over the limits before anything parses it."""
    if not data:
        raise UnverifiableInput("the input is empty")
    if len(data) > limits.max_bytes:
        raise UnverifiableInput(f"the input is {len(data)} bytes, over the limit of {limits.max_bytes}")
    if detached is not None and len(detached) > limits.max_detached_bytes:
        raise UnverifiableInput(f"the detached file is {len(detached)} bytes, over the limit of "
                                f"{limits.max_detached_bytes}")


__all__ = ["DEFAULT_MAX_BYTES", "TrustAnchors", "UnreadableCertificate", "UnverifiableInput", "VerificationLimits",
           "VerificationOptions", "check_size", "read_certificates"]
