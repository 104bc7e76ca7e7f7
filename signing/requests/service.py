"""Signing loan documents: the client first, the MFO's seal last (issue 4).

Each signing runs in three steps so the database is never locked while a
key, the TSA or the OCSP responder works:

1. a short read: the document, its latest version, the signer's
   certificate and (for a key the service holds) the client's authorisation;
2. the signature, outside any transaction;
3. a short write: the document row locked, the latest version checked to be
   the one that was signed (else someone signed in between: conflict, the
   new signature is dropped), the authorisation consumed, the new version,
   the status and the audit entry stored together.

A crash between 2 and 3 leaves nothing behind but a used time-stamp serial.
"""

from __future__ import annotations

import dataclasses
import secrets
from contextlib import AbstractContextManager
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.clock import Clock
from ca.errors import ConflictError, InvalidInput, NotFound, Problem
from ca.policy import NATIONAL
from registry import CertificateRow, CertificateStatus, DocumentRow, SigningSessionRow
from signing.documents import DocumentService
from signing.documents.metadata import LEGAL_ENTITY, holder_matches
from signing.documents.service import DocumentStore
from signing.factors.accredited import AccreditedIssuers, holder_problems
from signing.factors.authorisation import AuthorisationService, AuthorisationStore, NotAuthorised
from signing.factors.held_keys import HeldKeys
from signing.pades import FieldPlan, Level, PreparedSignature
from signing.pades.engine import PAdESSigner, SignatureJob, SignatureRejected
from signing.pades.signed_data import SignerIdentity
from signing.requests.signatures import (
    CLIENT,
    CentreRows,
    Chains,
    DocumentSnapshot,
    Ours,
    SignerCertificate,
    read_certificate,
    signature_reason,
    CLIENT_FIELD,
    SEAL,
    SEAL_FIELD,
    STATUS_CLIENT_SIGNED,
    STATUS_SEALED,
    STATUS_UPLOADED,
    ExternalSession,
    InvalidSignature,
    OnStored,
    SignatureEntries,
    SignatureResult,
    SigningPolicy,
    session_view,
)
from signing.stamps import StampPlanner
from signing.requests.sealing import SealSigning
from signing.tenants.seals import SealStore, TenantSeals


class CertificateRows(Protocol):
    def by_holder(self, holder: str, status: str = CertificateStatus.VALID) -> list[CertificateRow]: ...
    def by_serial(self, serial: str, issuer_id: int | None = None, *,
                  for_update: bool = False) -> list[CertificateRow]: ...


class SessionRows(Protocol):
    def add(self, row: SigningSessionRow) -> SigningSessionRow: ...
    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> SigningSessionRow | None: ...


class SigningStore(DocumentStore, AuthorisationStore, SealStore, Protocol):
    """What signing touches in one unit of work: the document and its versions, the authorisation, the tenant,
    the certificates, the centres, the external sessions (a ``registry.RegistryTransaction`` is one)."""

    @property
    def certificates(self) -> CertificateRows: ...
    @property
    def centres(self) -> CentreRows: ...
    @property
    def signing_sessions(self) -> SessionRows: ...


class SigningStorage(Protocol):
    """The registry as the signing service sees it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[SigningStore]: ...


class SigningService(SealSigning):
    def __init__(self, registry: SigningStorage, clock: Clock, chains: Chains, documents: DocumentService,
                 engine: PAdESSigner, authorisations: AuthorisationService, stamps: StampPlanner, *,
                 held_keys: HeldKeys, seals: TenantSeals, policy: SigningPolicy | None = None,
                 accredited: AccreditedIssuers | None = None, ours: Ours | None = None) -> None:
        """``held_keys``: clients' keys the service holds, each signing only with the client's authorisation
        object; ``seals``: each tenant's seal, through its own signer (both built in the wiring: no key backend
        here).
        ``accredited`` checks clients' certificates of imported accredited centres (none: ours only);
        ``ours`` tells our hierarchy's certificates from theirs."""
        self.registry = registry
        self.clock = clock
        self.chains = chains
        self.held_keys = held_keys
        self.seals = seals
        self.accredited = accredited
        self.ours = ours
        self.documents = documents
        self.engine = engine
        self.authorisations = authorisations
        self.stamps = stamps
        self.policy = policy or SigningPolicy()
        self._centre_codes: dict[int, str] = {}

    # -- the three ways ----------------------------------------------------------

    def sign_with_client_key(self, actor: str, tenant: str, document_id: str, *, authorisation: str | None,
                             level: str | None = None, signature_entries: SignatureEntries | None = None,
                             on_stored: OnStored | None = None, language: str | None = None) -> SignatureResult:
        """Way 1: the client's key held by the service, unlocked by their authorisation (``language``: the
        stamp's, the borrower's; English when None)."""
        with self.registry.transaction(readonly=True) as tx:
            snap = self._snapshot(tx, tenant, document_id, CLIENT)
            auth = self.authorisations.unlock(tx, authorisation, tenant=tenant, document_row_id=snap.document_row_id,
                                              document_public_id=document_id, document_sha256=snap.version_sha256)
            cert_row = self._client_certificate(tx, auth.signer_serial, snap)
            if not cert_row.key_handle or cert_row.row is None:
                raise ConflictError("the client's key is not held by the service; use external signing")
            key = self.held_keys.signer(cert_row.row)
        job = self.job_for(x509.load_der_x509_certificate(cert_row.der), cert_row.chain,
                           level=self._level(level, snap.kind), field_name=CLIENT_FIELD, index=snap.signatures,
                           document_id=document_id, role="Client", reason=signature_reason(snap),
                           signature_entries=signature_entries, language=language)
        pdf = self.engine.sign(snap.content, job, key.unlocked(auth, snap.content))
        return self._store(actor, tenant, snap, pdf, job, CLIENT, consume=authorisation, on_stored=on_stored)

    def start_external(self, actor: str, tenant: str, document_id: str, *, certificate: bytes,
                       authorisation: str | None, level: str | None = None, language: str | None = None,
                       signature_entries: SignatureEntries | None = None) -> ExternalSession:
        """Way 2, first half: what the client's own token must sign.

        The client's authorisation for this document state and this
        certificate opens the session and is consumed by it (issue 5: the
        other factors come first, the token's signature is the last one).
        """
        cert = read_certificate(certificate)
        serial = format(cert.serial_number, "x")
        ours = self._is_ours(cert)
        with self.registry.transaction(readonly=True) as tx:
            snap = self._snapshot(tx, tenant, document_id, CLIENT)
            auth = self.authorisations.check(tx, authorisation, tenant=tenant, document_row_id=snap.document_row_id,
                                             document_public_id=document_id, document_sha256=snap.version_sha256)
            if auth.signer_serial != serial:
                raise NotAuthorised("the authorisation was given for another signer certificate")
            cert_row = self._client_certificate(tx, serial, snap, der=cert.public_bytes(serialization.Encoding.DER)) \
                if ours else None
        # Another centre's certificate is checked with no transaction open: its chain and status are fetched.
        cert_row = cert_row or self._accredited_certificate(cert, snap)
        job = self.job_for(cert, cert_row.chain, level=self._level(level, snap.kind),
                           field_name=CLIENT_FIELD, index=snap.signatures, document_id=document_id, role="Client",
                           reason=signature_reason(snap), signature_entries=signature_entries, language=language)
        prepared = self.engine.prepare(snap.content, job, external=True)
        now = self.clock.now()
        with self.registry.transaction() as tx:
            self.authorisations.consume(tx, authorisation, tenant=tenant, document_row_id=snap.document_row_id,
                                        document_public_id=document_id, document_sha256=snap.version_sha256)
            row = tx.signing_sessions.add(SigningSessionRow(
                public_id=secrets.token_hex(16), tenant=tenant, document_id=snap.document_row_id,
                base_version_id=snap.version_id, signatory=CLIENT, level=job.level.value, field_name=CLIENT_FIELD,
                certificate_der=cert_row.der, prepared_pdf=prepared.pdf, placeholder_start=prepared.start,
                placeholder_end=prepared.end, document_digest=prepared.document_digest,
                signed_attributes=prepared.signed_attributes, hash_name=prepared.hash_name,
                signing_time=prepared.signing_time, created_at=now, expires_at=now + self.policy.session_ttl,
                created_by=actor, authorisation=authorisation))
            tx.audit.append(at=now, actor=actor, action="signing.external_started", subject=f"document:{document_id}",
                            details={"tenant": tenant, "session": row.public_id, "signer_serial": cert_row.serial,
                                     "document_digest": prepared.document_digest.hex(),
                                     "authorisation": authorisation})
            return session_view(row, document_id)

    def complete_external(self, actor: str, tenant: str, session_id: str, *, signature: bytes | None = None,
                          cms: bytes | None = None, on_stored: OnStored | None = None) -> SignatureResult:
        """Way 2, second half: the raw signature or the token's CMS, checked and embedded."""
        if (signature is None) == (cms is None):
            raise InvalidInput("give the signature or the CMS", [Problem("signature", "exactly one of signature "
                                                                         "and cms is required")])
        with self.registry.transaction(readonly=True) as tx:
            session = self._open_session(tx, tenant, session_id)
            document = tx.documents.by_id(tenant, session.document_id)
            snap = self._snapshot(tx, tenant, document.public_id, CLIENT)
            if snap.version_id != session.base_version_id:
                raise ConflictError("the document changed since this signing session started; start a new one")
            cert = x509.load_der_x509_certificate(session.certificate_der)
            ours = self._is_ours(cert)
            cert_row = self._client_certificate(tx, format(cert.serial_number, "x"), snap,
                                                der=session.certificate_der) if ours else None
            prepared = PreparedSignature(pdf=session.prepared_pdf, start=session.placeholder_start,
                                         end=session.placeholder_end, document_digest=session.document_digest,
                                         signed_attributes=session.signed_attributes, field_name=session.field_name,
                                         hash_name=session.hash_name, signing_time=session.signing_time)
        # Checked again at signing time: revoked since the session started is refused, and the answers
        # fetched now are the ones embedded.
        cert_row = cert_row or self._accredited_certificate(cert, snap)
        job = SignatureJob(SignerIdentity(cert, cert_row.chain), FieldPlan(name=prepared.field_name),
                           Level(session.level))
        try:
            pdf = self.engine.complete(prepared, job, signature=signature, cms=cms, verify=True,
                                       validation=cert_row.validation)
        except SignatureRejected as exc:
            raise InvalidSignature(str(exc)) from None
        return self._store(actor, tenant, snap, pdf, job, CLIENT, session=session_id, on_stored=on_stored)

    # -- building blocks -----------------------------------------------------------

    def job_for(self, certificate: x509.Certificate, chain: tuple[x509.Certificate, ...], *, level: Level,
                field_name: str, index: int, document_id: str, role: str, lock: bool = False,
                reason: str | None = None, location: str | None = None,
                signature_entries: SignatureEntries | None = None, language: str | None = None) -> SignatureJob:
        identity = SignerIdentity(certificate, chain)
        plan = self.stamps.plan(field_name, index, certificate=certificate, document_id=document_id, role=role,
                                signed_at=self.clock.now(), lock=lock, reason=reason, location=location,
                                language=language)
        if signature_entries:
            plan = dataclasses.replace(plan, signature_entries=signature_entries.as_pdf())
        return SignatureJob(identity, plan, level)

    def _store(self, actor: str, tenant: str, snap: DocumentSnapshot, pdf: bytes, job: SignatureJob, signatory: str,
               *, consume: str | None = None, session: str | None = None,
               on_stored: OnStored | None = None) -> SignatureResult:
        serial = format(job.identity.certificate.serial_number, "x")
        with self.registry.transaction() as tx:
            self.seals.ensure_active(tx, tenant)   # suspended meanwhile: the signature is dropped (issue 15)
            document = tx.documents.by_public_id(tenant, snap.document, for_update=True)
            latest = tx.document_versions.latest(document.id)
            if latest.id != snap.version_id or document.status != snap.status:
                raise ConflictError("the document was signed by someone else meanwhile; ask again")
            if consume is not None:
                self.authorisations.consume(tx, consume, tenant=tenant, document_row_id=document.id,
                                            document_public_id=snap.document, document_sha256=snap.version_sha256)
            if session is not None:
                row = tx.signing_sessions.by_public_id(tenant, session, for_update=True)
                if row is None or row.completed_at is not None:
                    raise ConflictError("this signing session was already completed")
                row.completed_at = self.clock.now()
            version = self.documents.add_version(tx, document, pdf, reason="signature" if signatory == CLIENT
                                                 else "seal", signature_field=job.plan.name, signer_serial=serial,
                                                 actor=actor, base=snap.content, written_here=True,
                                                 previous=latest)
            document.status = STATUS_CLIENT_SIGNED if signatory == CLIENT else STATUS_SEALED
            tx.audit.append(at=self.clock.now(), actor=actor, action=f"document.signed.{signatory}",
                            subject=f"document:{snap.document}",
                            details={"tenant": tenant, "version": version.number, "sha256": version.sha256,
                                     "signer_serial": serial, "level": job.level.value, "field": job.plan.name,
                                     "authorisation": consume, "session": session})
            after = dataclasses.replace(snap, status=document.status, version_id=version.id,
                                        version_sha256=version.sha256, content=pdf, signatures=snap.signatures + 1)
            result = SignatureResult(document=snap.document, version=version.number, sha256=version.sha256,
                                     field=job.plan.name, signatory=signatory, signer_serial=serial,
                                     level=job.level.value, status=document.status, after=after)
            if on_stored is not None:
                on_stored(tx, result)
            return result

    def _snapshot(self, tx: SigningStore, tenant: str, document_id: str, signatory: str) -> DocumentSnapshot:
        document = self._document(tx, tenant, document_id)
        self.seals.ensure_active(tx, tenant)   # a suspended (or unregistered) tenant signs nothing (issue 15)
        # The order is the rule: the client signs first, once; the seal signs
        # last and locks the document, after which nobody signs again.
        if signatory == CLIENT and document.status != STATUS_UPLOADED:
            raise ConflictError(f"the client can no longer sign: the document is {document.status}")
        if signatory == SEAL and document.status != STATUS_CLIENT_SIGNED:
            raise ConflictError("the MFO's seal signs after the client" if document.status == STATUS_UPLOADED
                                else "the document is already sealed")
        versions = tx.document_versions.list(document.id)   # by number; their bytes load when read
        latest, signatures = versions[-1], sum(1 for v in versions if v.signature_field)
        return DocumentSnapshot(document_row_id=document.id, document=document.public_id, kind=document.kind,
                         status=document.status, version_id=latest.id, version_sha256=latest.sha256,
                         content=latest.content, signatures=signatures,
                         contract_number=document.contract_number, client_kind=document.client_kind,
                         client_id_number=document.client_id_number)

    def _document(self, tx: SigningStore, tenant: str, document_id: str) -> DocumentRow:
        row = tx.documents.by_public_id(tenant, document_id) if tenant and len(document_id) == 32 else None
        if row is None:
            raise NotFound(f"no document {document_id}")
        return row

    def _is_ours(self, certificate: x509.Certificate) -> bool:
        return self.ours is None or self.ours.chain_of(certificate) is not None

    def _accredited_certificate(self, certificate: x509.Certificate, snap: DocumentSnapshot) -> SignerCertificate:
        """A certificate of an imported accredited centre (LOAN-2), fit to sign this document now."""
        if self.accredited is None:
            raise InvalidInput("the certificate is refused", [Problem(
                "certificate", "is not one of our national CA's, and no other accredited centre is trusted")])
        legal = snap.client_kind == LEGAL_ENTITY
        accepted = self.accredited.accept(certificate, extra_problems=holder_problems(
            certificate, client_kind=snap.client_kind, iin=None if legal else snap.client_id_number,
            bin_=snap.client_id_number if legal else None))
        return SignerCertificate(der=certificate.public_bytes(serialization.Encoding.DER),
                                  serial=format(certificate.serial_number, "x"), chain=accepted.chain,
                                  validation=accepted.validation)

    def _client_certificate(self, tx: SigningStore, serial: str, snap: DocumentSnapshot,
                            der: bytes | None = None) -> SignerCertificate:
        """The client's certificate in our registry, fit to sign this document now.

        Clients' certificates come from the national CA (individuals and
        legal entities, DOMAIN.md §1); a serial is unique per issuer.
        """
        national = self.chains.issuing_ca(NATIONAL, tx).centre_id
        rows = [r for r in tx.certificates.by_serial(serial.lower(), national)
                if der is None or r.der == der]
        row = rows[0] if rows else None
        if row is None:
            raise InvalidInput("the certificate is not one of our national CA's",
                               [Problem("certificate", f"no certificate with serial {serial} in the registry")])
        problems = []
        now = self.clock.now()
        if row.status != CertificateStatus.VALID:
            problems.append(Problem("certificate", f"is {row.status}"))
        if not row.not_before <= now <= row.not_after:
            problems.append(Problem("certificate", "is outside its validity period"))
        if not holder_matches(snap.client_kind, snap.client_id_number, row.iin, row.bin):
            problems.append(Problem("certificate", "belongs to someone other than the document's client "
                                                   f"({snap.client_id_number})"))
        if problems:
            raise InvalidInput("the certificate cannot sign this document", problems)
        return SignerCertificate(der=row.der, serial=row.serial, chain=self._chain_of(row), key_handle=row.key_handle,
                                  row=row)

    def _chain_of(self, row: CertificateRow) -> tuple[x509.Certificate, ...]:
        """The issuing centre's chain (issuing CA first, root last)."""
        if not self._centre_codes:
            with self.registry.transaction(readonly=True) as tx:
                self._centre_codes.update({c.id: c.code for c in tx.centres.all()})
        return tuple(self.chains.chain(self._centre_codes[row.issuer_id]))

    def _open_session(self, tx: SigningStore, tenant: str, session_id: str) -> SigningSessionRow:
        row = tx.signing_sessions.by_public_id(tenant, session_id) if len(session_id) == 32 else None
        if row is None:
            raise NotFound(f"no signing session {session_id}")
        if row.completed_at is not None:
            raise ConflictError("this signing session was already completed")
        if self.clock.now() >= row.expires_at:
            raise ConflictError("this signing session has expired; start a new one")
        return row

    def _level(self, requested: str | None, kind: str) -> Level:
        if requested is None:
            return self.policy.default_level.get(kind, Level.B_LT)
        try:
            return Level(requested)
        except ValueError:
            raise InvalidInput("unknown PAdES level", [Problem("level", "must be one of "
                                                               + ", ".join(v.value for v in Level))]) from None


# The signatures' vocabulary is signatures.py; importers of this module find it here too.
__all__ = ["CLIENT", "CLIENT_FIELD", "SEAL", "SEAL_FIELD", "STATUS_CLIENT_SIGNED", "STATUS_SEALED", "STATUS_UPLOADED",
           "ExternalSession", "InvalidSignature", "OnStored", "Ours", "SignatureEntries", "SignatureResult",
           "SigningPolicy", "SigningService", "SigningStorage", "SigningStore"]
