"""What the settings mean for the domain: the hierarchy's policy and the verification limits.

Plain functions of the settings, used by the wiring (``Services``). The
verification limits are ``api/verification_limits.py``'s, re-exported here:
``qoltanba verify`` reads them from there without importing the wiring.
"""

from __future__ import annotations

import datetime as dt

from api.settings import Settings
from api.verification_limits import sandbox_limits, verification_limits
from ca.policy import GOVERNMENT, NATIONAL, ROOT, CentrePolicy, HierarchyPolicy, ServicePolicy, default_policy


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


__all__ = ["policy_from", "sandbox_limits", "verification_limits"]
