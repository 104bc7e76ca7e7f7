"""Persistence: the registry of centres, certificates, applications, journals, actors, documents and audit.

Each name below is imported from its module when first used (PEP 562): a read that needs neither
the ORM nor Alembic (``registry.readonly``, what ``qoltanba verify`` reads) imports neither (start-up, issue 21).
"""

from __future__ import annotations

import lazy_loader

# Where each exported name lives (its submodule); imported when the name is first used (PEP 562,
# through lazy_loader).
_EXPORTS = {
    "audit": (
        "AuditLog", "ChainBreak",
    ),
    "constraints": (
        "constraint_name",
    ),
    "db": (
        "Database", "sqlite_url",
    ),
    "models": (
        "ActorRow", "ApplicationRow", "ApplicationStatus", "ApprovalRow", "AuditCheckpointRow", "AuditRow",
        "BiometricAssertionRow", "CaKeyRetirementRow", "BiometricChallengeRow", "CentreRow",
        "CertificateArchiveRow", "CertificateRow", "CentreStatus", "CertificateStatus", "ClientFactorRow",
        "ClientRow", "ConsoleSessionRow", "CRLRow", "DocumentRow", "DocumentStatus", "DocumentVersionRow",
        "EvidenceRecordRow", "FactorProofRow", "FactorStatus", "IssuanceJournalRow", "OneTimeCodeRow",
        "PersonRow", "RevocationRow", "SigningAuthorisationRow", "SigningRequestRow",
        "SigningRequestStatus", "SigningSessionRow", "TrustAnchorRow", "WebhookDeliveryRow",
        "WebhookDeliveryStatus", "WebhookEndpointRow",
    ),
    "models.accounts": (
        "AccountStatus", "BorrowerAccountRow", "BorrowerCeremonyRow", "BorrowerSessionRow", "CeremonyStatus",
    ),
    "models.shared": (
        "JobRow", "JobStatus", "RateBucketRow", "SMSOutboxRow",
    ),
    "models.csc": (
        "CSCActivationRow", "CSCActivationStatus",
    ),
    "models.tenants": (
        "ContractFormRow", "SealSource", "TenantKeyRow", "TenantKeyState", "TenantRow", "TenantStatus",
    ),
    "sealing": (
        "SealedDataUnreadable",
    ),
    "repositories": (
        "Conflict", "Registry", "RegistryError", "RegistryTransaction",
    ),
}

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs=_EXPORTS)
