"""Repositories: reads and writes of the registry, flushed, never committed; one module per domain.

The unit of work (``Registry.transaction``, registry/repositories/transaction.py)
commits at the edge. Domain code gets rows back and reads their attributes;
it never builds queries.
"""

from registry.repositories.applications import ApplicationRepository, JournalRepository
from registry.repositories.base import Conflict, RegistryError
from registry.repositories.clients import (
    BiometricAssertionRepository,
    BiometricChallengeRepository,
    ClientFactorRepository,
    ClientRepository,
    EvidenceRepository,
    FactorProofRepository,
    OneTimeCodeRepository,
    SigningRequestRepository,
)
from registry.repositories.documents import (
    DocumentRepository,
    DocumentVersionRepository,
    SigningAuthorisationRepository,
    SigningSessionRepository,
    TrustAnchorRepository,
)
from registry.repositories.hierarchy import CentreRepository, CertificateRepository, SequenceRepository
from registry.repositories.people import (
    ActorRepository,
    ApprovalRepository,
    CaKeyRetirementRepository,
    ConsoleSessionRepository,
    PeopleRepository,
)
from registry.repositories.revocation import CRLRepository, RevocationRepository
from registry.repositories.tenants import ContractFormRepository, TenantRepository
from registry.repositories.transaction import Registry, RegistryTransaction
from registry.repositories.webhooks import WebhookDeliveryRepository, WebhookEndpointRepository

__all__ = [
    "Conflict", "Registry", "RegistryError", "RegistryTransaction",
    "ActorRepository", "ApplicationRepository", "ApprovalRepository", "BiometricAssertionRepository",
    "BiometricChallengeRepository", "CaKeyRetirementRepository", "CentreRepository", "CertificateRepository",
    "ClientFactorRepository", "ClientRepository", "ConsoleSessionRepository", "CRLRepository",
    "DocumentRepository", "DocumentVersionRepository", "EvidenceRepository", "FactorProofRepository",
    "JournalRepository", "OneTimeCodeRepository", "PeopleRepository", "RevocationRepository",
    "SequenceRepository", "SigningAuthorisationRepository", "SigningRequestRepository",
    "SigningSessionRepository", "TrustAnchorRepository", "WebhookDeliveryRepository",
    "WebhookEndpointRepository", "ContractFormRepository", "TenantRepository",
]
