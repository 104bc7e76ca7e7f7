"""Clients' EDS certificates from imported accredited centres (issue 5, LOAN-2).

LOAN-2 asks for "the client's EDS issued by an accredited Kazakh CA". Our
national CA is one, and its certificates are checked against our own
registry. Most clients, though, hold a certificate of another accredited
centre, above all the NCA RK's. Such a certificate is accepted, at
enrolment and again when it signs, only when every one of these holds:

- its path ends at a trust anchor an administrator imported into the trust
  store (issue 6). The intermediates come from the trust store and from
  the caIssuers URL in each certificate's Authority Information Access
  (RFC 5280 §4.2.2.1), fetched over HTTP the way NCALayer's users expect;
- it is within its validity period now, and is a SIGN certificate
  (nonRepudiation, DOMAIN.md KZ-2): a signature made with an AUTH
  certificate would verify as INDETERMINATE;
- its issuer's OCSP responder (or, failing that, its CRL) says it is not
  revoked. This fails closed: no answer, no acceptance. The answers fetched
  are the ones checked and, at signing, the ones embedded for B-LT;
- it names the client (the caller checks the IIN and BIN: see
  :func:`holder_problems`).

Every problem found is listed together (DOMAIN.md §4).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors

from ca.cms import SIGNATURE_VERIFIER
from ca.errors import InvalidInput, Problem
from signing.documents.metadata import LEGAL_ENTITY
from signing.pades import ValidationData
from signing.pades.validation_data import StatusUnavailable, ValidationDataCollector, fetch_url
from signing.stamps import holder_numbers

log = logging.getLogger(__name__)

_DER = serialization.Encoding.DER
# An accredited centre's hierarchy is two or three levels deep (NCA RK:
# root, then the issuing CA); more fetches than this is a loop or abuse.
_MAX_FETCHED_ISSUERS = 4
FIELD = "certificate"


@dataclass(frozen=True)
class AcceptedCertificate:
    """A client's certificate that passed every check, with what proved it."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]   # issuing CA first, the trust anchor last
    validation: ValidationData            # the certificates and revocation answers that were checked


def holder_problems(certificate: x509.Certificate, *, client_kind: str, iin: str | None,
                    bin_: str | None) -> list[Problem]:
    """The certificate must name the client: the person's IIN, and for a legal entity its BIN (KZ-1)."""
    named_iin, named_bin = holder_numbers(certificate)
    problems = []
    if client_kind == LEGAL_ENTITY:
        if named_bin != bin_:
            problems.append(Problem(FIELD, f"names another organisation than the client (BIN {bin_})"))
        if iin is not None and named_iin != iin:
            problems.append(Problem(FIELD, "names another person than the one who acts for the client (IIN)"))
    elif named_iin != iin:
        problems.append(Problem(FIELD, "names another person than the client (IIN)"))
    return problems


class AccreditedIssuers:
    """Checks a certificate of a centre outside our hierarchy against the imported trust anchors."""

    def __init__(self, anchors: Callable[[], Sequence[bytes]], collector: ValidationDataCollector, clock,
                 fetch: Callable[[str], bytes] = fetch_url) -> None:  # noqa: ANN001
        """``anchors()`` gives the trusted certificates (DER), read at each check so an import counts at once."""
        self.anchors = anchors
        self.collector = collector
        self.clock = clock
        self.fetch = fetch

    def accept(self, certificate: x509.Certificate, *, extra_problems: Sequence[Problem] = ()) -> AcceptedCertificate:
        """The certificate with its chain and revocation data, or InvalidInput listing every problem."""
        accepted, problems = self.check(certificate)
        problems = [*problems, *extra_problems]
        if problems:
            raise InvalidInput("the certificate is refused", problems)
        return accepted

    def check(self, certificate: x509.Certificate) -> tuple[AcceptedCertificate | None, list[Problem]]:
        now = self.clock.now()
        problems: list[Problem] = []
        in_period = certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc
        if now < certificate.not_valid_before_utc:
            problems.append(Problem(FIELD, f"is not valid yet (from {certificate.not_valid_before_utc.isoformat()})"))
        elif now > certificate.not_valid_after_utc:
            problems.append(Problem(FIELD, f"has expired ({certificate.not_valid_after_utc.isoformat()})"))
        if not _signs_documents(certificate):
            problems.append(Problem(FIELD, "is not a signing certificate: no nonRepudiation key usage (KZ-2)"))
        anchors = [asn1_x509.Certificate.load(d) for d in self.anchors()]
        leaf = _asn1(certificate)
        intermediates = self._intermediates(certificate, anchors)
        path, reason = _path(leaf, anchors, intermediates, now)
        if path is None:
            if reason is not None and (in_period or "validity" not in reason):
                problems.append(Problem(FIELD, reason))
            return None, problems
        chain = tuple(x509.load_der_x509_certificate(c.dump()) for c in path[1:])
        if problems:
            # Revocation is moot for a certificate refused already (RFC 5280 §3.3 for an expired one).
            return None, problems
        try:
            data = self.collector.collect([(certificate, *chain)])
        except StatusUnavailable as error:
            log.warning("revocation status unavailable: %s", error)
            problems.append(Problem(FIELD, "its revocation status cannot be obtained from its issuer (OCSP or "
                                           "CRL): refused until it can be checked"))
            return None, problems
        # Judged at the moment the answers are in hand: an answer made while it was fetched is not "too recent".
        revoked = _revocation_problem(leaf, anchors, intermediates, self.clock.now(), data)
        if revoked is not None:
            problems.append(Problem(FIELD, revoked))
            return None, problems
        return AcceptedCertificate(certificate, chain, data), problems

    def _intermediates(self, certificate: x509.Certificate,
                       anchors: list[asn1_x509.Certificate]) -> list[asn1_x509.Certificate]:
        """Issuers up to an anchor: fetched from each certificate's AIA caIssuers while none is known."""
        known = {a.subject.dump() for a in anchors}
        found: list[asn1_x509.Certificate] = []
        current = certificate
        for _ in range(_MAX_FETCHED_ISSUERS):
            if current.issuer.public_bytes() in known or current.issuer == current.subject:
                break
            issuer = None
            for url in _ca_issuers(current):
                try:
                    issuer = x509.load_der_x509_certificate(self.fetch(url))
                    break
                except (OSError, ValueError) as error:
                    log.warning("caIssuers %s failed: %s", url, error)
            if issuer is None or issuer.subject != current.issuer:
                break
            found.append(_asn1(issuer))
            known.add(issuer.subject.public_bytes())
            current = issuer
        return found


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(_DER))


def _signs_documents(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment
    except x509.ExtensionNotFound:
        return False


def _ca_issuers(certificate: x509.Certificate) -> list[str]:
    try:
        aia = certificate.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    except x509.ExtensionNotFound:
        return []
    return [d.access_location.value for d in aia
            if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
            and isinstance(d.access_location, x509.UniformResourceIdentifier)
            and d.access_location.value.startswith(("http://", "https://"))]


def _context(anchors, intermediates, moment: dt.datetime, data: ValidationData | None) -> ValidationContext:  # noqa: ANN001
    others = list(intermediates)
    ocsps, crls = [], []
    if data is not None:
        others += [asn1_x509.Certificate.load(d) for d in data.certificates]
        ocsps = [asn1_ocsp.OCSPResponse.load(d) for d in data.ocsp_responses]
        crls = [asn1_crl.CertificateList.load(d) for d in data.crls]
    # Without data: the path and signatures only. With it: hard-fail, so the
    # answers fetched must cover every certificate that names a responder.
    return ValidationContext(trust_roots=anchors, other_certs=others, moment=moment, ocsps=ocsps, crls=crls,
                             allow_fetching=False, revocation_mode="hard-fail" if data else "soft-fail",
                             signature_validator=SIGNATURE_VERIFIER)


def _path(leaf, anchors, intermediates, now: dt.datetime):  # noqa: ANN001, ANN202
    """(path from the leaf up to the anchor, None) or (None, the reason it fails)."""
    if not anchors:
        return None, "chains to no trust anchor: no accredited centre's root is imported into the trust store"
    validator = CertificateValidator(leaf, intermediate_certs=list(intermediates),
                                     validation_context=_context(anchors, intermediates, now, None))
    try:
        path = asyncio.run(validator.async_validate_path())
    except cv_errors.PathBuildingError:
        return None, ("chains to no trust anchor: its issuer is not an accredited centre imported into the "
                      "trust store")
    except (cv_errors.ExpiredError, cv_errors.NotYetValidError) as error:
        return None, f"has a chain outside its validity period ({_sentence(error)})"
    except (cv_errors.PathValidationError, cv_errors.InvalidCertificateError) as error:
        return None, f"its chain does not validate: {_sentence(error)}"
    return list(path.iter_certs(include_root=True))[::-1], None


def _revocation_problem(leaf, anchors, intermediates, now: dt.datetime, data: ValidationData) -> str | None:  # noqa: ANN001
    validator = CertificateValidator(leaf, intermediate_certs=list(intermediates),
                                     validation_context=_context(anchors, intermediates, now, data))
    try:
        asyncio.run(validator.async_validate_path())
    except cv_errors.RevokedError as error:
        return f"is revoked according to its issuer ({_sentence(error)})"
    except cv_errors.InsufficientRevinfoError as error:
        return f"its issuer's revocation answer is not usable: {_sentence(error)}"
    except (cv_errors.PathBuildingError, cv_errors.PathValidationError, cv_errors.InvalidCertificateError) as error:
        return f"its chain does not validate with its revocation data: {_sentence(error)}"
    return None


def _sentence(error: Exception) -> str:
    return " ".join(str(error).split()).rstrip(".") or type(error).__name__


__all__ = ["AcceptedCertificate", "AccreditedIssuers", "holder_problems"]
