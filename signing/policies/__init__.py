"""Signing policies: which factors a client proves before signing which document (DOMAIN.md §3, issue 5).

What belongs here: the policy as frozen data, validated when built
(``policy``), and the strict loader of the JSON file that replaces the
defaults (``loader``). A new rule or limit of the client's will goes here;
the mechanics of a factor go to ``signing.factors``.

May import: ``signing.documents`` (a rule matches a document's kind and loan
terms) and nothing else of ``signing``.
"""

from signing.policies.loader import PolicyError, load_policies, load_rule
from signing.policies.policy import (
    DEFAULT_RULES,
    Alternative,
    BiometricPolicy,
    CodePolicy,
    Factor,
    PayoutPolicy,
    SigningPolicies,
    SigningRule,
    default_policies,
)

__all__ = ["DEFAULT_RULES", "Alternative", "BiometricPolicy", "CodePolicy", "Factor", "PayoutPolicy", "PolicyError",
           "SigningPolicies", "SigningRule", "default_policies", "load_policies", "load_rule"]
