"""Wiring: the one place that turns settings into services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from api.settings import Settings
from ca.applications import ApplicationService
from ca.authority import CertificationAuthority
from ca.calendar import WorkingCalendar
from ca.catalogue import CertificateCatalogue
from ca.clock import Clock, SystemClock
from ca.housekeeping import Housekeeper
from ca.publication import CRLPolicy, CRLPublisher
from ca.responder import OCSPPolicy, OCSPResponder
from ca.retention import RetentionService
from ca.revocation import RevocationService
from ca.revocation_applications import RevocationApplications
from ca.policy import CENTRES, GOVERNMENT, NATIONAL, ROOT, CentrePolicy, HierarchyPolicy, ServicePolicy, default_policy
from ca.tsa import TimeStampAuthority, TSAPolicy
from keys import KeyBackend, PKCS11KeyBackend, SoftwareKeyBackend, load_master_key
from registry import Database, Registry
from signing import DocumentLimits, DocumentService
from signing.authorisation import AuthorisationService
from signing.engine import PAdESSigner
from signing.pades import Level
from signing.service import SigningPolicy, SigningService
from signing.stamping import StampPlanner
from signing.timestamps import InProcessTimeStamper
from signing.trust_store import TrustStore
from signing.verification import VerificationLimits
from signing.verification_public import PublicVerification
from signing.verification_sandbox import SandboxedVerifier, SandboxLimits
from signing.validation_data import OurHierarchy, ValidationDataCollector


def policy_from(settings: Settings) -> HierarchyPolicy:
    base = default_policy(settings.base_url, settings.ca_algorithm)
    names = {ROOT: settings.root_name, NATIONAL: settings.national_name, GOVERNMENT: settings.government_name}
    centres = {code: CentrePolicy(code, names[code], settings.organisation, cp.algorithm, cp.validity,
                                  cp.review_working_days) for code, cp in base.centres.items()}
    return HierarchyPolicy(base_url=settings.base_url, centres=centres,
                           services=ServicePolicy(algorithm=settings.service_algorithm),
                           end_entity_validity=dt.timedelta(days=settings.end_entity_validity_days),
                           lint_at_issuance=settings.lint_at_issuance)


def verification_limits(settings: Settings) -> VerificationLimits:
    return VerificationLimits(max_bytes=settings.verify_max_bytes, max_detached_bytes=settings.verify_max_bytes)


def sandbox_limits(settings: Settings) -> SandboxLimits:
    return SandboxLimits(timeout_seconds=settings.verify_timeout_seconds,
                         memory_bytes=settings.verify_memory_mb * 1024 * 1024, workers=settings.verify_workers)


@dataclass
class Services:
    """Everything a request or a command needs, built once per process."""

    settings: Settings
    clock: Clock

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> "Services":
        settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return cls(settings=settings, clock=clock or SystemClock())

    @cached_property
    def database(self) -> Database:
        return Database(self.settings.resolved_database_url)

    @cached_property
    def registry(self) -> Registry:
        return Registry(self.database)

    @cached_property
    def backend(self) -> KeyBackend:
        s = self.settings
        if s.key_backend == "pkcs11":
            pin = s.pkcs11_pin_file.read_text().strip()  # type: ignore[union-attr]
            return PKCS11KeyBackend(s.pkcs11_module, s.pkcs11_token_label, pin)  # type: ignore[arg-type]
        secret = s.master_key.get_secret_value() if s.master_key else None
        master = load_master_key(s.resolved_master_key_file, secret, create=s.mode == "embedded")
        return SoftwareKeyBackend(s.home / "keys", master)

    @cached_property
    def policy(self) -> HierarchyPolicy:
        return policy_from(self.settings)

    @cached_property
    def authority(self) -> CertificationAuthority:
        return CertificationAuthority(self.registry, self.backend, self.policy, self.clock)

    @cached_property
    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar()

    @cached_property
    def applications(self) -> ApplicationService:
        return ApplicationService(self.authority, self.calendar)

    @cached_property
    def catalogue(self) -> CertificateCatalogue:
        return CertificateCatalogue(self.authority)

    @cached_property
    def publisher(self) -> CRLPublisher:
        s = self.settings
        return CRLPublisher(self.authority, CRLPolicy(
            next_update=dt.timedelta(hours=s.crl_next_update_hours),
            refresh_after=dt.timedelta(hours=s.crl_refresh_hours),
            full_on_revocation=s.crl_full_on_revocation, export_dir=s.resolved_crl_export_dir))

    @cached_property
    def responder(self) -> OCSPResponder:
        return OCSPResponder(self.authority, OCSPPolicy(validity=dt.timedelta(minutes=self.settings.ocsp_validity_minutes)))

    @cached_property
    def tsa(self) -> TimeStampAuthority:
        s = self.settings
        return TimeStampAuthority(self.authority, self.clock, TSAPolicy(
            policy_oid=s.tsa_policy_oid, accuracy=dt.timedelta(milliseconds=s.tsa_accuracy_ms)))

    @cached_property
    def revocations(self) -> RevocationService:
        return RevocationService(self.authority, self.publisher, listeners=[self.responder])

    @cached_property
    def revocation_applications(self) -> RevocationApplications:
        return RevocationApplications(self.applications, self.revocations)

    @cached_property
    def retention(self) -> RetentionService:
        return RetentionService(self.authority)

    @cached_property
    def documents(self) -> DocumentService:
        limits = DocumentLimits(max_document_bytes=self.settings.max_document_bytes, mrp_kzt=self.settings.mrp_kzt)
        return DocumentService(self.registry, self.clock, limits)

    @cached_property
    def authorisations(self) -> AuthorisationService:
        return AuthorisationService(self.clock, dt.timedelta(minutes=self.settings.authorisation_ttl_minutes))

    @cached_property
    def signing_engine(self) -> PAdESSigner:
        """Signatures time-stamped by our TSA and long-term data from our responder, in-process."""
        collector = ValidationDataCollector(OurHierarchy(self.authority, CENTRES), self.responder)
        tsa_chain = (self.tsa.certificate, *self.authority.chain(NATIONAL))
        return PAdESSigner(self.clock, tsa=self.tsa, timestamper=InProcessTimeStamper(self.tsa),
                           validation=collector, tsa_chain=tsa_chain)

    @cached_property
    def signing(self) -> SigningService:
        s = self.settings
        policy = SigningPolicy(default_level={"contract": Level(s.default_signature_level),
                                              "amendment": Level(s.default_signature_level)},
                               session_ttl=dt.timedelta(minutes=s.signing_session_minutes))
        stamps = StampPlanner(s.base_url.rstrip("/") + "/verify/{document}")
        return SigningService(self.authority, self.documents, self.signing_engine, self.authorisations, stamps,
                              policy)

    @cached_property
    def trust_store(self) -> TrustStore:
        roots: list = []

        def own_roots() -> list:
            # Our root never changes once the hierarchy exists; before
            # ``init`` there is none and only imported anchors are trusted.
            if not roots and self.authority.is_initialised():
                roots.append(self.authority.chain(NATIONAL)[-1])
            return roots

        return TrustStore(self.registry, self.clock, own_roots)

    @cached_property
    def verification_limits(self) -> VerificationLimits:
        return verification_limits(self.settings)

    @cached_property
    def sandbox_limits(self) -> SandboxLimits:
        return sandbox_limits(self.settings)

    @cached_property
    def verifier(self) -> SandboxedVerifier:
        """Verifications in limited worker processes, trusting the trust store (issue 6)."""
        return SandboxedVerifier(self.trust_store.anchors, self.verification_limits, self.sandbox_limits)

    @cached_property
    def public_verification(self) -> PublicVerification:
        return PublicVerification(self.registry, self.verifier)

    @cached_property
    def housekeeper(self) -> Housekeeper:
        return Housekeeper(self.responder, self.publisher, poll=self.settings.status_poll_seconds,
                           reconcile=self.settings.crl_schedule_seconds)

    def migrate(self) -> None:
        self.database.upgrade()

    def close(self) -> None:
        if "housekeeper" in self.__dict__:
            self.housekeeper.stop()
        if "database" in self.__dict__:
            self.database.dispose()
