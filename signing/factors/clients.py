"""Clients and their enrolled factors, within one MFO's tenant (issue 5, LOAN-7).

An MFO registers a client: IIN (checksum), name, phone, kind (individual,
individual entrepreneur, legal entity with its BIN). The phone is confirmed
by an SMS code (LOAN-7) before it can carry signing codes. Then factors are
enrolled: a TOTP authenticator (its seed shown once, kept sealed, confirmed
by a first code), a biometric enrolment with the identity provider (its
reference), and EDS certificates (serial and issuer, with the certificate).

An EDS certificate is enrolled only if it could sign now (LOAN-2: issued by
an accredited Kazakh CA): one of our national CA's, valid in our registry,
or one of an accredited centre imported into the trust store, chaining to
that anchor, valid, and not revoked according to its issuer's OCSP or CRL
fetched at enrolment (signing/factors/accredited.py); and it names the client.

LOAN-9: a new phone number for a client whose phone is already confirmed
is accepted only with a signed request for a details-change document of
that client; once the new phone is confirmed the old one is revoked.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from contextlib import AbstractContextManager
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca import identity
from ca.errors import ConflictError, InvalidInput, NotFound, Problem
from ca.keycheck import load_certificate
from registry import (
    ClientFactorRow,
    ClientRow,
    Conflict,
    DocumentRow,
    FactorStatus,
    SigningRequestRow,
    SigningRequestStatus,
)
from signing.documents.metadata import CLIENT_KINDS, DETAILS_CHANGE, ENTREPRENEUR, INDIVIDUAL, LEGAL_ENTITY
from signing.factors.accredited import holder_problems
from signing.factors.authorisation import AuditTrail
from signing.factors.client_certificates import ClientCertificates
from signing.factors.enrolment import (
    ClientRegistration,
    ClientView,
    FactorEnrolment,
    FactorView,
    factor_view,
    language_problems,
    only_fields,
    phone_field,
    text_field,
)
from signing.factors.errors import FactorRefused
from signing.factors.otp import CodeStore, check_code, issue_code
from signing.factors.own_enrolment import begin_totp, send_link
from signing.factors.sms import SMSSender, english, masked, phone_text
from signing.policies.policy import CodePolicy, Factor

PENDING, ACTIVE, REVOKED = FactorStatus.PENDING, FactorStatus.ACTIVE, FactorStatus.REVOKED
SIGNED, SEALED = SigningRequestStatus.SIGNED, SigningRequestStatus.SEALED


class Secrets(Protocol):
    def seal(self, plaintext: bytes, context: str) -> bytes: ...

    def open(self, sealed: bytes, context: str) -> bytes: ...

    def keyed_hash(self, *parts: str | bytes) -> str: ...

    def matches(self, expected_hex: str, *parts: str | bytes) -> bool: ...


class ClientRows(Protocol):
    def add(self, row: ClientRow) -> ClientRow: ...
    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> ClientRow | None: ...


class FactorRows(Protocol):
    def add(self, row: ClientFactorRow) -> ClientFactorRow: ...
    def by_public_id(self, client_id: int, public_id: str, *, for_update: bool = False) -> ClientFactorRow | None: ...
    def of_client(self, client_id: int, *, kind: str | None = None, status: str | None = None,
                  for_update: bool = False) -> list[ClientFactorRow]: ...


class SignedRequests(Protocol):
    """LOAN-9: the details-change request a new phone names."""

    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> SigningRequestRow | None: ...


class Documents(Protocol):
    def by_id(self, tenant: str, document_id: int) -> DocumentRow | None: ...


class ClientStore(CodeStore, Protocol):
    """What registering and enrolling touch in one unit of work (a ``registry.RegistryTransaction`` is one)."""

    @property
    def clients(self) -> ClientRows: ...
    @property
    def client_factors(self) -> FactorRows: ...
    @property
    def signing_requests(self) -> SignedRequests: ...
    @property
    def documents(self) -> Documents: ...
    @property
    def audit(self) -> AuditTrail: ...


class ClientStorage(Protocol):
    """The registry as the client service sees it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[ClientStore]: ...


class ClientService:
    def __init__(self, registry: ClientStorage, clock, secrets_: Secrets, sms: SMSSender, codes: CodePolicy,
                 provider: str, issuer: str = "Qoltanba", certificates: ClientCertificates | None = None,
                 base_url: str = "http://127.0.0.1:8000", say=english) -> None:  # noqa: ANN001 - Say
        """``certificates`` checks EDS certificates at enrolment; without it only whom they name is checked.
        ``base_url``: where the link sent to the client's phone to enrol an authenticator points (issue 15).
        ``say(language, english)``: the SMS texts in the client's language (the catalogues, issue 20)."""
        self.say = say
        self.certificates = certificates
        self.base_url = base_url
        self.registry = registry
        self.clock = clock
        self.secrets = secrets_
        self.sms = sms
        self.codes = codes
        self.provider = provider
        self.issuer = issuer

    # -- registration --------------------------------------------------------------------

    def register(self, actor: str, tenant: str, client: ClientRegistration) -> ClientView:
        """Register a client and send the code that confirms the phone (LOAN-7)."""
        problems: list[Problem] = []
        kind = client.kind
        if kind not in CLIENT_KINDS:
            problems.append(Problem("kind", "must be one of: " + ", ".join(CLIENT_KINDS)))
        iin = text_field(client.iin, "iin", problems, max_length=12)
        if iin is not None:
            problems += [Problem("iin", m) for m in identity.validate_iin(iin)]
        bin_ = text_field(client.bin, "bin", problems, max_length=12, required=kind == LEGAL_ENTITY)
        if bin_ is not None:
            problems += [Problem("bin", m) for m in identity.validate_bin(bin_)]
            if kind == INDIVIDUAL:
                problems.append(Problem("bin", "an individual has no BIN"))
            elif kind == ENTREPRENEUR and bin_[4:5] != "6":
                problems.append(Problem("bin", "an entrepreneur's BIN is that of a joint entrepreneurship "
                                               "(5th digit 6); leave it out otherwise"))
            elif kind == LEGAL_ENTITY and bin_[4:5] == "6":
                problems.append(Problem("bin", "a joint entrepreneurship's BIN is not a legal entity's"))
        name = text_field(client.name, "name", problems, max_length=200)
        phone = phone_field(client.phone, problems)
        problems += language_problems(client.language)
        if problems:
            raise InvalidInput("the client is refused", problems)
        now = self.clock.now()
        try:
            with self.registry.transaction() as tx:
                row = tx.clients.add(ClientRow(
                    public_id=secrets.token_hex(16), tenant=tenant, kind=kind, id_number=bin_ or iin, iin=iin,
                    bin=bin_, name=name, phone=phone, created_at=now, created_by=actor))
                factor = tx.client_factors.add(ClientFactorRow(
                    public_id=secrets.token_hex(16), client_id=row.id, kind=Factor.SMS.value, status=PENDING,
                    phone=phone, created_at=now))
                code, _row = issue_code(tx, self.secrets, self.codes, now, factor=factor, request_id=None,
                                        binding=factor.public_id, document_sha256=None)
                tx.audit.append(at=now, actor=actor, action="client.registered", subject=f"client:{row.public_id}",
                                details={"tenant": tenant, "kind": kind})
                view = self._view(tx, row)
        except Conflict:
            raise ConflictError("this tenant has registered this client already") from None
        self._send(tenant, phone, code, client.language)
        return view

    def get(self, tenant: str, client_id: str) -> ClientView:
        with self.registry.transaction(readonly=True) as tx:
            return self._view(tx, self._client(tx, tenant, client_id))

    # -- factors --------------------------------------------------------------------------

    def enrol(self, actor: str, tenant: str, client_id: str, factor: FactorEnrolment) -> FactorView:
        kind = factor.kind
        handlers = {Factor.TOTP.value: self._enrol_totp, Factor.BIOMETRIC.value: self._enrol_biometric,
                    Factor.EDS.value: self._enrol_eds, Factor.SMS.value: self._enrol_phone}
        problems = language_problems(factor.language)
        if kind not in handlers:
            problems.insert(0, Problem("kind", "must be one of: " + ", ".join(handlers)))
        if problems:
            raise InvalidInput("the factor is refused", problems)
        # An EDS certificate's chain and status may be fetched over the network: before the transaction.
        extra = {"checked": self._check_eds(factor)} if kind == Factor.EDS.value else {}
        now = self.clock.now()
        with self.registry.transaction() as tx:
            client = self._client(tx, tenant, client_id)
            view, code = handlers[kind](tx, client, factor, now, **extra, **({"actor": actor} if kind == "totp"
                                                                              else {}))
            phone = client.phone
            tx.audit.append(at=now, actor=actor, action="factor.enrolled", subject=f"client:{client.public_id}",
                            details={"tenant": tenant, "factor": view.id, "kind": kind, "status": view.status})
        if code is not None and kind == Factor.TOTP.value:
            send_link(self.sms, tenant, phone, self.base_url, view.id, code,   # the client's phone, never the MFO
                      say=self.say, language=factor.language)
        elif code is not None:
            self._send(tenant, view.phone, code, factor.language)
        return view

    def _enrol_totp(self, tx: ClientStore, client: ClientRow, factor: FactorEnrolment, now: dt.datetime, *,
                    actor: str) -> tuple[FactorView, str | None]:
        """Issue 15: the seed goes to the client's own channel (signing/factors/own_enrolment.py), not here."""
        only_fields(factor, {"kind"})
        row, token = begin_totp(tx, self.secrets, client, now, actor)
        return factor_view(row), token

    def _enrol_biometric(self, tx: ClientStore, client: ClientRow, factor: FactorEnrolment,
                         now: dt.datetime) -> tuple[FactorView, str | None]:
        only_fields(factor, {"kind", "reference", "provider"})
        problems: list[Problem] = []
        reference = text_field(factor.reference, "reference", problems, max_length=128)
        provider = factor.provider if factor.provider is not None else self.provider
        if provider != self.provider:
            problems.append(Problem("provider", f"must be the configured identity provider, {self.provider!r}"))
        if problems:
            raise InvalidInput("the biometric enrolment is refused", problems)
        for old in tx.client_factors.of_client(client.id, kind=Factor.BIOMETRIC.value, status=ACTIVE):
            old.status, old.revoked_at = REVOKED, now
        row = tx.client_factors.add(ClientFactorRow(
            public_id=secrets.token_hex(16), client_id=client.id, kind=Factor.BIOMETRIC.value, status=ACTIVE,
            provider=provider, reference=reference, created_at=now, confirmed_at=now))
        return factor_view(row), None

    def _check_eds(self, factor: FactorEnrolment) -> tuple[x509.Certificate, list[Problem]]:
        """The certificate read, and every problem that keeps it from signing (chain, validity, status)."""
        only_fields(factor, {"kind", "certificate"})
        text = factor.certificate
        try:
            data = text.encode() if isinstance(text, str) else b""
            cert = load_certificate(data if data.lstrip().startswith(b"-----BEGIN")
                                    else base64.b64decode(data, validate=True))
        except (ValueError, binascii.Error):
            raise InvalidInput("the certificate is refused", [Problem("certificate", "is not a PEM (or base64 "
                                                                                     "DER) X.509 certificate")]) from None
        return cert, self.certificates.problems(cert) if self.certificates is not None else []

    def _enrol_eds(self, tx: ClientStore, client: ClientRow, factor: FactorEnrolment, now: dt.datetime, *,
                   checked: tuple[x509.Certificate, list[Problem]]) -> tuple[FactorView, str | None]:
        cert, problems = checked
        problems = problems + holder_problems(cert, client_kind=client.kind, iin=client.iin, bin_=client.bin)
        if problems:
            raise InvalidInput("the certificate is refused", problems)
        serial, issuer = format(cert.serial_number, "x"), cert.issuer.rfc4514_string()
        if any(f.certificate_serial == serial and f.certificate_issuer == issuer
               for f in tx.client_factors.of_client(client.id, kind=Factor.EDS.value, status=ACTIVE)):
            raise ConflictError("this certificate is enrolled already")
        row = tx.client_factors.add(ClientFactorRow(
            public_id=secrets.token_hex(16), client_id=client.id, kind=Factor.EDS.value, status=ACTIVE,
            certificate_serial=serial, certificate_issuer=issuer,
            certificate_der=cert.public_bytes(serialization.Encoding.DER), created_at=now, confirmed_at=now))
        return factor_view(row), None

    def _enrol_phone(self, tx: ClientStore, client: ClientRow, factor: FactorEnrolment,
                     now: dt.datetime) -> tuple[FactorView, str | None]:
        """LOAN-9: another phone only with a signed details-change request of this client."""
        only_fields(factor, {"kind", "phone", "details_change_request"})
        problems: list[Problem] = []
        phone = phone_field(factor.phone, problems)
        if problems:
            raise InvalidInput("the phone is refused", problems)
        if tx.client_factors.of_client(client.id, kind=Factor.SMS.value, status=ACTIVE):
            request_id = factor.details_change_request
            request = tx.signing_requests.by_public_id(client.tenant, request_id) if isinstance(request_id, str) \
                else None
            document = tx.documents.by_id(client.tenant, request.document_id) if request is not None else None
            if (request is None or request.client_id != client.id or request.status not in (SIGNED, SEALED)
                    or document is None or document.kind != DETAILS_CHANGE):
                raise ConflictError("LOAN-9: a new phone number needs the client's signed details change "
                                    "(biometrics and EDS); name its signing request in details_change_request",
                                    [Problem("details_change_request", "is not a signed details-change request "
                                                                       "of this client")])
        row = tx.client_factors.add(ClientFactorRow(
            public_id=secrets.token_hex(16), client_id=client.id, kind=Factor.SMS.value, status=PENDING,
            phone=phone, created_at=now))
        code, _ = issue_code(tx, self.secrets, self.codes, now, factor=row, request_id=None, binding=row.public_id,
                             document_sha256=None)
        return factor_view(row), code

    def confirm(self, actor: str, tenant: str, client_id: str, factor_id: str, code: str) -> FactorView:
        """A pending phone (by its SMS code) or TOTP (by a first code) becomes active."""
        now = self.clock.now()
        refused = None
        with self.registry.transaction() as tx:
            client = self._client(tx, tenant, client_id)
            factor = tx.client_factors.by_public_id(client.id, factor_id, for_update=True)
            if factor is None:
                raise NotFound(f"no factor {factor_id}")
            if factor.status != PENDING:
                raise ConflictError(self._not_pending(factor))
            if factor.kind == Factor.SMS.value:
                refused = check_code(tx, self.secrets, now, factor=factor, request_id=None, binding=factor.public_id,
                                     document_sha256=None, code=code)
                if refused is not None:
                    sent = tx.one_time_codes.sent(factor.id, None, "enrolment")
                    if sent and sent[-1].attempts >= self.codes.max_failures and sent[-1].superseded_at is None:
                        sent[-1].superseded_at = now
                        refused += f"; after {self.codes.max_failures} wrong tries the code is void, ask for a new one"
            elif factor.kind == Factor.TOTP.value:
                raise ConflictError("the client confirms their authenticator on their own channel (the link sent "
                                    "to their phone); its seed and codes never pass through the MFO")
            else:
                raise ConflictError(f"a {factor.kind} factor needs no confirmation")
            if refused is None:
                factor.status, factor.confirmed_at = ACTIVE, now
                if factor.kind == Factor.SMS.value:
                    # The confirmed phone replaces the earlier ones (LOAN-9 allowed it).
                    for old in tx.client_factors.of_client(client.id, kind=Factor.SMS.value, status=ACTIVE):
                        if old.id != factor.id:
                            old.status, old.revoked_at = REVOKED, now
                    client.phone = factor.phone
            tx.audit.append(at=now, actor=actor, action="factor.confirmed" if refused is None else "factor.failed",
                            subject=f"client:{client.public_id}",
                            details={"tenant": tenant, "factor": factor.public_id, "kind": factor.kind,
                                     "stage": "enrolment", **({"reason": refused} if refused else {})})
            view = factor_view(factor)
        if refused is not None:
            raise FactorRefused("the code is refused", [Problem("code", refused)])
        return view

    def _not_pending(self, factor: ClientFactorRow) -> str:
        if factor.kind == Factor.TOTP.value and factor.confirmed_at is None and factor.status == REVOKED:
            return (f"the TOTP enrolment was discarded after {factor.failures} wrong codes; "
                    "enrol the authenticator again")
        return f"the factor is {factor.status}, not waiting for confirmation"

    def resend(self, actor: str, tenant: str, client_id: str, factor_id: str, language: str = "kk") -> FactorView:
        """A new code for a phone waiting for confirmation (throttled), the SMS in ``language``."""
        if problems := language_problems(language):
            raise InvalidInput("the code is not sent", problems)
        now = self.clock.now()
        with self.registry.transaction() as tx:
            client = self._client(tx, tenant, client_id)
            factor = tx.client_factors.by_public_id(client.id, factor_id, for_update=True)
            if factor is None:
                raise NotFound(f"no factor {factor_id}")
            if factor.kind != Factor.SMS.value or factor.status != PENDING:
                raise ConflictError("only a phone waiting for confirmation gets a new code")
            code, _ = issue_code(tx, self.secrets, self.codes, now, factor=factor, request_id=None,
                                 binding=factor.public_id, document_sha256=None)
            view = factor_view(factor)
        self._send(tenant, factor.phone, code, language)
        return view

    # -- helpers ---------------------------------------------------------------------------

    def _send(self, tenant: str, phone: str, code: str, language: str) -> None:
        minutes = int(self.codes.ttl.total_seconds() // 60)
        self.sms.send(tenant, phone, phone_text(self.say, language, code=code, minutes=minutes))

    def _client(self, tx: ClientStore, tenant: str, client_id: str) -> ClientRow:
        row = tx.clients.by_public_id(tenant, client_id) if isinstance(client_id, str) and len(client_id) == 32 \
            else None
        if row is None:
            raise NotFound(f"no client {client_id}")
        return row

    def _view(self, tx: ClientStore, row: ClientRow) -> ClientView:
        factors = tuple(factor_view(f) for f in tx.client_factors.of_client(row.id))
        return ClientView(id=row.public_id, kind=row.kind, iin=row.iin, bin=row.bin, name=row.name, phone=row.phone,
                          created_at=row.created_at, factors=factors)


__all__ = ["ACTIVE", "PENDING", "REVOKED", "ClientCertificates", "ClientRegistration", "ClientService", "ClientStorage",
           "ClientStore", "ClientView", "FactorEnrolment", "FactorView", "factor_view", "masked"]
