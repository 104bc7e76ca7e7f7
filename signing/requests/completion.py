"""Signing once the factors meet the policy: the authorisation, the signature, the seal (issue 5).

When the proven factors satisfy the request's rule, the factor check grants
the single-use authorisation (``AuthorisationService.grant``: this module is
its only production caller) for the exact document digest and signer
certificate, and the signature follows through ``SigningService``:

- **confirm**: the client's key the service holds signs (rules met without
  an EDS, such as LOAN-3's);
- **EDS**: the client's own token signs in an external session; the EDS is
  the last factor, so every other factor the rule needs comes first.

The request, its evidence record and the signed version are stored in one
transaction; then the MFO's seal signs when the request asks for it (the
default) and the evidence report is sealed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.errors import ConflictError, InvalidInput, Problem, QoltanbaError
from ca.keycheck import load_certificate
from registry import DocumentStatus, SigningRequestRow, SigningSessionRow
from signing.factors.authorisation import AuthorisationStore, GrantEvidence
from signing.policies.policy import Factor
from signing.requests import evidence, proofs
from signing.requests.evidence import EvidenceStore, SignatureEvidence
from signing.requests.lifecycle import EXPIRED, OPEN, SEALED, SIGNED, rule_of
from signing.requests.proofs import ClientContext, FactorProofs, ProofStore, actor_of, missing_factors
from signing.requests.signatures import (
    SEAL_FIELD,
    DocumentSnapshot,
    ExternalSession,
    InvalidSignature,
    SignatureEntries,
    SignatureResult,
)
from signing.requests.steps import ClientRequestView

log = logging.getLogger(__name__)
# "PIN", "Password" and "Fingerprint" are Table 252's own names; the others are ours.
_AUTH_NAMES = {Factor.BIOMETRIC: "Biometric", Factor.SMS: "SMS", Factor.TOTP: "TOTP", Factor.EDS: "EDS",
               Factor.PASSWORD: "Password"}


def auth_type(factors) -> str:  # noqa: ANN001 - factors in the order proven
    """/Prop_AuthType: the factors as one PDF name, e.g. /Biometric+EDS (ISO 32000-1 Table 252)."""
    return "/" + "+".join(_AUTH_NAMES[Factor(f)] for f in factors)


class RequestRows(proofs.RequestRows, evidence.RequestRows, Protocol):
    def signed_before(self, before: dt.datetime, limit: int = 20) -> list[SigningRequestRow]: ...


class SessionRows(Protocol):
    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> SigningSessionRow | None: ...


class CompletionStore(ProofStore, AuthorisationStore, EvidenceStore, Protocol):
    """What signing once the factors are met touches in one unit of work (a ``registry.RegistryTransaction``
    is one): the factor steps', the grant's and the evidence's, and the EDS session."""

    @property
    def signing_requests(self) -> RequestRows: ...
    @property
    def factor_proofs(self) -> proofs.ProofRows: ...
    @property
    def signing_sessions(self) -> SessionRows: ...


class CompletionStorage(Protocol):
    """The registry as ``ClientSigning`` sees it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[CompletionStore]: ...


@dataclass(frozen=True)
class Grant:
    """What the signature needs once the factor check granted the authorisation (by its id)."""

    actor: str
    tenant: str
    document: str
    authorisation: str
    level: str | None
    entries: SignatureEntries
    seal: bool                    # the request asks for the MFO's seal after the client's signature
    request: int                  # the request's row id (its evidence report is sealed by it)
    language: str | None = None   # the stamp's labels: the borrower's language (issue 20)


@dataclass(frozen=True)
class OpenSession:
    """The EDS session a request started: whose, in which tenant."""

    actor: str
    tenant: str
    session: str


class ClientSigning(FactorProofs):
    """The client API: the factor steps, and signing once they meet the policy."""

    registry: CompletionStorage

    def confirm(self, request_id: str, token: str | None, ctx: ClientContext) -> ClientRequestView:
        """The factors satisfy the rule without an EDS: the key the service holds for the client signs."""
        def work(tx: CompletionStore, row: SigningRequestRow) -> tuple[Grant, None]:
            rule, proven = rule_of(row), self._proven(tx, row)
            if not rule.satisfied_by(proven):
                raise ConflictError(f"policy {rule.name} is not met yet; prove first: {missing_factors(rule, proven)}")
            client = tx.clients.by_id(row.tenant, row.client_id)
            held = self.requests.held_certificate(tx, client)
            if held is None:
                raise ConflictError("the service holds no signing key for this client; sign with the client's EDS")
            return self._authorise(tx, row, held.serial, proven), None

        grant: Grant = self._step(request_id, token, work)
        callback = self._on_client_signature(request_id, ctx, eds=None)
        signed = self.signing.sign_with_client_key(grant.actor, grant.tenant, grant.document,
                                                   authorisation=grant.authorisation, level=grant.level,
                                                   signature_entries=grant.entries, on_stored=callback,
                                                   language=grant.language)
        return self._finish(request_id, grant, after=signed.after)

    def start_eds(self, request_id: str, token: str | None, certificate: str, ctx: ClientContext) -> ExternalSession:
        """The other factors first; then what the client's own token must sign (an external session)."""
        cert = _certificate(certificate)
        serial, issuer = format(cert.serial_number, "x"), cert.issuer.rfc4514_string()

        def work(tx: CompletionStore, row: SigningRequestRow) -> tuple[Grant, None]:
            self._needed(tx, row, Factor.EDS)
            if not any(f.certificate_serial == serial and f.certificate_issuer == issuer
                       for f in self._active(tx, row, Factor.EDS)):
                raise InvalidInput("the certificate is refused", [Problem(
                    "certificate", "is not one of the client's enrolled EDS certificates")])
            rule, proven = rule_of(row), self._proven(tx, row)
            if not rule.satisfied_by(proven | {Factor.EDS}):
                raise ConflictError(f"policy {rule.name}: prove the other factors before the EDS: "
                                    f"{missing_factors(rule, proven | {Factor.EDS})}")
            return self._authorise(tx, row, serial, [*proven, Factor.EDS]), None

        grant: Grant = self._step(request_id, token, work)
        session = self.signing.start_external(
            grant.actor, grant.tenant, grant.document,
            certificate=cert.public_bytes(serialization.Encoding.PEM), authorisation=grant.authorisation,
            level=grant.level, signature_entries=grant.entries, language=grant.language)
        with self.registry.transaction() as tx:
            row = tx.signing_requests.for_client(request_id, for_update=True)
            row.session, row.signer_serial = session.id, serial
        return session

    def submit_eds_signature(self, request_id: str, token: str | None, *, signature: bytes | None,
                             cms: bytes | None, ctx: ClientContext) -> ClientRequestView:
        def work(tx: CompletionStore, row: SigningRequestRow) -> tuple[OpenSession, None]:
            if row.session is None:
                raise ConflictError("start the EDS factor first: the session says what the token must sign")
            return OpenSession(actor=actor_of(row), tenant=row.tenant, session=row.session), None

        started: OpenSession = self._step(request_id, token, work)
        callback = self._on_client_signature(request_id, ctx, eds=started.session)
        try:
            signed = self.signing.complete_external(started.actor, started.tenant, started.session,
                                                    signature=signature, cms=cms, on_stored=callback)
        except InvalidSignature as error:
            # A signature that does not verify is a failed factor like a wrong code.
            with self.registry.transaction() as tx:
                row = tx.signing_requests.for_client(request_id, for_update=True)
                failure = self.requests.fail(tx, row, "eds", "signature", error.detail, actor_of(row))
            self.requests.events.kick()
            raise failure from None
        return self._finish(request_id, after=signed.after)

    # -- steps shared ---------------------------------------------------------------------------

    def _authorise(self, tx: CompletionStore, row: SigningRequestRow, signer_serial: str,
                   factors) -> Grant:  # noqa: ANN001
        """Grant the single-use authorisation for this document state and signer; what the signature needs."""
        doc = tx.documents.by_id(row.tenant, row.document_id)
        proven = tx.factor_proofs.of_request(row.id)
        order = tuple(p.factor for p in proven) + ((Factor.EDS.value,) if Factor.EDS in factors else ())
        auth = self.authorisations.grant(
            tx, tenant=row.tenant, document_row_id=doc.id, document_public_id=doc.public_id,
            document_sha256=row.document_sha256, signer_serial=signer_serial, granted_by=actor_of(row),
            evidence=GrantEvidence(signing_request=row.public_id, policy=row.policy, factors=order))
        row.authorisation, row.signer_serial = auth.id, signer_serial
        last = max((p.proven_at for p in proven), default=self.clock.now())
        entries = SignatureEntries(auth_type=auth_type(order),
                                   auth_time=max(0, int((self.clock.now() - last).total_seconds())))
        return Grant(actor=actor_of(row), tenant=row.tenant, document=doc.public_id, authorisation=auth.id,
                     level=row.level, entries=entries, language=row.language, seal=row.seal, request=row.id)

    def _on_client_signature(self, request_id: str, ctx: ClientContext,
                             eds: str | None) -> Callable[[CompletionStore, SignatureResult], None]:
        """Runs in the transaction that stores the client's signature: the request, the proof, the evidence."""
        def stored(tx: CompletionStore, result: SignatureResult) -> None:
            row = tx.signing_requests.for_client(request_id, for_update=True)
            now = self.clock.now()
            if row.status != OPEN or now >= row.expires_at:
                raise ConflictError(f"the signing request is {row.status if row.status != OPEN else EXPIRED}; "
                                    "nothing was signed")
            doc = tx.documents.by_id(row.tenant, row.document_id)
            client = tx.clients.by_id(row.tenant, row.client_id)
            if eds is not None:
                session = tx.signing_sessions.by_public_id(row.tenant, eds)
                cert = x509.load_der_x509_certificate(session.certificate_der)
                # A serial is unique per issuer only: another centre may use the same one.
                factor = next(f for f in self._active(tx, row, Factor.EDS)
                              if f.certificate_serial == format(cert.serial_number, "x")
                              and f.certificate_issuer == cert.issuer.rfc4514_string())
                self._prove(tx, row, Factor.EDS, factor, {
                    "certificate_serial": factor.certificate_serial, "certificate_issuer": factor.certificate_issuer,
                    "session": eds, **ctx.as_json()})
            row.signed_at = now
            row.earliest_payout_at = self.policies.payout.earliest(
                document_kind=doc.kind, client_kind=doc.client_kind, purpose=doc.purpose, secured=doc.secured,
                amount=doc.loan_amount, mrp_kzt=self.requests.mrp_kzt, signed_at=now)
            self.evidence.record(tx, request=row, document=doc, client=client, signed_at=now,
                                 digest_before=row.document_sha256, digest_after=result.sha256,
                                 signature=SignatureEvidence(field=result.field, level=result.level,
                                                             signer_serial=result.signer_serial,
                                                             version=result.version,
                                                             way="client-eds" if eds else "held-key"))
            self.requests.transition(tx, row, SIGNED, actor_of(row), version=result.version, sha256=result.sha256,
                                     signer_serial=result.signer_serial)
        return stored

    def seal(self, actor: str, tenant: str, document_id: str, *, level: str | None = None) -> SignatureResult:
        """The MFO's seal through its own route: the document's signed request becomes sealed with it."""
        result = self.signing.sign_with_seal(actor, tenant, document_id, level=level,
                                             on_stored=self._on_seal(tenant, actor))
        self.requests.events.kick()
        return result

    def _on_seal(self, tenant: str, actor: str) -> Callable[[CompletionStore, SignatureResult], None]:
        """Runs in the transaction that stores the seal: the signed request, its evidence, its event."""
        def sealed(tx: CompletionStore, result: SignatureResult) -> None:
            # The storing transaction locked the document: its row id came with the result.
            for request in tx.signing_requests.of_document(tenant, result.after.document_row_id, status=SIGNED,
                                                            for_update=True):
                self._mark_sealed(tx, request, actor, version=result.version, sha256=result.sha256,
                                  signer_serial=result.signer_serial)
        return sealed

    def _mark_sealed(self, tx: CompletionStore, row: SigningRequestRow, actor: str, *, version: int,
                     sha256: str, signer_serial: str) -> None:
        """The request (locked by the caller, ``signed``) is sealed: its evidence and its event follow."""
        row.sealed_at = self.clock.now()
        self.evidence.sealed(tx, row, sha256=sha256, signer_serial=signer_serial, at=row.sealed_at)
        self.requests.transition(tx, row, SEALED, actor, version=version, sha256=sha256)

    def finish_interrupted(self, grace: dt.timedelta = dt.timedelta(seconds=30)) -> int:
        """Finish what a crash cut off after the client's signature was stored (the dispatcher calls this).

        The client's signature, the request's ``signed`` state and the evidence
        record are one transaction; the MFO's seal and the sealed evidence
        report follow in their own. A process killed in between leaves a
        request ``signed`` that asked for the seal, or evidence without its
        report: after ``grace`` (so a live request's own seal goes first) the
        seal is applied, or the request follows a seal already on the
        document, and the report is sealed.
        """
        given_up = self.__dict__.setdefault("_given_up", set())
        with self.registry.transaction(readonly=True) as tx:
            pending = [(r, tx.documents.by_id(r.tenant, r.document_id))
                       for r in tx.signing_requests.signed_before(self.clock.now() - grace)
                       if r.public_id not in given_up]
        for row, document in pending:
            actor = f"request:{row.public_id}"
            try:
                if row.status == SIGNED and row.seal and document.status == DocumentStatus.SEALED:
                    self._follow_seal(row.public_id)
                elif row.status == SIGNED and row.seal:
                    self.signing.sign_with_seal(actor, row.tenant, document.public_id, level=row.level,
                                                on_stored=self._on_seal(row.tenant, actor), language=row.language)
                self.evidence.seal_report(actor, row.tenant, row.id)
            except QoltanbaError as error:
                # Once per process, so a lasting cause (a revoked seal) is not retried every second;
                # the operator fixes it and restarts, or the MFO seals through its route.
                given_up.add(row.public_id)
                log.warning("signing request %s: finishing after an interruption failed: %s", row.public_id, error)
        if pending:
            self.requests.events.kick()
        return len(pending)

    def _follow_seal(self, request_id: str) -> None:
        """The document was sealed without its request moving along: record the seal on the request."""
        with self.registry.transaction() as tx:
            row = tx.signing_requests.for_client(request_id, for_update=True)
            latest = tx.document_versions.latest(row.document_id)
            if row.status == SIGNED and latest.signature_field == SEAL_FIELD:
                self._mark_sealed(tx, row, "system", version=latest.number, sha256=latest.sha256,
                                  signer_serial=latest.signer_serial or "")

    def _finish(self, request_id: str, grant: Grant | None = None, *,
                after: DocumentSnapshot | None = None) -> ClientRequestView:
        """The MFO's seal (when the request asks for it), then the sealed evidence report.

        ``grant``: what the factor step read of the request (its seal, level and language do not change), so it
        is not read again; ``after``: the document as the client's signature left it (sign_with_seal)."""
        actor = f"request:{request_id}"
        if grant is not None:
            tenant, document, seal, level = grant.tenant, grant.document, grant.seal, grant.level
            internal_id, language = grant.request, grant.language
        else:
            with self.registry.transaction(readonly=True) as tx:
                row = tx.signing_requests.for_client(request_id)
                tenant, document, seal, level = (row.tenant, tx.documents.by_id(row.tenant, row.document_id)
                                                 .public_id, row.seal, row.level)
                internal_id, language = row.id, row.language
        if seal:
            try:
                self.signing.sign_with_seal(actor, tenant, document, level=level, after=after,
                                            on_stored=self._on_seal(tenant, actor), language=language)
            except QoltanbaError as error:
                # The client's signature stands; the MFO may seal later through its own route.
                log.warning("signing request %s: the seal was not applied: %s", request_id, error)
        try:
            self.evidence.seal_report(actor, tenant, internal_id)
        except QoltanbaError as error:
            log.warning("signing request %s: the evidence report was not sealed: %s", request_id, error)
        self.requests.events.kick()
        with self.registry.transaction(readonly=True) as tx:
            return self._client_view(tx, tx.signing_requests.for_client(request_id))


def _certificate(text: str) -> x509.Certificate:
    try:
        data = text.encode() if isinstance(text, str) else b""
        return load_certificate(data if data.lstrip().startswith(b"-----BEGIN")
                                else base64.b64decode(data, validate=True))
    except (ValueError, binascii.Error):
        raise InvalidInput("the certificate is refused", [Problem("certificate", "is not a PEM (or base64 DER) "
                                                                                 "X.509 certificate")]) from None


__all__ = ["ClientSigning", "CompletionStorage", "CompletionStore", "Grant", "OpenSession", "auth_type"]
