"""Issuance: one certificate from a request, checked, built, signed once, stored.

Issuance follows Boulder's steps: everything that may refuse is checked
first, then the certificate is built from policy, signed once by the
centre's CA signer, and stored with its journal row and audit entry in one
transaction, so a failure at any step leaves nothing behind.

``Issuance`` holds the centres' CA signers (built in the wiring), not a key
backend: the only other keys it reaches are those it makes for a holder
(``KeySource.service``), through ``KeyMaker``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm as CryptographyUnsupported
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from ca.clock import Clock
from ca.errors import ConflictError, InvalidInput, Problem
from ca.issuer import CASigner, CertificateIssuer, IssuingCA, SubjectPublicKey
from ca.keycheck import parse_csr
from ca.policy import GOVERNMENT, HierarchyPolicy
from ca.profiles import PROFILES, CertificateProfile, HolderKind
from ca.subject import SubjectData, check_subject, name_and_dn
from keys import (CarrierKey, KeyAlgorithm, KeyBackend, KeyInfo, UnsupportedAlgorithm, algorithm_of,
                  certificate_public_key)
from registry import CentreStatus, CertificateStatus, Conflict, Registry, RegistryTransaction


@dataclass(frozen=True)
class JournalContext:
    """The issuance journal's columns that come from the request (GOV-3, appendix 3)."""

    state_body: str | None = None
    letter_number: str | None = None
    letter_date: dt.date | None = None
    form_numbers: str | None = None


@dataclass(frozen=True)
class KeySource:
    """Where the holder's key comes from: exactly one of the fields is set.

    ``csr``: the holder's own key (proof of possession checked).
    ``pkcs12_password``: the centre generates it and writes a PKCS#12 carrier.
    ``token``: the centre generates it on the holder's token (a key backend).
    ``service``: the centre generates it in its own backend and keeps the handle
    (labelled ``label`` there when given, else with the holder; ``fresh_label``: ``label`` has 128 random
    bits, so a token is not searched for it first).
    """

    csr: bytes | None = None
    pkcs12_password: bytes | None = None
    token: KeyBackend | None = None
    token_label: str | None = None
    service: bool = False
    algorithm: KeyAlgorithm | None = None
    label: str | None = None
    fresh_label: bool = False


@dataclass(frozen=True)
class IssueRequest:
    centre: str
    profile: str
    subject: SubjectData
    key: KeySource
    actor: str
    application_id: int | None = None
    journal: JournalContext = field(default_factory=JournalContext)
    validity: dt.timedelta | None = None


@dataclass(frozen=True)
class IssuedCertificate:
    serial: str
    centre: str
    profile: str
    certificate: x509.Certificate
    pkcs12: bytes | None = None
    key_handle: str | None = None
    carrier_serial: str | None = None

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def serial_hex(serial: int) -> str:
    return format(serial, "x")


def new_serial() -> int:
    # RFC 5280 §4.1.2.2: positive, at most 20 octets. 159 random bits keep
    # the top bit clear and give far more than the 64 bits the issue asks.
    return secrets.randbits(159) | (1 << 158)


class Centres(Protocol):
    """What issuance reads of the hierarchy (ca.hierarchy.Hierarchy)."""

    def issuing_ca(self, code: str, tx: RegistryTransaction | None = None) -> IssuingCA: ...


class KeyMaker(Protocol):
    """Where the centre makes a key it keeps for the holder (a service certificate, a client's held key)."""

    def generate(self, algorithm: KeyAlgorithm, label: str, *, fresh: bool = False) -> KeyInfo: ...

    def public_key(self, handle: str) -> PublicKeyTypes: ...


class Issuance:
    """Issues certificates under the hierarchy's policy, each signed by its centre's CA signer."""

    def __init__(self, registry: Registry, clock: Clock, policy: HierarchyPolicy, centres: Centres,
                 ca_keys: Mapping[str, CASigner], keys: KeyMaker) -> None:
        self.registry = registry
        self.clock = clock
        self.policy = policy
        self.centres = centres
        self._ca_keys = ca_keys
        self._keys = keys
        self.issuer = CertificateIssuer()

    def check_request(self, request: IssueRequest) -> tuple[CertificateProfile, list[Problem]]:
        """Every reason the request cannot be issued, without writing anything."""
        problems: list[Problem] = []
        prof = PROFILES.get(request.profile)
        if prof is None:
            return PROFILES["individual-sign"], [Problem("profile", f"unknown profile {request.profile!r}; "
                                                         f"known: {', '.join(sorted(PROFILES))}")]
        if request.centre not in prof.centres:
            problems.append(Problem("centre", f"the {request.centre} centre does not issue {prof.name} "
                                              f"certificates (issued by: {', '.join(sorted(prof.centres))})"))
        if prof.name == "root-ca":
            problems.append(Problem("profile", "the root certificate is created by `init` only"))
        problems.extend(check_subject(prof, request.subject, prefix="subject."))
        sources = [request.key.csr is not None, request.key.pkcs12_password is not None,
                   request.key.token is not None, request.key.service]
        if sum(sources) != 1:
            problems.append(Problem("key", "give exactly one key source: a CSR, a PKCS#12 carrier, "
                                           "a token, or a service key"))
        if request.key.pkcs12_password is not None and len(request.key.pkcs12_password) < 8:
            problems.append(Problem("password", "the carrier password must be at least 8 characters"))
        return prof, problems

    def issue(self, request: IssueRequest, *, holder_override: str | None = None,
              public_key: SubjectPublicKey | None = None,
              tx: RegistryTransaction | None = None) -> IssuedCertificate:
        """Issue one certificate; raises InvalidInput listing every problem."""
        prof, problems = self.check_request(request)
        if request.key.csr is not None and public_key is None:
            public_key, csr_problems = parse_csr(request.key.csr)
            problems.extend(csr_problems)
        if problems:
            raise InvalidInput("the certificate cannot be issued", problems)
        if tx is not None:
            return self._issue_in(tx, request, prof, public_key, holder_override)
        try:
            with self.registry.transaction() as own_tx:
                return self._issue_in(own_tx, request, prof, public_key, holder_override)
        except Conflict as conflict:
            raise conflict_error(conflict) from conflict

    def _generated_key_algorithm(self, request: IssueRequest) -> KeyAlgorithm:
        """The algorithm of a key the centre generates for a holder when the request names none.

        GOV-3/GOV-7: a GOST centre writes GOST keys onto the PKCS#12 carriers
        it hands out, so its holders sign in the algorithm its relying parties
        verify (the government CA: GOST R 34.10-2015 512 by default). Tokens
        keep the service algorithm (PKCS#11 has no GOST mechanism here), and
        so do carriers of an RSA/EC centre: a CA's RSA-4096 is no user key.
        """
        centre_algorithm = self.policy.centre(request.centre).algorithm
        if request.key.pkcs12_password is not None and centre_algorithm.is_gost:
            return centre_algorithm
        return self.policy.services.algorithm

    def _issue_in(self, tx: RegistryTransaction, request: IssueRequest, prof: CertificateProfile,
                  public_key: SubjectPublicKey | None,
                  holder_override: str | None) -> IssuedCertificate:
        ca = self.centres.issuing_ca(request.centre, tx)
        if tx.centres.status(ca.centre_id) != CentreStatus.ACTIVE:
            raise ConflictError(f"the {request.centre} centre has stopped work and issues no certificates")
        holder = holder_override or request.subject.holder
        if request.centre == GOVERNMENT and tx.certificates.active_single_key(ca.centre_id, holder):
            raise conflict_error(Conflict("uq_certificates_single_key_holder"))
        now = self.clock.now().replace(microsecond=0)
        algorithm = request.key.algorithm or self._generated_key_algorithm(request)
        carrier_key, key_handle, carrier, carrier_serial = None, None, "holder-csr", None
        if request.key.pkcs12_password is not None:
            carrier_key = CarrierKey.generate(algorithm)
            public_key = carrier_key.public_key()
            carrier, carrier_serial = "pkcs12", f"P12-{secrets.token_hex(6).upper()}"
        elif request.key.token is not None:
            label = request.key.token_label or f"{holder}-{secrets.token_hex(4)}"
            info = request.key.token.generate(algorithm, label)
            public_key = request.key.token.public_key(info.handle)  # type: ignore[assignment]
            carrier, carrier_serial = "token", info.handle
        elif request.key.service:
            info = self._keys.generate(algorithm, request.key.label or holder,
                                       fresh=request.key.fresh_label and request.key.label is not None)
            public_key = self._keys.public_key(info.handle)  # type: ignore[assignment]
            key_handle, carrier = info.handle, "service"
        assert public_key is not None  # one key source was checked above
        serial = new_serial()
        # People's certificates follow the policy's one year (NAT-2, GOV-7);
        # CA and service certificates (TSA, OCSP) keep their profile's validity.
        person = prof.holder_kind in (HolderKind.INDIVIDUAL, HolderKind.LEGAL_ENTITY, HolderKind.GOVERNMENT)
        validity = request.validity or (self.policy.end_entity_validity if person else prof.validity)
        not_after = min(now + validity, ca.certificate.not_valid_after_utc)
        name, subject_dn = name_and_dn(prof, request.subject)
        builder = self.issuer.build(ca=ca, profile=prof, subject=name,
                                    public_key=public_key, serial=serial, not_before=now, not_after=not_after,
                                    roles=request.subject.roles, email=request.subject.email)
        cert = self.issuer.sign(builder, self._ca_keys[request.centre], public_key)
        der = cert.public_bytes(serialization.Encoding.DER)
        if self.policy.lint_at_issuance:
            from ca import lint  # pkilint loads slowly; only operators who lint pay for it

            lint.check(der)
        pkcs12 = None
        if carrier_key is not None:
            pkcs12 = carrier_key.to_pkcs12(request.subject.display_name, cert, list(ca.chain),
                                           request.key.pkcs12_password)  # type: ignore[arg-type]
        generated = algorithm if request.key.csr is None else None
        store_certificate(tx, ca.centre_id, cert, prof, request.subject, request.actor, now,
                          key_handle=key_handle, algorithm=generated, carrier=carrier, journal=request.journal,
                          carrier_serial=carrier_serial, holder=holder, single_key=request.centre == GOVERNMENT,
                          application_id=request.application_id, der=der, subject_dn=subject_dn,
                          key_algorithm=generated.value if generated else algorithm_name(cert, public_key),
                          validity=(now.astimezone(dt.timezone.utc), not_after.astimezone(dt.timezone.utc)))
        return IssuedCertificate(serial=serial_hex(serial), centre=request.centre, profile=prof.name,
                                 certificate=cert, pkcs12=pkcs12, key_handle=key_handle,
                                 carrier_serial=carrier_serial)


def conflict_error(conflict: Conflict) -> ConflictError:
    if conflict.constraint == "uq_certificates_single_key_holder":
        return ConflictError("the holder already has a valid key at this centre",
                             [Problem("iin", "GOV-4: only one private key per holder; revoke the "
                                             "current certificate first")])
    return ConflictError(f"the registry refused the write ({conflict.constraint})")


def store_certificate(tx: RegistryTransaction, issuer_id: int, cert: x509.Certificate, prof: CertificateProfile,
                      subject: SubjectData, actor: str, now: dt.datetime, *, key_handle: str | None,
                      algorithm: KeyAlgorithm | None, carrier: str, journal: JournalContext,
                      carrier_serial: str | None = None, holder: str | None = None, single_key: bool = False,
                      application_id: int | None = None, der: bytes | None = None, subject_dn: str | None = None,
                      key_algorithm: str | None = None,
                      validity: tuple[dt.datetime, dt.datetime] | None = None) -> None:
    """The certificate row, its issuance-journal row and its audit entry (what init and issuance record).

    ``der``, ``subject_dn``, ``key_algorithm`` and ``validity`` (the UTC bounds the certificate was built with)
    save re-encoding and re-parsing what the caller has at hand.
    """
    der = der or cert.public_bytes(serialization.Encoding.DER)
    serial = serial_hex(cert.serial_number)
    holder = holder or subject.holder
    key_algorithm = key_algorithm or (algorithm.value if algorithm else algorithm_name(cert))
    # Each read of the certificate's bounds builds a datetime from its DER.
    not_before, not_after = validity or (cert.not_valid_before_utc, cert.not_valid_after_utc)
    tx.certificates.record_issuance(dict(
        issuer_id=issuer_id, serial=serial, profile=prof.name,
        subject_dn=subject_dn or cert.subject.rfc4514_string(),
        common_name=subject.display_name[:200], iin=subject.iin, bin=subject.bin, email=subject.email,
        organisation=subject.organisation, holder=holder, single_key_holder=holder if single_key else None,
        not_before=not_before, not_after=not_after, status=CertificateStatus.VALID,
        key_algorithm=key_algorithm, key_carrier=carrier,
        key_handle=key_handle, fingerprint_sha256=hashlib.sha256(der).hexdigest(), der=der,
        application_id=application_id, issued_by=actor, created_at=now,
    ), dict(
        centre_id=issuer_id, state_body=journal.state_body,
        letter_number=journal.letter_number, letter_date=journal.letter_date,
        holder_name=subject.display_name[:200], issued_at=now, carrier_serial=carrier_serial,
        certificate_serial=serial, form_numbers=journal.form_numbers, valid_from=not_before,
        valid_to=not_after, administrator=actor,
    ))
    # Key generation and the CA key's use are part of the entry (issue 8): who made the holder's key
    # (the centre, on which carrier and with which algorithm, or the holder, by CSR).
    tx.audit.append(at=now, actor=actor, action="certificate.issued", subject=serial,
                    details={"profile": prof.name, "issuer_id": issuer_id, "carrier": carrier,
                             "application_id": application_id,
                             "key": "generated" if algorithm is not None else "holder-csr",
                             "key_algorithm": key_algorithm,
                             "key_handle": key_handle, "carrier_serial": carrier_serial})


def algorithm_name(cert: x509.Certificate, public_key: object | None = None) -> str:
    """The holder key's algorithm as the registry names it; from ``public_key`` when the caller has it."""
    try:
        return algorithm_of(public_key if public_key is not None  # type: ignore[arg-type]
                            else certificate_public_key(cert)).value
    except (UnsupportedAlgorithm, CryptographyUnsupported, ValueError, TypeError):
        if public_key is not None:
            return algorithm_name(cert)
        return cert.public_key_algorithm_oid.dotted_string
