"""Persistence: the registry of centres, certificates, applications, journals, actors, documents and audit."""

from registry.audit import AuditLog, ChainBreak
from registry.db import Database, sqlite_url
from registry.models import (
    ActorRow,
    ApplicationRow,
    AuditRow,
    CentreRow,
    CertificateArchiveRow,
    CertificateRow,
    CRLRow,
    DocumentRow,
    DocumentVersionRow,
    IssuanceJournalRow,
    RevocationRow,
    SigningAuthorisationRow,
    SigningSessionRow,
    TrustAnchorRow,
)
from registry.repositories import Conflict, Registry, RegistryError, RegistryTransaction

__all__ = [
    "ActorRow", "ApplicationRow", "AuditLog", "AuditRow", "CentreRow", "CertificateArchiveRow", "CertificateRow",
    "ChainBreak", "CRLRow", "DocumentRow", "DocumentVersionRow", "RevocationRow", "SigningAuthorisationRow", "SigningSessionRow", "TrustAnchorRow",
    "Conflict", "Database", "IssuanceJournalRow", "Registry", "RegistryError", "RegistryTransaction",
    "sqlite_url",
]
