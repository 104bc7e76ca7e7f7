"""Persistence: the registry of centres, certificates, applications, journals, actors, documents and audit."""

from registry.audit import AuditLog, ChainBreak
from registry.constraints import constraint_name
from registry.db import Database, sqlite_url
from registry.models import (
    ActorRow,
    ApplicationRow,
    ApplicationStatus,
    ApprovalRow,
    AuditCheckpointRow,
    AuditRow,
    BiometricAssertionRow,
    CaKeyRetirementRow,
    BiometricChallengeRow,
    CentreRow,
    CertificateArchiveRow,
    CertificateRow,
    CentreStatus,
    CertificateStatus,
    ClientFactorRow,
    ClientRow,
    ConsoleSessionRow,
    CRLRow,
    DocumentRow,
    DocumentStatus,
    DocumentVersionRow,
    EvidenceRecordRow,
    FactorProofRow,
    FactorStatus,
    IssuanceJournalRow,
    OneTimeCodeRow,
    PersonRow,
    RevocationRow,
    SigningAuthorisationRow,
    SigningRequestRow,
    SigningRequestStatus,
    SigningSessionRow,
    TrustAnchorRow,
    WebhookDeliveryRow,
    WebhookDeliveryStatus,
    WebhookEndpointRow,
)
from registry.models.tenants import ContractFormRow, SealSource, TenantRow, TenantStatus
from registry.repositories import Conflict, Registry, RegistryError, RegistryTransaction

__all__ = [
    "ActorRow", "ApplicationRow", "AuditCheckpointRow", "AuditLog", "AuditRow", "CentreRow", "CertificateArchiveRow", "CertificateRow",
    "ChainBreak", "CRLRow", "DocumentRow", "DocumentVersionRow", "RevocationRow", "SigningAuthorisationRow", "SigningSessionRow",
    "TrustAnchorRow",
    "Conflict", "Database", "IssuanceJournalRow", "Registry", "RegistryError", "RegistryTransaction",
    "sqlite_url", "BiometricAssertionRow", "BiometricChallengeRow", "ClientFactorRow", "ClientRow",
    "EvidenceRecordRow", "FactorProofRow", "OneTimeCodeRow", "SigningRequestRow", "WebhookDeliveryRow",
    "WebhookEndpointRow", "ConsoleSessionRow", "PersonRow", "ApprovalRow", "CaKeyRetirementRow",
    "ApplicationStatus", "CentreStatus", "CertificateStatus", "DocumentStatus", "FactorStatus", "SigningRequestStatus",
    "WebhookDeliveryStatus",
    "ContractFormRow", "SealSource", "TenantRow", "TenantStatus",
    "constraint_name",
]
