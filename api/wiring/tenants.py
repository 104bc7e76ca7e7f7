"""Tenants (issue 15), as the wiring builds them: each tenant's seal through its own signer, forms, policies.

A part of ``Services`` (api/wiring/__init__.py), like ``ClientWill``: its
members are built on first use from what ``Services`` holds. The key
backend reaches only ``SealKeys``, which makes one signer per tenant's seal
key and hands it to the signing service through ``TenantSeals``.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from signing.tenants import ContractForms, SealKeys, TenantForms, TenantPolicies, TenantSeals, TenantService
from signing.tenants.keyring import TenantKeyRotation, TenantKeyring
from signing.tenants.register_keyring import RegisterKeyRotation

if TYPE_CHECKING:
    from ca.clock import Clock
    from ca.hierarchy import Hierarchy
    from ca.issuance import Issuance
    from keys import KeyBackend
    from api.settings import Settings
    from keys.envelope import KekMaker
    from registry import Registry
    from signing.factors.accredited import AccreditedIssuers
    from signing.policies.policy import SigningPolicies


class Tenants:
    """Members of ``Services`` for tenants; ``Services`` provides what they are built from."""

    registry: Registry
    clock: Clock
    backend: KeyBackend
    hierarchy: Hierarchy
    issuance: Issuance
    accredited_issuers: AccreditedIssuers
    signing_policies: SigningPolicies
    settings: Settings
    master_key: bytes

    @cached_property
    def tenant_keyring(self) -> TenantKeyring:
        """Each tenant's envelope (LOAN-15): the registry's sealer; its KEKs live in the configured key backend."""
        return TenantKeyring(lambda: self.kek_maker, self.clock)

    @cached_property
    def kek_maker(self) -> KekMaker:
        from keys.envelope import Pkcs11KekMaker, SoftwareKekMaker

        if self.settings.key_backend == "pkcs11":
            return Pkcs11KekMaker(self.backend)
        return SoftwareKekMaker(self.master_key)

    @cached_property
    def key_rotation(self) -> TenantKeyRotation:
        return TenantKeyRotation(self.registry, self.tenant_keyring, self.clock)

    @cached_property
    def register_key_rotation(self) -> RegisterKeyRotation:
        """The CA register's key (LOAN-15): a new version, every register row re-sealed, the old retired."""
        return RegisterKeyRotation(self.registry, self.tenant_keyring, self.clock)

    @cached_property
    def seal_keys(self) -> SealKeys:
        """The tenants' seal keys, one signer each; the only way the signing service reaches a seal key."""
        return SealKeys(self.backend)

    @cached_property
    def tenant_seals(self) -> TenantSeals:
        return TenantSeals(self.seal_keys, self.hierarchy, self.clock, self.accredited_issuers)

    @cached_property
    def tenants(self) -> TenantService:
        return TenantService(self.registry, self.clock, self.issuance, self.seal_keys, self.accredited_issuers)

    @cached_property
    def contract_forms(self) -> ContractForms:
        return ContractForms(self.registry, self.clock)

    @cached_property
    def tenant_policies(self) -> TenantPolicies:
        """Each tenant's own rules, or the installation's (rebuilt when the installation's policy changes)."""
        return TenantPolicies(self.signing_policies)

    @cached_property
    def form_check(self) -> TenantForms:
        return TenantForms(self.tenant_policies)
