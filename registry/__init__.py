"""Persistence: the registry of centres, certificates, applications, journals, actors, documents and audit.

Each name below is imported from its module when first used (PEP 562): a read that needs neither
the ORM nor Alembic (``registry.readonly``, what ``qoltanba verify`` reads) imports neither (start-up, issue 21).
"""

from __future__ import annotations

import importlib
from typing import Any

# Where each exported name lives; its module is imported when the name is first used (PEP 562).
_EXPORTS = {
    "registry.audit": (
        "AuditLog", "ChainBreak",
    ),
    "registry.constraints": (
        "constraint_name",
    ),
    "registry.db": (
        "Database", "sqlite_url",
    ),
    "registry.models": (
        "ActorRow", "ApplicationRow", "ApplicationStatus", "ApprovalRow", "AuditCheckpointRow", "AuditRow",
        "BiometricAssertionRow", "CaKeyRetirementRow", "BiometricChallengeRow", "CentreRow",
        "CertificateArchiveRow", "CertificateRow", "CentreStatus", "CertificateStatus", "ClientFactorRow",
        "ClientRow", "ConsoleSessionRow", "CRLRow", "DocumentRow", "DocumentStatus", "DocumentVersionRow",
        "EvidenceRecordRow", "FactorProofRow", "FactorStatus", "IssuanceJournalRow", "OneTimeCodeRow",
        "PersonRow", "RevocationRow", "SigningAuthorisationRow", "SigningRequestRow",
        "SigningRequestStatus", "SigningSessionRow", "TrustAnchorRow", "WebhookDeliveryRow",
        "WebhookDeliveryStatus", "WebhookEndpointRow",
    ),
    "registry.models.tenants": (
        "ContractFormRow", "SealSource", "TenantRow", "TenantStatus",
    ),
    "registry.repositories": (
        "Conflict", "Registry", "RegistryError", "RegistryTransaction",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


__all__ = sorted(_MODULE_OF)
