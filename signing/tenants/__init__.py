"""Tenants (issue 15): the MFOs the service signs for, each with its own seal, forms and policy.

What belongs here: onboarding, suspension and the seal (``service``, its
views in ``views``), each tenant's seal found and checked fit before it
signs, and the seal keys' signers (``seals``), the policy a tenant's
documents are signed under (``policies``), the tenant's standard forms and
the check a document's upload runs against them (``forms``).

May import: factors (the accredited centres' check of an imported seal),
policies, stamps, documents, pades; ``ca``, ``registry`` and ``keys`` below.
``signing.requests`` signs with the seals found here.
"""

from signing.tenants.forms import CONSENT_KINDS, NO_CONSENT_REASONS, ContractForms, FormView, NewForm, TenantForms
from signing.tenants.policies import TenantPolicies, checked_policy
from signing.tenants.seals import ReadySeal, SealKeys, SealUnusable, TenantSeals, TenantSuspended, UnknownTenant
from signing.tenants.service import NewTenant, SealOrder, TenantService
from signing.tenants.views import KeyView, SealView, TenantView

__all__ = ["CONSENT_KINDS", "NO_CONSENT_REASONS", "ContractForms", "FormView", "KeyView", "NewForm", "NewTenant",
           "ReadySeal", "SealKeys", "SealOrder", "SealUnusable", "SealView", "TenantForms", "TenantPolicies",
           "TenantSeals", "TenantService", "TenantSuspended", "TenantView", "UnknownTenant", "checked_policy"]
