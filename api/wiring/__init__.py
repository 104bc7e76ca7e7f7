"""Wiring: the one place that turns settings into services (``Services``, the object graph).

Each member is built on first use and kept for the process; the HTTP app
(api/http/app.py) and every command (api/cli/common.py) build one
``Services`` from the settings. What the settings mean as the domain's
policies and limits is api/wiring/policies.py; the keys, one signer each,
are api/wiring/keys.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from api.catalogues import say
from api.settings import Settings, record_settings
from api.wiring.background import Background
from api.wiring.cabinet import Cabinet
from api.wiring.client_will import ClientWill
from api.wiring.policies import policy_from, sandbox_limits, verification_limits
from api.wiring.tenants import Tenants
from ca.applications import ApplicationService
from ca.approvals import Approval, DualControl
from ca.auth_failures import AuthFailures
from ca.audit_checkpoints import AuditCheckpoints, CheckpointPolicy
from ca.audit_outside import AuditAnchor, CheckpointExport, Witness
from ca.bootstrap import Bootstrap
from ca.calendar import WorkingCalendar
from ca.catalogue import CertificateCatalogue
from ca.ceremony import CAKeyCeremony
from ca.clock import Clock, SystemClock
from ca.dual_control import build_dual_control
from ca.held_keys import HeldKeyCustody
from ca.hierarchy import Hierarchy
from ca.issuance import Issuance
from ca.ocsp_files import OCSPFiles
from ca.oversight import AuditLogView, StatusBoard
from ca.people import ConsolePolicy, PeopleService
from ca.rate_limit import RateLimiter
from ca.publication import CRLPolicy, CRLPublisher
from ca.readiness import Readiness
from ca.responder import OCSPPolicy, OCSPResponder
from ca.retention import RetentionService
from ca.revocation import REVOCATION_SEQUENCE, RevocationService
from ca.revocation_applications import RevocationApplications
from ca.policy import CENTRES, NATIONAL, HierarchyPolicy
from ca.signers import Keyring, Signer
from ca.tsa import TimeStampAuthority, TSAPolicy
from keys import (
    KeyBackend,
    KeyDestroyer,
    KeyGenerator,
    PKCS11KeyBackend,
    SecretBox,
    SoftwareKeyBackend,
    load_master_key,
    simulator_key,
)
from registry import Database, Registry
from registry.watermark import SequenceWatermark
from signing import DocumentLimits, DocumentService
from signing.factors.authorisation import AuthorisationService
from signing.factors.accredited import AccreditedIssuers
from signing.factors.clients import ClientCertificates, ClientService
from signing.factors.held_keys import HeldKeys
from signing.requests.evidence import EvidenceService
from signing.factors import (
    AssertionVerifier,
    BiometricProviderSimulator,
    SignedAssertionVerifier,
    SMSOutbox,
    SMSSender,
    WebhookSMSGateway,
)
from signing.policies.policy import SigningPolicies, default_policies
from signing.policies.change import policy_action
from signing.policies.loader import load_policies
from signing.requests.completion import ClientSigning
from signing.requests import SigningRequests
from signing.webhooks import AddressPolicy, WebhookService
from signing.pades.engine import PAdESSigner
from signing.pades import Level
from signing.requests.service import SigningPolicy, SigningService
from signing.stamps import StampPlanner
from signing.pades.timestamps import InProcessTimeStamper
from signing.verification.trust_store import TrustStore
from signing.verification import VerificationLimits
from signing.verification.public import PublicVerification
from signing.verification.sandbox import SandboxedVerifier, SandboxLimits
from signing.pades.validation_data import OurHierarchy, ValidationDataCollector


@dataclass
class Services(ClientWill, Tenants, Cabinet, Background):
    """Everything a request or a command needs, built once per process."""

    settings: Settings
    clock: Clock

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> "Services":
        settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return cls(settings=settings, clock=clock or SystemClock())

    @cached_property
    def database(self) -> Database:
        return Database(self.settings.resolved_database_url, sealer=self.tenant_keyring)   # LOAN-15: wiring/tenants.py

    @cached_property
    def registry(self) -> Registry:
        return Registry(self.database)

    @cached_property
    def backend(self) -> KeyBackend:
        s = self.settings
        if s.key_backend == "pkcs11":
            pin = s.pkcs11_pin_file.read_text().strip()  # type: ignore[union-attr]
            return PKCS11KeyBackend(s.pkcs11_module, s.pkcs11_token_label, pin)  # type: ignore[arg-type]
        return SoftwareKeyBackend(s.home / "keys", self.master_key)

    @cached_property
    def master_key(self) -> bytes:
        """The software keys' master key; it also seals factor secrets (issue 5) on any key backend."""
        s = self.settings
        secret = s.master_key.get_secret_value() if s.master_key else None
        return load_master_key(s.resolved_master_key_file, secret, create=s.mode == "embedded")

    @cached_property
    def policy(self) -> HierarchyPolicy:
        return policy_from(self.settings)

    # -- the hierarchy and its keys: each key reaches only the component that signs with it ----------

    @cached_property
    def hierarchy(self) -> Hierarchy:
        """The centres, their chains and the service certificates (reading only)."""
        return Hierarchy(self.registry, self.policy.base_url)

    @cached_property
    def bootstrap(self) -> Bootstrap:
        """``init``: the centres' keys and certificates and the service certificates, once."""
        return Bootstrap(self.registry, self.clock, self.policy, self.backend, self.hierarchy, self.issuance)

    @cached_property
    def issuance(self) -> Issuance:
        return Issuance(self.registry, self.clock, self.policy, self.hierarchy, self.ca_signers,
                        KeyGenerator(self.backend))

    @cached_property
    def ca_keys(self) -> CAKeyCeremony:
        """New CA keys and their retirement, dual-controlled."""
        return CAKeyCeremony(self.registry, self.clock, self.policy, self.backend)

    @cached_property
    def ca_signers(self) -> dict[str, Signer]:
        """Each centre's CA key: for issuance (all three) and the centre's CRLs (its own)."""
        return {code: self.keyring.centre(code) for code in CENTRES}

    @cached_property
    def ocsp_signers(self) -> dict[str, Signer]:
        """Each centre's delegated OCSP responder key."""
        return {code: self.keyring.service(f"ocsp-{code}") for code in CENTRES}

    @cached_property
    def tsa_signer(self) -> Signer:
        return self.keyring.service("tsa")

    @cached_property
    def audit_signer(self) -> Signer:
        return self.keyring.service("audit")

    @cached_property
    def held_keys(self) -> HeldKeys:
        """Clients' keys the service holds; each signs only with the client's authorisation object."""
        return HeldKeys(self.backend)

    @cached_property
    def keyring(self) -> Keyring:
        """Makes each key's signer; only the wiring holds it."""
        return Keyring(self.hierarchy, self.backend)

    @cached_property
    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar()

    @cached_property
    def applications(self) -> ApplicationService:
        return ApplicationService(self.registry, self.clock, self.policy, self.hierarchy, self.issuance,
                                  self.calendar, held=self.held_key_custody)

    @cached_property
    def held_key_custody(self) -> HeldKeyCustody:
        """Borrowers' keys the service holds: issued, listed, destroyed (issue 15); destroying only."""
        return HeldKeyCustody(self.registry, self.clock, self.hierarchy, self.issuance, self.revocations,
                              KeyDestroyer(self.backend))

    @cached_property
    def catalogue(self) -> CertificateCatalogue:
        return CertificateCatalogue(self.registry, self.hierarchy)

    @cached_property
    def publisher(self) -> CRLPublisher:
        s = self.settings
        return CRLPublisher(self.registry, self.clock, self.hierarchy, self.ca_signers, CRLPolicy(
            next_update=dt.timedelta(hours=s.crl_next_update_hours),
            refresh_after=dt.timedelta(hours=s.crl_refresh_hours),
            full_on_revocation=s.crl_full_on_revocation, export_dir=s.resolved_crl_export_dir))

    @cached_property
    def responder(self) -> OCSPResponder:
        return OCSPResponder(self.registry, self.clock, self.hierarchy, self.ocsp_signers,
                             OCSPPolicy(validity=dt.timedelta(minutes=self.settings.ocsp_validity_minutes)),
                             watermark=self.revocation_watermark.read,
                             files=OCSPFiles.beside(self.settings.resolved_ocsp_export_dir))   # for nginx (issue 17)

    @cached_property
    def revocation_watermark(self) -> SequenceWatermark:
        """Where the revocation sequence stands (one primary-key read): the responder's freshness check."""
        return SequenceWatermark(self.database, REVOCATION_SEQUENCE)

    @cached_property
    def tsa(self) -> TimeStampAuthority:
        s = self.settings
        return TimeStampAuthority(self.registry, self.tsa_signer, self.clock, TSAPolicy(
            policy_oid=s.tsa_policy_oid, accuracy=dt.timedelta(milliseconds=s.tsa_accuracy_ms)))

    @cached_property
    def revocations(self) -> RevocationService:
        return RevocationService(self.registry, self.clock, self.hierarchy, self.publisher, listeners=[self.responder])

    @cached_property
    def revocation_applications(self) -> RevocationApplications:
        return RevocationApplications(self.applications, self.revocations)

    @cached_property
    def retention(self) -> RetentionService:
        return RetentionService(self.registry, self.clock, self.hierarchy)

    @cached_property
    def documents(self) -> DocumentService:
        limits = DocumentLimits(max_document_bytes=self.settings.max_document_bytes, mrp_kzt=self.settings.mrp_kzt)
        return DocumentService(self.registry, self.clock, limits, forms=self.form_check)

    @cached_property
    def authorisations(self) -> AuthorisationService:
        return AuthorisationService(self.clock, dt.timedelta(minutes=self.settings.authorisation_ttl_minutes))

    @cached_property
    def our_hierarchy(self) -> OurHierarchy:
        return OurHierarchy(self.hierarchy, CENTRES)

    @cached_property
    def validation_collector(self) -> ValidationDataCollector:
        """Revocation data: our responder in-process, other issuers' OCSP or CRL over HTTP."""
        return ValidationDataCollector(self.our_hierarchy, self.responder)

    @cached_property
    def accredited_issuers(self) -> AccreditedIssuers:
        """Clients' certificates of the accredited centres imported into the trust store (LOAN-2)."""
        return AccreditedIssuers(lambda: self.trust_store.anchors().der(), self.validation_collector, self.clock)

    @cached_property
    def signing_engine(self) -> PAdESSigner:
        """Signatures time-stamped by our TSA and long-term data from our responder, in-process."""
        tsa_chain = (self.tsa.certificate, *self.hierarchy.chain(NATIONAL))
        return PAdESSigner(self.clock, tsa=self.tsa, timestamper=InProcessTimeStamper(self.tsa),
                           validation=self.validation_collector, tsa_chain=tsa_chain)

    @cached_property
    def signing_defaults(self) -> SigningPolicy:
        s = self.settings
        return SigningPolicy(default_level={"contract": Level(s.default_signature_level),
                                            "amendment": Level(s.default_signature_level)},
                             session_ttl=dt.timedelta(minutes=s.signing_session_minutes))

    @cached_property
    def signing(self) -> SigningService:
        stamps = StampPlanner(self.settings.base_url.rstrip("/") + "/verify/{document}", say=say)
        return SigningService(self.registry, self.clock, self.hierarchy, self.documents, self.signing_engine,
                              self.authorisations, stamps, held_keys=self.held_keys, seals=self.tenant_seals,
                              policy=self.signing_defaults, accredited=self.accredited_issuers,
                              ours=self.our_hierarchy)

    def record_settings(self, actor: str = "system") -> list[str]:
        """An audit entry when the settings in force differ from the last ones recorded (issue 8); the names
        of the changed settings, [] when nothing changed (api/settings.py, ``record_settings``)."""
        return record_settings(self.settings, self.registry, self.clock, actor)

    @cached_property
    def audit_checkpoints(self) -> AuditCheckpoints:
        s = self.settings
        policy = CheckpointPolicy(entries=s.audit_checkpoint_entries,
                                  interval=dt.timedelta(minutes=s.audit_checkpoint_minutes),
                                  grace=dt.timedelta(seconds=s.audit_checkpoint_grace_seconds))
        return AuditCheckpoints(self.registry, self.clock, self.hierarchy, self.audit_signer, self.tsa, policy=policy,
                                anchor=AuditAnchor(s.resolved_audit_anchor_file),
                                export=CheckpointExport(s.resolved_audit_export_file),
                                witness=Witness(s.audit_witness_url) if s.audit_witness_url else None)

    @cached_property
    def trust_store(self) -> TrustStore:
        roots: list = []

        def own_roots() -> list:
            # Our root never changes once the hierarchy exists; before
            # ``init`` there is none and only imported anchors are trusted.
            if not roots and self.hierarchy.is_initialised():
                roots.append(self.hierarchy.chain(NATIONAL)[-1])
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
    def readiness(self) -> Readiness:
        """GET /readyz (issue 17): the registry, the TSA's and OCSP responders' keys, CRL freshness, the queue."""
        s = self.settings
        signers = {"tsa": self.tsa_signer, **{f"ocsp-{code}": signer for code, signer in self.ocsp_signers.items()}}
        read_key = getattr(self.backend, "read_public_key", self.backend.public_key)
        return Readiness(self.registry, self.clock, self.publisher, signers, read_key,
                         max_queue=s.ready_max_queue, cache_seconds=s.ready_cache_seconds)

    @cached_property
    def auth_failures(self) -> AuthFailures:
        """Rejected credentials per source: limited, summarised in the audit log (issue 18)."""
        s = self.settings
        return AuthFailures(self.registry, self.clock, RateLimiter(s.auth_failure_rate_per_minute / 60,
                                                                   s.auth_failure_burst, shared=self.rate_buckets,
                                                                   name="auth"))

    # -- people of the centre (issue 8) ----------------------------------------------

    @cached_property
    def people(self) -> PeopleService:
        s = self.settings
        policy = ConsolePolicy(idle=dt.timedelta(minutes=s.console_idle_minutes),
                               absolute=dt.timedelta(hours=s.console_session_hours),
                               lockout_failures=s.console_lockout_failures,
                               lockout=dt.timedelta(minutes=s.console_lockout_minutes))
        return PeopleService(self.registry, self.clock, SecretBox(self.master_key, "console secrets"), policy,
                             issuer=s.organisation)

    @cached_property
    def status_board(self) -> StatusBoard:
        """CRL and OCSP status per centre, for the console (issue 20)."""
        return StatusBoard(self.registry, self.clock, self.hierarchy, self.publisher, self.responder)

    @cached_property
    def audit_log(self) -> AuditLogView:
        """The audit log's newest entries, for the console (issue 20)."""
        return AuditLogView(self.registry, self.clock)

    @cached_property
    def dual_control(self) -> DualControl:
        """Revoking a CA certificate, stopping a centre, creating a CA key, changing the signing policy."""
        return build_dual_control(self, self.registry, self.clock,
                                  dt.timedelta(hours=self.settings.approval_ttl_hours),
                                  policy_action(self.change_signing_policy))

    def migrate(self) -> None:
        self.database.upgrade()

    def close(self) -> None:
        if "housekeeper" in self.__dict__:
            self.housekeeper.stop()
        if "auth_failures" in self.__dict__:
            self.auth_failures.flush()   # what was counted since the last summary (nothing: no entry)
        if "dispatcher" in self.__dict__:
            self.dispatcher.stop()
        if "revocation_watermark" in self.__dict__:
            self.revocation_watermark.close()
        if "database" in self.__dict__:
            self.database.dispose()


__all__ = ["Services", "policy_from", "sandbox_limits", "verification_limits"]
