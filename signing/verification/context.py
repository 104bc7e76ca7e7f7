"""Trust anchors, the validation data a document carries, and validation contexts at a moment.

A signature is validated at its best signature time (the genTime of a
trusted time-stamp over it), not at "now": the revocation data embedded at
signing (DSS, PAdES B-LT) speaks of that moment, and a certificate revoked or
expired after it does not undo the signature (ETSI EN 319 102-1 §5.5). Each
moment gets its own pyhanko-certvalidator ``ValidationContext``; the
anchors and the document's certificates, OCSP responses and CRLs are read
once per document and shared.

Revocation data issued after the moment is accepted (``retroactive_revinfo``):
a "good" answer given later proves the certificate was not revoked earlier,
because revocation cannot be undone in this PKI (no certificate hold; see
docs/DECISIONS.md "Verification").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors

from ca.cms import SIGNATURE_VERIFIER, digest_algorithm_accepted, signature_algorithm_name
from signing.verification.algorithms import POLICY
from signing.verification.plain_ecdsa import PlainEcdsaValidator, plain_digest
from signing.verification.report import (
    CERTIFICATE_CHAIN_GENERAL_FAILURE,
    NOT_YET_VALID,
    OUT_OF_BOUNDS_NO_POE,
    REVOKED_CA_NO_POE,
    REVOKED_NO_POE,
    TRY_LATER,
)
# What a caller gives a verification, defined apart so that reading it needs no pyHanko (start-up, issue 21).
from signing.verification.inputs import (
    TrustAnchors,
    UnreadableCertificate,
    UnverifiableInput,
    VerificationOptions,
    read_certificates,
)
from signing.verification.words import why_unreadable

log = logging.getLogger(__name__)

# KZ-2: a document signature needs a SIGN certificate (nonRepudiation).
SIGNING_KEY_USAGE = KeyUsageConstraints(key_usage={"non_repudiation"})



_OUR_CODE = str(Path(__file__).resolve().parent)


def raised_here(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by our own code rather than inside a parser or library.

    Hostile input makes pyHanko, asn1crypto or cryptography raise anything;
    those become an entry or a refusal. An exception raised in signing/ itself
    is a bug of ours and must not be dressed up as a verdict on the input.
    """
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename.startswith(_OUR_CODE)


@dataclass
class Evidence:
    """Certificates and revocation data carried by the input (DSS, CMS certificates and CRLs)."""

    certificates: list[asn1_x509.Certificate] = field(default_factory=list)
    ocsps: list[asn1_ocsp.OCSPResponse] = field(default_factory=list)
    crls: list[asn1_crl.CertificateList] = field(default_factory=list)

    def plus(self, other: "Evidence") -> "Evidence":
        return Evidence(self.certificates + other.certificates, self.ocsps + other.ocsps, self.crls + other.crls)

    @property
    def has_revocation_data(self) -> bool:
        return bool(self.ocsps or self.crls)

    def covers(self, cert: asn1_x509.Certificate) -> bool:
        """Whether an OCSP response or a CRL here speaks about ``cert``."""
        issuer = cert.issuer.dump()
        for response in self.ocsps:
            try:
                basic = response["response_bytes"]["response"].parsed
                for single in basic["tbs_response_data"]["responses"]:
                    cert_id = single["cert_id"]
                    name = cert_id["hash_algorithm"]["algorithm"].native
                    if cert_id["serial_number"].native == cert.serial_number and \
                            hashlib.new(name, issuer).digest() == cert_id["issuer_name_hash"].native:
                        return True
            except (ValueError, TypeError, KeyError):
                continue
        for crl in self.crls:
            try:
                if crl.issuer.dump() == issuer:
                    return True
            except (ValueError, TypeError, KeyError):
                continue
        return False


# ca's algorithm table, plus plain-format ECDSA (BSI TR-03111), which only verification meets.
_VERIFIER = PlainEcdsaValidator(SIGNATURE_VERIFIER)


@dataclass
class ContextFactory:
    """Validation contexts at chosen moments, over one document's evidence."""

    anchors: TrustAnchors
    evidence: Evidence
    fetcher_backend: object | None = None   # pyHanko's fetcher backend when live fetching is allowed

    @property
    def online(self) -> bool:
        return self.fetcher_backend is not None

    def at(self, moment: dt.datetime, extra: Evidence | None = None) -> ValidationContext:
        evidence = self.evidence.plus(extra) if extra else self.evidence
        return ValidationContext(
            trust_roots=list(self.anchors.certificates), other_certs=evidence.certificates,
            moment=moment, ocsps=evidence.ocsps, crls=evidence.crls,
            allow_fetching=self.online, fetcher_backend=self.fetcher_backend,
            # hard-fail: a certificate that names an OCSP responder or a CRL
            # must have its status answered (from the document, or online).
            revocation_mode="hard-fail", retroactive_revinfo=True,
            signature_validator=_VERIFIER,
            # algorithms.py: digests and keys past their sunset date at the moment (EN 319 102-1 §5.2.8).
            algorithm_usage_policy=POLICY)


def algorithm_problem(signer_info) -> str | None:  # noqa: ANN001 - asn1crypto SignerInfo
    """Why the signature's algorithms cannot be checked here, or None when they can.

    A signature in an algorithm we do not implement is not a broken
    signature: the report says INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE,
    not TOTAL-FAILED. What we check is ca.cms's algorithm table (RSA, ECDSA
    and the Kazakh GOST algorithms, DOMAIN.md KZ-5), plus whatever else
    pyHanko can check on its own.
    """
    from pyhanko.sign.general import get_pyca_cryptography_hash

    digest = signer_info["digest_algorithm"]["algorithm"]
    signature = signer_info["signature_algorithm"]["algorithm"]
    if signature_algorithm_name(signature.dotted) is not None and digest_algorithm_accepted(digest.native):
        return None
    try:
        get_pyca_cryptography_hash(digest.native)
        if plain_digest(signature.dotted) is not None:
            return None      # plain_ecdsa.py checks it
        signer_info["signature_algorithm"].signature_algo  # noqa: B018 - raises for an unknown mechanism
    except (ValueError, KeyError, AttributeError, NotImplementedError):
        return f"the algorithm {signature.dotted} with digest {digest.dotted} is not supported"
    return None


async def diagnose(cert: asn1_x509.Certificate, others, context: ValidationContext,  # noqa: ANN001
                   has_poe: bool) -> tuple[str, str]:
    """(sub-indication, reason) for a chain pyHanko reported only as a general failure.

    pyHanko folds "no revocation data" and "not yet valid" into
    CERTIFICATE_CHAIN_GENERAL_FAILURE; validating the path once more tells
    them apart (only on this failure path, so it costs nothing otherwise).
    """
    # An expired certificate's status is moot (CAs drop expired certificates
    # from their CRLs, RFC 5280 §3.3): its validity period is said first.
    moment = context.moment
    validity = cert["tbs_certificate"]["validity"]
    if moment > validity["not_after"].native:
        return OUT_OF_BOUNDS_NO_POE, f"the certificate expired on {validity['not_after'].native.isoformat()}"
    if moment < validity["not_before"].native:
        return (NOT_YET_VALID if has_poe else OUT_OF_BOUNDS_NO_POE), \
            f"the certificate is valid only from {validity['not_before'].native.isoformat()}"
    validator = CertificateValidator(cert, intermediate_certs=list(others), validation_context=context)
    try:
        await validator.async_validate_usage(set())
    except cv_errors.InsufficientRevinfoError as exc:
        return TRY_LATER, f"no usable revocation data: {exc}"
    except cv_errors.NotYetValidError as exc:
        return (NOT_YET_VALID if has_poe else OUT_OF_BOUNDS_NO_POE), str(exc)
    except cv_errors.ExpiredError as exc:
        return OUT_OF_BOUNDS_NO_POE, str(exc)
    except cv_errors.RevokedError as exc:
        return (REVOKED_NO_POE if exc.is_ee_cert else REVOKED_CA_NO_POE), str(exc)
    except (cv_errors.ValidationError, cv_errors.PathError) as exc:
        return CERTIFICATE_CHAIN_GENERAL_FAILURE, str(exc)
    except (ValueError, TypeError, KeyError) as exc:
        return CERTIFICATE_CHAIN_GENERAL_FAILURE, f"the certificate path could not be validated: {why_unreadable(exc)}"
    return CERTIFICATE_CHAIN_GENERAL_FAILURE, "the certificate path could not be validated"


__all__ = ["ContextFactory", "Evidence", "SIGNING_KEY_USAGE", "TrustAnchors", "UnreadableCertificate",
           "UnverifiableInput", "VerificationOptions", "algorithm_problem", "diagnose", "raised_here",
           "read_certificates"]
