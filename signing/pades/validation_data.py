"""Revocation data for PAdES B-LT: our own CAs in-process, others over the network.

For a certificate our hierarchy issued, the OCSP responder answers in this
process (its cache makes that cheap) and nothing touches the network, so
`qoltanba sign` works on a home with no server running. For a certificate of
another issuer (an imported accredited CA such as the NCA RK), the OCSP
responder named in its Authority Information Access is asked over HTTP; when
there is none, or it fails, the CRL from its distribution point is fetched.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterable, Sequence
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID

from signing.pades.pdf import ValidationData

log = logging.getLogger(__name__)

_DER = serialization.Encoding.DER
_TIMEOUT = 10.0
_MAX_RESPONSE = 64 * 1024 * 1024


class StatusUnavailable(RuntimeError):
    """Neither OCSP nor a CRL could be obtained for a certificate."""


class StatusSource(Protocol):
    """Our OCSP responder, asked in-process (ca.responder.OCSPResponder)."""

    def respond(self, request: bytes) -> bytes: ...
    def respond_all(self, requests: Sequence[bytes]) -> list[bytes]: ...


class ChainSource(Protocol):
    """Our hierarchy: which issuers are ours, and their chains."""

    def chain_of(self, certificate: x509.Certificate) -> Sequence[x509.Certificate] | None: ...


def ocsp_request(certificate: x509.Certificate, issuer: x509.Certificate) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA1())
    return builder.build().public_bytes(_DER)


def _good_response(der: bytes) -> ocsp.OCSPResponse | None:
    """The parsed response when it is a successful one."""
    try:
        parsed = ocsp.load_der_ocsp_response(der)
    except ValueError:
        return None
    return parsed if parsed.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL else None


class ValidationDataCollector:
    """Certificates and revocation answers for every certificate in a chain."""

    def __init__(self, ours: ChainSource, responder: StatusSource, *, network: bool = True) -> None:
        self.ours = ours
        self.responder = responder
        self.network = network

    def collect(self, chains: Iterable[Sequence[x509.Certificate]]) -> ValidationData:
        """For each chain (end entity first, root last): its certificates and their status.

        The root needs no status; a responder certificate carrying
        id-pkix-ocsp-nocheck needs none either (RFC 6960 §4.2.2.2.1), but it
        is embedded so a verifier can check the response's signature.
        """
        certificates: dict[bytes, None] = {}
        responses: dict[bytes, None] = {}
        crls: dict[bytes, None] = {}
        pairs = []
        for chain in chains:
            chain = list(chain)
            our_chain = self.ours.chain_of(chain[0])
            full = list(our_chain or chain)
            for position, cert in enumerate(full):
                certificates[cert.public_bytes(_DER)] = None
                if position + 1 < len(full):
                    pairs.append((cert, full[position + 1], our_chain is not None))
        # Our responder answers every certificate of ours in one call (one look at the revocations).
        ours = [ocsp_request(cert, issuer) for cert, issuer, mine in pairs if mine]
        answers = iter(self.responder.respond_all(ours) if ours else ())
        for cert, issuer, mine in pairs:
            answer, parsed, crl = self._status(cert, issuer, ours=mine, answer=next(answers) if mine else None)
            if answer is not None:
                responses[answer] = None
                for responder_cert in parsed.certificates:
                    certificates[responder_cert.public_bytes(_DER)] = None
            if crl is not None:
                crls[crl] = None
        return ValidationData(tuple(certificates), tuple(responses), tuple(crls))

    def _status(self, cert: x509.Certificate, issuer: x509.Certificate, *, ours: bool,
                answer: bytes | None = None) -> tuple[bytes | None, ocsp.OCSPResponse | None, bytes | None]:
        """(OCSP answer, parsed, None) or (None, None, CRL) for one certificate of a chain; ``answer``: our
        responder's, already asked."""
        if ours:
            answer = answer if answer is not None else self.responder.respond(ocsp_request(cert, issuer))
            parsed = _good_response(answer)
            if parsed is not None:
                return answer, parsed, None
            raise StatusUnavailable(f"our OCSP responder gave no answer for serial {cert.serial_number:x}")
        if not self.network:
            raise StatusUnavailable(f"serial {cert.serial_number:x} is from another issuer and the network is off")
        request = ocsp_request(cert, issuer)
        for url in _urls(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS):
            try:
                answer = _fetch(url, request, "application/ocsp-request")
            except OSError as exc:
                log.warning("OCSP %s failed: %s", url, exc)
                continue
            parsed = _good_response(answer)
            if parsed is not None:
                return answer, parsed, None
        for url in _urls(cert, ExtensionOID.CRL_DISTRIBUTION_POINTS):
            try:
                crl = _fetch(url)
                x509.load_der_x509_crl(crl)
                return None, None, crl
            except (OSError, ValueError) as exc:
                log.warning("CRL %s failed: %s", url, exc)
        raise StatusUnavailable(f"no OCSP answer or CRL for serial {cert.serial_number:x} "
                                f"of {cert.issuer.rfc4514_string()}")


def _urls(cert: x509.Certificate, extension) -> list[str]:
    try:
        value = cert.extensions.get_extension_for_oid(extension).value
    except x509.ExtensionNotFound:
        return []
    if extension == ExtensionOID.AUTHORITY_INFORMATION_ACCESS:
        names = [d.access_location for d in value if d.access_method == AuthorityInformationAccessOID.OCSP]
    else:
        names = [n for point in value for n in (point.full_name or ())]
    return [n.value for n in names
            if isinstance(n, x509.UniformResourceIdentifier) and n.value.startswith(("http://", "https://"))]


def _fetch(url: str, body: bytes | None = None, content_type: str | None = None) -> bytes:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:  # noqa: S310 - http(s) only, checked above
        data = response.read(_MAX_RESPONSE + 1)
    if len(data) > _MAX_RESPONSE:
        raise OSError(f"{url} answered more than {_MAX_RESPONSE} bytes")
    return data


def fetch_url(url: str) -> bytes:
    """GET one http(s) URL with the same timeout and size limit as revocation data (a CA certificate)."""
    if not url.startswith(("http://", "https://")):
        raise OSError(f"{url} is not an http(s) URL")
    return _fetch(url)


class Chains(Protocol):
    """What recognising our certificates reads of the hierarchy (ca.hierarchy.Hierarchy)."""

    def chain(self, code: str) -> list[x509.Certificate]: ...


class OurHierarchy:
    """Recognises certificates our centres issued (issuer name and key identifier)."""

    def __init__(self, chains: Chains, centres: Iterable[str]) -> None:
        self._chains_of = chains
        self._centres = tuple(centres)
        self._chains: dict[tuple[bytes, bytes | None], tuple[x509.Certificate, ...]] | None = None

    def _index(self) -> dict[tuple[bytes, bytes | None], tuple[x509.Certificate, ...]]:
        if self._chains is None:
            chains = {}
            for code in self._centres:
                chain = tuple(self._chains_of.chain(code))
                chains[(chain[0].subject.public_bytes(), _key_id(chain[0]))] = chain
            self._chains = chains
        return self._chains

    def chain_of(self, certificate: x509.Certificate) -> Sequence[x509.Certificate] | None:
        index = self._index()
        for ca_chain in index.values():
            if ca_chain[0] == certificate:
                return ca_chain
        issuer_chain = index.get((certificate.issuer.public_bytes(), _authority_key_id(certificate)))
        return None if issuer_chain is None else (certificate, *issuer_chain)


def _key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _authority_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return None
