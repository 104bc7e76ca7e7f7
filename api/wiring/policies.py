"""What the settings mean for the domain: the hierarchy's policy and the verification limits.

Plain functions of the settings, used by the wiring (``Services``) and by
``qoltanba verify``, which verifies without building the services when
there is no home.
"""

from __future__ import annotations

import datetime as dt

from api.settings import Settings
from ca.policy import GOVERNMENT, NATIONAL, ROOT, CentrePolicy, HierarchyPolicy, ServicePolicy, default_policy
from signing.verification import VerificationLimits
from signing.verification.sandbox import SandboxLimits


def policy_from(settings: Settings) -> HierarchyPolicy:
    base = default_policy(settings.base_url, settings.ca_algorithm)
    names = {ROOT: settings.root_name, NATIONAL: settings.national_name, GOVERNMENT: settings.government_name}
    algorithms = settings.centre_algorithms
    centres = {code: CentrePolicy(code, names[code], settings.organisation, algorithms[code], cp.validity,
                                  cp.review_working_days) for code, cp in base.centres.items()}
    return HierarchyPolicy(base_url=settings.base_url, centres=centres,
                           services=ServicePolicy(algorithm=settings.service_algorithm),
                           end_entity_validity=dt.timedelta(days=settings.end_entity_validity_days),
                           lint_at_issuance=settings.lint_at_issuance)


def verification_limits(settings: Settings) -> VerificationLimits:
    return VerificationLimits(max_bytes=settings.verify_max_bytes, max_detached_bytes=settings.verify_max_bytes)


def sandbox_limits(settings: Settings) -> SandboxLimits:
    return SandboxLimits(timeout_seconds=settings.verify_timeout_seconds,
                         memory_bytes=settings.verify_memory_mb * 1024 * 1024, workers=settings.verify_workers,
                         per_source=settings.verify_per_address)


__all__ = ["policy_from", "sandbox_limits", "verification_limits"]
