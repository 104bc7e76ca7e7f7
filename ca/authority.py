"""The certification centres' orchestrator: initialise the hierarchy and issue.

Issuance follows Boulder's steps: everything that may refuse is checked
first, then the certificate is built from policy, signed once, and stored
with its journal row and audit entry in one transaction, so a failure at any
step leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm as CryptographyUnsupported
from cryptography.hazmat.primitives import serialization

from ca.approvals import Approval, DualControlRequired
from ca.clock import Clock, SystemClock
from ca.errors import ConflictError, InvalidInput, NotFound, NotInitialised, Problem
from ca.keycheck import parse_csr
from ca.issuer import CAEndpoints, CertificateIssuer, IssuingCA, SubjectPublicKey
from ca.policy import CENTRES, GOVERNMENT, NATIONAL, ROOT, HierarchyPolicy
from ca.profiles import PROFILES, CertificateProfile, HolderKind, Role
from ca.subject import SubjectData, build_name, check_subject
from keys import (CarrierKey, KeyAlgorithm, KeyBackend, KeyNotFound, UnsupportedAlgorithm, algorithm_of,
                  certificate_public_key, spki_of)
from registry import CaKeyRetirementRow, CentreRow, Conflict, Registry, RegistryTransaction

CA_KEY_CREATION = "ca-key.create"   # dual-controlled (issue 8, ca/approvals.py)
CA_KEY_RETIREMENT = "ca-key.retire"  # dual-controlled too: the key is destroyed in its backend

SERVICE_HOLDERS = {
    "ocsp-root": (ROOT, "ocsp-responder"),
    "ocsp-national": (NATIONAL, "ocsp-responder"),
    "ocsp-government": (GOVERNMENT, "ocsp-responder"),
    "tsa": (NATIONAL, "tsa"),
    "mfo-seal": (NATIONAL, "legal-sign"),
    "audit": (NATIONAL, "audit"),
}


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
    ``service``: the centre generates it in its own backend and keeps the handle.
    """

    csr: bytes | None = None
    pkcs12_password: bytes | None = None
    token: KeyBackend | None = None
    token_label: str | None = None
    service: bool = False
    algorithm: KeyAlgorithm | None = None


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


class CertificationAuthority:
    """Initialises the hierarchy and issues certificates under its policy."""

    def __init__(self, registry: Registry, backend: KeyBackend, policy: HierarchyPolicy,
                 clock: Clock | None = None) -> None:
        self.registry = registry
        self.backend = backend
        self.policy = policy
        self.clock = clock or SystemClock()
        self.issuer = CertificateIssuer(backend)
        self._cas: dict[str, IssuingCA] = {}
        self._lock = threading.Lock()

    # -- the hierarchy -------------------------------------------------------

    def issuing_ca(self, code: str, tx: RegistryTransaction | None = None) -> IssuingCA:
        """The signing CA for a centre code, loaded once per process.

        Inside a unit of work pass its ``tx``: SQLite takes the write lock at
        BEGIN, so a second transaction from the same thread would wait on
        the first.
        """
        ca = self._cas.get(code)
        if ca is not None:
            return ca
        if code not in CENTRES:
            raise NotFound(f"no certification centre {code!r}; known: {', '.join(CENTRES)}")
        if tx is None:
            with self.registry.transaction() as own:
                rows = {row.code: row for row in own.centres.all()}
        else:
            rows = {row.code: row for row in tx.centres.all()}
        if code not in rows:
            raise NotInitialised()
        row = rows[code]
        chain: list[x509.Certificate] = []
        parent = row
        while parent is not None:
            chain.append(x509.load_der_x509_certificate(parent.certificate_der))
            parent = next((r for r in rows.values() if r.id == parent.parent_id), None)
        ca = IssuingCA(code=code, certificate=chain[0], key_handle=row.key_handle,
                       endpoints=CAEndpoints(self.policy.base_url, code), centre_id=row.id, chain=tuple(chain))
        with self._lock:
            self._cas[code] = ca
        return ca

    def chain(self, code: str) -> list[x509.Certificate]:
        """The centre's chain, issuing CA first and root last."""
        return list(self.issuing_ca(code).chain)

    def is_initialised(self) -> bool:
        with self.registry.transaction() as tx:
            return {row.code for row in tx.centres.all()} >= set(CENTRES) and all(
                tx.certificates.by_holder(f"service:{name}") for name in SERVICE_HOLDERS)

    def initialise(self, actor: str = "system") -> bool:
        """Create the three centres and the service certificates, once.

        Returns False when everything already existed. The whole hierarchy is
        written in one transaction, so a crash leaves either all or nothing.
        """
        if self.is_initialised():
            return False
        now = self.clock.now().replace(microsecond=0)
        with self.registry.transaction() as tx:
            root = tx.centres.by_code(ROOT) or self._create_root(tx, now, actor)
            for code in (NATIONAL, GOVERNMENT):
                if tx.centres.by_code(code) is None:
                    self._create_subordinate(tx, root, code, now, actor)
        self._cas.clear()
        for name, (centre, profile_name) in SERVICE_HOLDERS.items():
            self._ensure_service_certificate(name, centre, profile_name, actor)
        return True

    def check_ca_key(self, code: str, algorithm: str | None) -> KeyAlgorithm:
        """The algorithm a new CA key for ``code`` gets (the centre's own by default); refuses unknowns."""
        problems = []
        if code not in CENTRES:
            problems.append(Problem("centre", f"unknown centre {code!r}; known: {', '.join(CENTRES)}"))
        chosen: KeyAlgorithm | None = None
        try:
            chosen = KeyAlgorithm(algorithm) if algorithm else None
        except ValueError:
            problems.append(Problem("algorithm", f"unknown algorithm {algorithm!r}; known: "
                                                 f"{', '.join(a.value for a in KeyAlgorithm)}"))
        if problems:
            raise InvalidInput("the CA key cannot be created", problems)
        return chosen or self.policy.centre(code).algorithm

    def create_ca_key(self, code: str, algorithm: str | None, actor: str, approval: Approval | None) -> dict:
        """Generate a new key pair for a centre in the key backend: the key ceremony's first step.

        The hierarchy's first keys are made by ``initialise`` before any
        administrator exists (bootstrap); every later CA key needs a second
        administrator's approval. The key is recorded in the audit log by its
        handle and public-key digest; certifying a centre onto it (rollover)
        is a separate step, not built yet.
        """
        chosen = self.check_ca_key(code, algorithm)
        if approval is None or not approval.covers(CA_KEY_CREATION, actor, centre=code):
            raise DualControlRequired(CA_KEY_CREATION, "creating a CA key needs a second administrator's approval "
                                                       "(dual control): ask with POST /approvals")
        info = self.backend.generate(chosen, f"ca-{code}-{approval.id}")
        spki = spki_of(self.backend.public_key(info.handle))
        created = {"centre": code, "handle": info.handle, "algorithm": chosen.value,
                   "public_key_sha256": hashlib.sha256(spki).hexdigest()}
        with self.registry.transaction() as tx:
            tx.audit.append(at=self.clock.now(), actor=actor, action="ca_key.created", subject=code,
                            details={**created, "approval": approval.id, "approved_by": approval.approved_by})
        return created

    # -- retiring a CA key (dual control) ------------------------------------------

    def check_ca_key_retirement(self, code: object, handle: object) -> dict:
        """What retiring ``handle`` of centre ``code`` would destroy; refuses (every problem at once) otherwise.

        The handle must name a CA key made for that centre (``ca_key.created``
        in the audit log, or the centre's own key from ``init``), not yet
        retired, and not the key the centre signs with: retiring that one is
        stopping the centre (``centre.stop``), 409.
        """
        with self.registry.transaction(readonly=True) as tx:
            return self._retirement(tx, code, handle)

    def _retirement(self, tx: RegistryTransaction, code: object, handle: object) -> dict:
        problems = []
        if not isinstance(code, str) or code not in CENTRES:
            problems.append(Problem("centre", f"unknown centre {code!r}; known: {', '.join(CENTRES)}"))
        if not isinstance(handle, str) or not handle or len(handle) > 200:
            problems.append(Problem("handle", "the CA key's handle (as ca-key.create returned it) is required"))
        if problems:
            raise InvalidInput("the CA key cannot be retired", problems)
        assert isinstance(code, str) and isinstance(handle, str)
        row = tx.centres.by_code(code)
        if row is None:
            raise NotInitialised()
        known = {e.details.get("handle") for e in tx.audit.of("ca_key.created", code)}
        known |= {e.details.get("key_handle") for e in tx.audit.of("centre.created", code)}
        if handle == row.key_handle:
            raise ConflictError(f"{handle} is the key the {code} centre signs with; retiring it is stopping the "
                                "centre, which is its own dual-controlled action (centre.stop)")
        if handle not in known:
            raise InvalidInput("the CA key cannot be retired",
                               [Problem("handle", f"no CA key {handle!r} was created for the {code} centre")])
        retired = tx.ca_key_retirements.by_handle(handle)
        if retired is not None:
            raise ConflictError(f"the CA key {handle} was already retired on {retired.retired_at.isoformat()}")
        try:
            spki = spki_of(self.backend.public_key(handle))
            algorithm = self.backend.algorithm(handle)
        except KeyNotFound:
            raise ConflictError(f"the CA key {handle} is no longer in the {self.backend.name} key backend") from None
        return {"centre": code, "handle": handle, "algorithm": algorithm.value,
                "public_key_sha256": hashlib.sha256(spki).hexdigest(), "centre_id": row.id}

    def retire_ca_key(self, code: str, handle: str, actor: str, approval: Approval | None) -> dict:
        """Destroy a CA key in its backend for good, once a second administrator approved.

        Checked again now (the centre may have moved onto the key meanwhile),
        and the key must still be the one the approver saw (same public-key
        digest). The retirement row, the destruction and the audit entry are
        one unit of work: if the backend refuses, nothing is recorded; the
        unique handle makes a second retirement fail (409).
        """
        if approval is None or not approval.covers(CA_KEY_RETIREMENT, actor, centre=code, handle=handle):
            raise DualControlRequired(CA_KEY_RETIREMENT, "retiring a CA key needs a second administrator's "
                                                         "approval (dual control): ask with POST /approvals")
        now = self.clock.now()
        try:
            with self.registry.transaction() as tx:
                key = self._retirement(tx, code, handle)
                expected = approval.params.get("public_key_sha256")
                if expected is not None and expected != key["public_key_sha256"]:
                    raise ConflictError(f"the handle {handle} names another key than the one approved "
                                        f"(public key SHA-256 {key['public_key_sha256']}, approved {expected})")
                tx.ca_key_retirements.add(CaKeyRetirementRow(
                    handle=handle, centre_id=key.pop("centre_id"), algorithm=key["algorithm"],
                    public_key_sha256=key["public_key_sha256"], retired_at=now, retired_by=actor,
                    approval=approval.id, approved_by=approval.approved_by))
                try:
                    self.backend.destroy(handle)
                except KeyNotFound:
                    raise ConflictError(f"the CA key {handle} is no longer in the {self.backend.name} "
                                        "key backend") from None
                tx.audit.append(at=now, actor=actor, action="ca_key.retired", subject=code,
                                details={**key, "approval": approval.id, "approved_by": approval.approved_by})
        except Conflict as conflict:
            raise ConflictError(f"the CA key {handle} was already retired ({conflict.constraint})") from conflict
        return {**key, "retired_at": now.isoformat()}

    def _create_root(self, tx: RegistryTransaction, now: dt.datetime, actor: str) -> CentreRow:
        cp = self.policy.centre(ROOT)
        key = self.backend.generate(cp.algorithm, f"ca-{ROOT}")
        subject = SubjectData(common_name=cp.name, organisation=cp.organisation)
        prof = PROFILES["root-ca"]
        name = build_name(prof, subject)
        serial = new_serial()
        public_key = self.backend.public_key(key.handle)
        builder = self.issuer.build(ca=None, profile=prof, subject=name,
                                    public_key=public_key,  # type: ignore[arg-type]
                                    serial=serial, not_before=now, not_after=now + cp.validity)
        cert = self.issuer.sign(builder, key.handle, public_key)  # type: ignore[arg-type]
        row = tx.centres.add(CentreRow(code=ROOT, name=cp.name, parent_id=None, key_handle=key.handle,
                                       key_algorithm=cp.algorithm.value, certificate_serial=serial_hex(serial),
                                       certificate_der=cert.public_bytes(serialization.Encoding.DER),
                                       status="active", created_at=now))
        self._store(tx, row.id, cert, prof, subject, actor, now,
                    key_handle=key.handle, algorithm=cp.algorithm, carrier="service", journal=JournalContext())
        tx.audit.append(at=now, actor=actor, action="centre.created", subject=ROOT,
                        details={"serial": serial_hex(serial), "key_handle": key.handle})
        return row

    def _create_subordinate(self, tx: RegistryTransaction, root: CentreRow, code: str,
                            now: dt.datetime, actor: str) -> CentreRow:
        cp = self.policy.centre(code)
        key = self.backend.generate(cp.algorithm, f"ca-{code}")
        root_cert = x509.load_der_x509_certificate(root.certificate_der)
        root_ca = IssuingCA(code=ROOT, certificate=root_cert, key_handle=root.key_handle,
                            endpoints=CAEndpoints(self.policy.base_url, ROOT), centre_id=root.id)
        prof = PROFILES["subordinate-ca"]
        subject = SubjectData(common_name=cp.name, organisation=cp.organisation)
        serial = new_serial()
        public_key = self.backend.public_key(key.handle)
        builder = self.issuer.build(ca=root_ca, profile=prof, subject=build_name(prof, subject),
                                    public_key=public_key,  # type: ignore[arg-type]
                                    serial=serial, not_before=now, not_after=now + cp.validity)
        cert = self.issuer.sign(builder, root.key_handle, public_key)  # type: ignore[arg-type]
        row = tx.centres.add(CentreRow(code=code, name=cp.name, parent_id=root.id, key_handle=key.handle,
                                       key_algorithm=cp.algorithm.value, certificate_serial=serial_hex(serial),
                                       certificate_der=cert.public_bytes(serialization.Encoding.DER),
                                       status="active", created_at=now))
        self._store(tx, root.id, cert, prof, subject, actor, now,
                    key_handle=key.handle, algorithm=cp.algorithm, carrier="service", journal=JournalContext())
        tx.audit.append(at=now, actor=actor, action="centre.created", subject=code,
                        details={"serial": serial_hex(serial), "key_handle": key.handle})
        return row

    def _ensure_service_certificate(self, name: str, centre: str, profile_name: str, actor: str) -> None:
        with self.registry.transaction() as tx:
            if tx.certificates.by_holder(f"service:{name}"):
                return
        sp = self.policy.services
        if name == "mfo-seal":
            subject = SubjectData(surname=sp.mfo_seal_surname, given_name=sp.mfo_seal_given_name,
                                  iin=sp.mfo_seal_iin, bin=sp.mfo_bin, organisation=sp.mfo_name,
                                  roles=(Role.MAY_SIGN,))
        else:
            names = {"tsa": sp.tsa_name, "audit": f"{self.policy.centre(centre).organisation} AUDIT"}
            cn = names.get(name, f"{self.policy.centre(centre).name} OCSP")
            subject = SubjectData(common_name=cn[:64], organisation=self.policy.centre(centre).organisation)
        algorithm = sp.algorithm
        centre_algorithm = self.policy.centre(centre).algorithm
        if profile_name == "ocsp-responder" and centre_algorithm.is_gost:
            # GOV-7: the relying parties of a GOST centre verify GOST; its
            # delegated responder signs with the centre's own algorithm.
            algorithm = centre_algorithm
        self.issue(IssueRequest(centre=centre, profile=profile_name, subject=subject, actor=actor,
                                key=KeySource(service=True, algorithm=algorithm)),
                   holder_override=f"service:{name}")

    def service_certificate(self, name: str) -> CertificateRow:
        with self.registry.transaction() as tx:
            rows = tx.certificates.by_holder(f"service:{name}")
        if not rows:
            raise NotInitialised()
        return rows[-1]

    # -- issuance ------------------------------------------------------------

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
            raise self._conflict_error(conflict, request) from conflict

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

    @staticmethod
    def _conflict_error(conflict: Conflict, request: IssueRequest) -> ConflictError:
        if conflict.constraint == "uq_certificates_single_key_holder":
            return ConflictError("the holder already has a valid key at this centre",
                                 [Problem("iin", "GOV-4: only one private key per holder; revoke the "
                                                 "current certificate first")])
        return ConflictError(f"the registry refused the write ({conflict.constraint})")

    def _issue_in(self, tx: RegistryTransaction, request: IssueRequest, prof: CertificateProfile,
                  public_key: SubjectPublicKey | None,
                  holder_override: str | None) -> IssuedCertificate:
        ca = self.issuing_ca(request.centre, tx)
        if tx.centres.status(ca.centre_id) != "active":
            raise ConflictError(f"the {request.centre} centre has stopped work and issues no certificates")
        holder = holder_override or request.subject.holder
        if request.centre == GOVERNMENT and tx.certificates.active_single_key(ca.centre_id, holder):
            raise self._conflict_error(Conflict("uq_certificates_single_key_holder"), request)
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
            info = self.backend.generate(algorithm, holder)
            public_key = self.backend.public_key(info.handle)  # type: ignore[assignment]
            key_handle, carrier = info.handle, "service"
        assert public_key is not None  # one key source was checked above
        serial = new_serial()
        # People's certificates follow the policy's one year (NAT-2, GOV-7);
        # CA and service certificates (TSA, OCSP) keep their profile's validity.
        person = prof.holder_kind in (HolderKind.INDIVIDUAL, HolderKind.LEGAL_ENTITY, HolderKind.GOVERNMENT)
        validity = request.validity or (self.policy.end_entity_validity if person else prof.validity)
        not_after = min(now + validity, ca.certificate.not_valid_after_utc)
        builder = self.issuer.build(ca=ca, profile=prof, subject=build_name(prof, request.subject),
                                    public_key=public_key, serial=serial, not_before=now, not_after=not_after,
                                    roles=request.subject.roles, email=request.subject.email)
        cert = self.issuer.sign(builder, ca.key_handle, public_key)
        if self.policy.lint_at_issuance:
            from ca import lint  # pkilint loads slowly; only operators who lint pay for it

            lint.check(cert.public_bytes(serialization.Encoding.DER))
        pkcs12 = None
        if carrier_key is not None:
            pkcs12 = carrier_key.to_pkcs12(request.subject.display_name, cert, list(ca.chain),
                                           request.key.pkcs12_password)  # type: ignore[arg-type]
        self._store(tx, ca.centre_id, cert, prof, request.subject, request.actor, now,
                    key_handle=key_handle, algorithm=algorithm if request.key.csr is None else None,
                    carrier=carrier, journal=request.journal, carrier_serial=carrier_serial,
                    holder=holder, single_key=request.centre == GOVERNMENT,
                    application_id=request.application_id)
        return IssuedCertificate(serial=serial_hex(serial), centre=request.centre, profile=prof.name,
                                 certificate=cert, pkcs12=pkcs12, key_handle=key_handle,
                                 carrier_serial=carrier_serial)

    def _store(self, tx: RegistryTransaction, issuer_id: int, cert: x509.Certificate, prof: CertificateProfile,
               subject: SubjectData, actor: str, now: dt.datetime, *, key_handle: str | None,
               algorithm: KeyAlgorithm | None, carrier: str, journal: JournalContext,
               carrier_serial: str | None = None, holder: str | None = None, single_key: bool = False,
               application_id: int | None = None) -> None:
        der = cert.public_bytes(serialization.Encoding.DER)
        serial = serial_hex(cert.serial_number)
        holder = holder or subject.holder
        tx.certificates.record_issuance(dict(
            issuer_id=issuer_id, serial=serial, profile=prof.name, subject_dn=cert.subject.rfc4514_string(),
            common_name=subject.display_name[:200], iin=subject.iin, bin=subject.bin, email=subject.email,
            organisation=subject.organisation, holder=holder, single_key_holder=holder if single_key else None,
            not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc, status="valid",
            key_algorithm=(algorithm.value if algorithm else _algorithm_name(cert)), key_carrier=carrier,
            key_handle=key_handle, fingerprint_sha256=hashlib.sha256(der).hexdigest(), der=der,
            application_id=application_id, issued_by=actor, created_at=now,
        ), dict(
            centre_id=issuer_id, state_body=journal.state_body,
            letter_number=journal.letter_number, letter_date=journal.letter_date,
            holder_name=subject.display_name[:200], issued_at=now, carrier_serial=carrier_serial,
            certificate_serial=serial, form_numbers=journal.form_numbers, valid_from=cert.not_valid_before_utc,
            valid_to=cert.not_valid_after_utc, administrator=actor,
        ))
        # Key generation and the CA key's use are part of the entry (issue 8): who made the holder's key
        # (the centre, on which carrier and with which algorithm, or the holder, by CSR).
        tx.audit.append(at=now, actor=actor, action="certificate.issued", subject=serial,
                        details={"profile": prof.name, "issuer_id": issuer_id, "carrier": carrier,
                                 "application_id": application_id,
                                 "key": "generated" if algorithm is not None else "holder-csr",
                                 "key_algorithm": algorithm.value if algorithm else _algorithm_name(cert),
                                 "key_handle": key_handle, "carrier_serial": carrier_serial})


def _algorithm_name(cert: x509.Certificate) -> str:
    try:
        return algorithm_of(certificate_public_key(cert)).value
    except (UnsupportedAlgorithm, CryptographyUnsupported, ValueError):
        return cert.public_key_algorithm_oid.dotted_string
