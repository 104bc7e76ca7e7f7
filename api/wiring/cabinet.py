"""The borrower's personal cabinet (issue 16), as the wiring builds it: accounts, sessions, the borrower's desk.

A part of ``Services`` (api/wiring/__init__.py), like ``ClientWill``.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from api.catalogues import say
from signing.accounts import (
    BorrowerAccounts,
    BorrowerCabinet,
    CabinetPins,
    CabinetPolicy,
    CabinetSessions,
    Ceremonies,
    Passwords,
)

if TYPE_CHECKING:
    from api.settings import Settings
    from ca.clock import Clock
    from keys import SecretBox
    from registry import Registry
    from signing import DocumentService
    from signing.factors import AssertionVerifier, SMSSender
    from signing.factors.clients import ClientCertificates
    from signing.policies.policy import SigningPolicies
    from signing.requests.evidence import EvidenceService


class Cabinet:
    """Members of ``Services`` for the borrower's cabinet; ``Services`` provides what they are built from."""

    settings: Settings
    registry: Registry
    clock: Clock
    secret_box: SecretBox
    sms: SMSSender
    assertion_verifier: AssertionVerifier
    client_certificates: ClientCertificates
    signing_policies: SigningPolicies
    documents: DocumentService
    evidence: EvidenceService

    @cached_property
    def cabinet_policy(self) -> CabinetPolicy:
        return CabinetPolicy()

    @cached_property
    def borrower_passwords(self) -> Passwords:
        return Passwords()

    @cached_property
    def borrower_pins(self) -> CabinetPins:
        """The cabinet password as the PIN of a held key at the CSC door (issue 19), under the same lockout."""
        return CabinetPins(self.borrower_passwords, self.cabinet_policy)

    @cached_property
    def borrower_accounts(self) -> BorrowerAccounts:
        ceremonies = Ceremonies(self.clock, self.secret_box, self.signing_policies.codes, self.cabinet_policy,
                                self.assertion_verifier, self.settings.biometric_provider, self.client_certificates)
        return BorrowerAccounts(self.registry, self.clock, self.secret_box, self.sms, ceremonies,
                                self.borrower_passwords, self.cabinet_policy, say=say, base_url=self.settings.base_url,
                                organisation=self.settings.organisation)

    @cached_property
    def cabinet_sessions(self) -> CabinetSessions:
        return CabinetSessions(self.registry, self.clock, self.secret_box, self.borrower_passwords,
                               self.cabinet_policy, issuer=self.settings.organisation)

    @cached_property
    def borrower_cabinet(self) -> BorrowerCabinet:
        return BorrowerCabinet(self.registry, self.documents, self.evidence)
