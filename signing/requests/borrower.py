"""What the borrower's signing page reads beyond the client API's steps (issue 20).

The page (api/pages/sign*.py) goes through the same services as the client
API: ``ClientSigning`` for every step, authenticated by the request's token.
This module adds the few reads the page needs and the API does not give:

- who the request is for (the name greets the borrower; the biometric
  simulator films that IIN in development);
- the EDS certificates the borrower enrolled, to start the EDS with one of
  them (NCALayer, eGov mobile and an uploaded CMS all sign for the
  certificate announced when the session starts);
- the data the borrower's key signs in the open EDS session: the PDF's
  signed byte ranges, whose digest is the CMS's messageDigest (ISO
  32000-1 §12.8.1), so any CAdES tool signing that file detached gives a
  CMS the session accepts;
- once signed, the signed copy and the sealed evidence report.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.errors import ConflictError, InvalidInput, Problem
from registry import FactorStatus
from signing.documents import DocumentService, StoredPdf
from signing.policies.policy import Factor
from signing.requests.completion import ClientSigning
from signing.requests.evidence import EvidenceService, EvidenceView
from signing.requests.handoff import Handoff, HandoffLinks, LinkGone
from signing.requests.lifecycle import OPEN, SEALED, SIGNED
from signing.requests.proofs import ClientContext, actor_of
from signing.requests.signatures import ExternalSession


@dataclass(frozen=True)
class Holder:
    name: str
    iin: str | None
    language: str


@dataclass(frozen=True)
class EnrolledCertificate:
    """One EDS certificate the borrower enrolled: what the page shows to choose it."""

    serial: str
    subject: str
    issuer: str
    not_after: dt.datetime
    pem: str


@dataclass(frozen=True)
class DataToSign:
    """The open EDS session's data: the PDF's signed byte ranges and their digest (the CMS's messageDigest)."""

    session: str
    content: bytes
    digest: bytes
    hash_algorithm: str
    expires_at: dt.datetime

    @property
    def digest_b64(self) -> str:
        return base64.b64encode(self.digest).decode()


class BorrowerDesk:
    def __init__(self, signing: ClientSigning, documents: DocumentService, evidence: EvidenceService,
                 links: HandoffLinks) -> None:
        self.signing = signing
        self.documents = documents
        self.evidence_service = evidence
        self.links = links

    def holder(self, request_id: str, token: str | None) -> Holder:
        with self.signing.registry.transaction(readonly=True) as tx:
            row = self.signing.authenticated(tx, request_id, token)
            client = tx.clients.by_id(row.tenant, row.client_id)
            return Holder(name=client.name, iin=client.iin, language=row.language)

    def eds_certificates(self, request_id: str, token: str | None) -> tuple[EnrolledCertificate, ...]:
        with self.signing.registry.transaction(readonly=True) as tx:
            row = self.signing.authenticated(tx, request_id, token)
            factors = tx.client_factors.of_client(row.client_id, kind=Factor.EDS.value, status=FactorStatus.ACTIVE)
        found = []
        for factor in factors:
            if not factor.certificate_der:
                continue
            cert = x509.load_der_x509_certificate(factor.certificate_der)
            names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
            found.append(EnrolledCertificate(
                serial=factor.certificate_serial or format(cert.serial_number, "x"),
                subject=str(names[0].value) if names else cert.subject.rfc4514_string(),
                issuer=cert.issuer.rfc4514_string(), not_after=cert.not_valid_after_utc,
                pem=cert.public_bytes(serialization.Encoding.PEM).decode()))
        return tuple(found)

    def start_eds(self, request_id: str, token: str | None, serial: str, ctx: ClientContext) -> ExternalSession:
        """Start the EDS with the enrolled certificate of ``serial`` (the client API's ``start_eds``)."""
        chosen = next((c for c in self.eds_certificates(request_id, token) if c.serial == serial), None)
        if chosen is None:
            raise InvalidInput("the certificate is refused", [Problem(
                "certificate", "is not one of the client's enrolled EDS certificates")])
        return self.signing.start_eds(request_id, token, chosen.pem, ctx)

    def data_to_sign(self, request_id: str, token: str | None) -> DataToSign:
        """What the borrower's key signs in the request's open EDS session."""
        with self.signing.registry.transaction(readonly=True) as tx:
            row = self.signing.authenticated(tx, request_id, token)
            session = tx.signing_sessions.by_public_id(row.tenant, row.session) if row.session else None
            if row.status != OPEN or session is None or session.completed_at is not None \
                    or self.signing.clock.now() >= session.expires_at:
                raise ConflictError("no EDS session is open: choose the certificate to sign with first")
            pdf, start, end = session.prepared_pdf, session.placeholder_start, session.placeholder_end
            # The byte ranges leave out /Contents' value with its angle brackets (ISO 32000-1 §12.8.1).
            return DataToSign(session=session.public_id, content=pdf[:start - 1] + pdf[end + 1:],
                              digest=session.document_digest, hash_algorithm=session.hash_name,
                              expires_at=session.expires_at)

    def handoff(self, request_id: str, token: str | None) -> tuple[str, Handoff]:
        """A new eGov mobile link for the open EDS session (signing/requests/handoff.py)."""
        data = self.data_to_sign(request_id, token)
        return self.links.issue(request_id, token or "", data.session, data.expires_at)

    def opened(self, link: str) -> tuple[Handoff, DataToSign]:
        """The link's request and session, while the link stands; LinkGone once it was used or replaced."""
        handoff = self.links.open(link)
        try:
            data = self.data_to_sign(handoff.request, handoff.token)
        except ConflictError:
            raise LinkGone("the signing link was used already, or the request is no longer open") from None
        if data.session != handoff.session:
            raise LinkGone("a newer signing link replaced this one")
        return handoff, data

    def submit_from_link(self, link: str, cms: bytes, ctx: ClientContext):  # noqa: ANN201 - ClientRequestView
        handoff, _data = self.opened(link)
        return self.signing.submit_eds_signature(handoff.request, handoff.token, signature=None, cms=cms, ctx=ctx)

    def signed_copy(self, request_id: str, token: str | None) -> StoredPdf:
        with self.signing.registry.transaction(readonly=True) as tx:
            row = self.signing.authenticated(tx, request_id, token)
            tenant, document, status = row.tenant, tx.documents.by_id(row.tenant, row.document_id).public_id, \
                row.status
        if status not in (SIGNED, SEALED):
            raise ConflictError(f"the signing request is {status}; the signed copy exists once you signed")
        return self.documents.latest_pdf(tenant, document)

    def evidence(self, request_id: str, token: str | None) -> EvidenceView:
        with self.signing.registry.transaction(readonly=True) as tx:
            row = self.signing.authenticated(tx, request_id, token)
            tenant, actor = row.tenant, actor_of(row)
        return self.evidence_service.for_request(actor, tenant, request_id)


__all__ = ["BorrowerDesk", "DataToSign", "EnrolledCertificate", "Holder"]
