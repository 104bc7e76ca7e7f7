"""The client's will (issue 5), as the wiring builds it: factors, signing policies, requests, webhooks.

A part of ``Services`` (api/wiring/__init__.py), kept in its own module so
each stays readable; its members are built on first use from the settings,
the registry, the clock and the keys ``Services`` holds.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from api.catalogues import say
from ca.approvals import Approval
from keys import SecretBox, simulator_key
from signing.factors import (
    AssertionVerifier,
    BiometricProviderSimulator,
    SignedAssertionVerifier,
    SMSOutbox,
    SMSSender,
    WebhookSMSGateway,
)
from signing.factors.clients import ClientCertificates, ClientService
from signing.factors.own_enrolment import OwnEnrolment
from signing.policies.change import put_in_force, record_policy
from signing.policies.loader import load_policies
from signing.policies.policy import SigningPolicies, default_policies
from signing.requests import SigningRequests
from signing.requests.borrower import BorrowerDesk
from signing.requests.completion import ClientSigning
from signing.requests.dossier import DossierService
from signing.requests.handoff import HandoffLinks
from signing.requests.evidence import EvidenceService
from signing.webhooks import AddressPolicy, WebhookPolicy, WebhookService

# The CSC API's door (issue 19), a group of its own.
from signing.requests.csc import CSCService
from signing.requests.csc_credentials import Credentials
from signing.requests.csc_page import CSCPage

if TYPE_CHECKING:
    from api.settings import Settings
    from ca.clock import Clock
    from registry import Registry
    from signing import DocumentService
    from signing.accounts import CabinetPins


class ClientWill:
    """Members of ``Services`` for the client's will; ``Services`` provides what they are built from."""

    settings: Settings
    registry: Registry
    clock: Clock
    master_key: bytes
    documents: DocumentService
    borrower_pins: CabinetPins

    # -- the client's will (issue 5) ---------------------------------------------------

    @cached_property
    def secret_box(self) -> SecretBox:
        return SecretBox(self.master_key, "factor secrets")

    @property
    def signing_policy_path(self) -> Path:
        """Where the policy in force is read from and an approved change is written (issue 8)."""
        return self.settings.signing_policy_file or self.settings.home / "signing-policy.json"

    @cached_property
    def signing_policies(self) -> SigningPolicies:
        path = self.signing_policy_path
        return load_policies(path.read_bytes()) if self.settings.signing_policy_file or path.exists() \
            else default_policies()

    def change_signing_policy(self, policy: object, approval: Approval) -> dict:
        """Put an approved signing policy in force: written to its file, used by this process at once.

        Other serving processes read it when they start (and audit the new fingerprint then).
        """
        policies = put_in_force(self.signing_policy_path, policy, approval)
        # Services built on the old policy are rebuilt on first use; nothing else holds it.
        for name in ("clients", "signing_requests", "client_signing", "csc", "csc_page", "own_enrolment",
                     "tenant_policies", "form_check", "documents"):
            self.__dict__.pop(name, None)
        self.__dict__["signing_policies"] = policies
        self.record_signing_policy(actor=f"{approval.requested_by}+{approval.approved_by}")
        return {"fingerprint": policies.fingerprint, "file": str(self.signing_policy_path),
                "rules": [r.name for r in policies.rules]}

    @cached_property
    def sms(self) -> SMSSender:
        s = self.settings
        if s.sms_gateway_url:
            token = s.sms_gateway_token_file.read_text().strip() if s.sms_gateway_token_file else None
            return WebhookSMSGateway(s.sms_gateway_url, token)
        return SMSOutbox(self.registry, self.clock)

    @cached_property
    def biometric_simulator(self) -> BiometricProviderSimulator | None:
        """The development identity provider, its key kept in the home; None when a real one is configured."""
        s = self.settings
        if s.biometric_provider_key_file or s.mode != "embedded":
            return None
        return BiometricProviderSimulator(s.biometric_provider, simulator_key(s.home / "biometric-simulator.pem"))

    @cached_property
    def assertion_verifier(self) -> AssertionVerifier:
        s = self.settings
        if s.biometric_provider_key_file:
            return SignedAssertionVerifier.from_pem(s.biometric_provider, s.biometric_provider_key_file.read_bytes())
        return self.biometric_simulator.verifier()

    @cached_property
    def webhooks(self) -> WebhookService:
        policy = WebhookPolicy(lease=dt.timedelta(seconds=self.settings.webhook_lease_seconds))
        return WebhookService(self.registry, self.clock, SecretBox(self.master_key, "webhook secrets"),
                              allow_http=self.settings.mode == "embedded", policy=policy,
                              addresses=AddressPolicy(allow_private=self.settings.mode == "embedded"))

    @cached_property
    def clients(self) -> ClientService:
        return ClientService(self.registry, self.clock, self.secret_box, self.sms, self.signing_policies.codes,
                             provider=self.settings.biometric_provider, issuer=self.settings.organisation,
                             certificates=self.client_certificates, base_url=self.settings.base_url, say=say)

    @cached_property
    def own_enrolment(self) -> OwnEnrolment:
        """The client's own channel for an authenticator's seed (issue 15): never the MFO's."""
        return OwnEnrolment(self.registry, self.clock, self.secret_box, self.signing_policies.codes,
                            issuer=self.settings.organisation)

    @cached_property
    def client_certificates(self) -> ClientCertificates:
        return ClientCertificates(self.registry, self.clock, self.hierarchy, self.our_hierarchy, self.accredited_issuers)

    @cached_property
    def signing_requests(self) -> SigningRequests:
        return SigningRequests(self.registry, self.clock, self.signing_policies, self.webhooks, self.hierarchy,
                               mrp_kzt=self.settings.mrp_kzt, tenant_policies=self.tenant_policies)

    @cached_property
    def evidence(self) -> EvidenceService:
        return EvidenceService(self.registry, self.clock, self.signing)

    @cached_property
    def dossiers(self) -> DossierService:
        """A loan's credit dossier as an ASiC-E sealed by the tenant (LOAN-14)."""
        return DossierService(self.registry, self.clock, self.signing, self.evidence, say)

    @cached_property
    def client_signing(self) -> ClientSigning:
        return ClientSigning(self.signing_requests, self.signing, self.authorisations, self.evidence,
                             self.secret_box, self.sms, self.assertion_verifier, say=say)

    @cached_property
    def csc(self) -> CSCService:
        """The CSC API's door onto the same keys, policies and audit (issue 19)."""
        credentials = Credentials(self.hierarchy, self.tenant_seals, self.clock)
        return CSCService(self.registry, self.clock, credentials, self.secret_box, self.sms,
                          self.signing_policies.codes, self.tenant_policies, self.held_keys, self.tenant_seals,
                          self.authorisations, pins=self.borrower_pins, say=say,
                          sad_ttl=dt.timedelta(minutes=self.settings.authorisation_ttl_minutes))

    @cached_property
    def csc_page(self) -> CSCPage:
        """The CSC API's OAuth2 authorisation through the borrower's page (issue 19)."""
        return CSCPage(self.csc, self.assertion_verifier, self.signing_policies.biometrics)

    @cached_property
    def handoff_links(self) -> HandoffLinks:
        return HandoffLinks(SecretBox(self.master_key, "eds handoff links"), self.clock,
                            dt.timedelta(minutes=self.settings.handoff_link_minutes))

    @cached_property
    def borrower_desk(self) -> BorrowerDesk:
        """What the borrower's signing page reads beyond the client API (issue 20)."""
        return BorrowerDesk(self.client_signing, self.documents, self.evidence, self.handoff_links)

    def record_signing_policy(self, actor: str = "system") -> bool:
        """An audit entry when the signing policy in force differs from the last one recorded."""
        return record_policy(self.registry, self.clock, self.signing_policies,
                             str(self.settings.signing_policy_file or "defaults"), actor)

