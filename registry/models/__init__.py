"""The registry's tables (SQLAlchemy 2.0 declarative models), one module per domain.

Only this package knows SQLAlchemy. Columns hold what the seeds' forms and
journals ask for (seed 004 appendices); values the schema can enforce are
enforced here, not only in Python: serial numbers are unique per issuer, and
the government CA's one-key-per-holder rule (GOV-4) is a unique index.

Importing this package imports every module, so ``Base.metadata`` (what
Alembic's env compares against) holds every table.
"""

from registry.models.applications import ApplicationRow, ApplicationStatus, IssuanceJournalRow
from registry.models.accounts import (
    AccountStatus,
    BorrowerAccountRow,
    BorrowerCeremonyRow,
    BorrowerSessionRow,
    CeremonyStatus,
)
from registry.models.audit import AuditCheckpointRow, AuditHeadRow, AuditRow
from registry.models.base import NAMING_CONVENTION, Base, UTCDateTime
from registry.models.clients import (
    BiometricAssertionRow,
    BiometricChallengeRow,
    ClientFactorRow,
    ClientRow,
    EvidenceRecordRow,
    FactorProofRow,
    FactorStatus,
    OneTimeCodeRow,
    SigningRequestRow,
    SigningRequestStatus,
)
from registry.models.csc import CSCActivationRow, CSCActivationStatus
from registry.models.documents import (
    DocumentRow,
    DocumentStatus,
    DocumentVersionRow,
    SigningAuthorisationRow,
    SigningSessionRow,
    TrustAnchorRow,
)
from registry.models.hierarchy import (
    CentreRow,
    CentreStatus,
    CertificateArchiveRow,
    CertificateRow,
    CertificateStatus,
    SequenceRow,
)
from registry.models.people import ActorRow, ApprovalRow, CaKeyRetirementRow, ConsoleSessionRow, PersonRow
from registry.models.revocation import CRLRow, RevocationRow
from registry.models.shared import JobRow, JobStatus, RateBucketRow, SMSOutboxRow
from registry.models.tenants import (
    ContractFormRow,
    SealSource,
    TenantKeyRow,
    TenantKeyState,
    TenantRow,
    TenantStatus,
)
from registry.models.webhooks import WebhookDeliveryRow, WebhookDeliveryStatus, WebhookEndpointRow

__all__ = [
    "NAMING_CONVENTION", "Base", "UTCDateTime",
    "ActorRow", "ApplicationRow", "ApprovalRow", "AuditCheckpointRow", "AuditHeadRow", "AuditRow",
    "BiometricAssertionRow", "BiometricChallengeRow", "CaKeyRetirementRow", "CentreRow", "CertificateArchiveRow",
    "CertificateRow", "ClientFactorRow", "ClientRow", "ConsoleSessionRow", "CRLRow", "DocumentRow",
    "DocumentVersionRow", "EvidenceRecordRow", "FactorProofRow", "IssuanceJournalRow", "OneTimeCodeRow",
    "PersonRow", "RevocationRow", "SequenceRow", "SigningAuthorisationRow", "SigningRequestRow",
    "SigningSessionRow", "TrustAnchorRow", "WebhookDeliveryRow", "WebhookEndpointRow",
    "ApplicationStatus", "CentreStatus", "CertificateStatus", "DocumentStatus", "FactorStatus", "SigningRequestStatus",
    "WebhookDeliveryStatus",
    "ContractFormRow", "SealSource", "TenantKeyRow", "TenantKeyState", "TenantRow", "TenantStatus",
    "AccountStatus", "BorrowerAccountRow", "BorrowerCeremonyRow", "BorrowerSessionRow", "CeremonyStatus",
    "JobRow", "JobStatus", "RateBucketRow", "SMSOutboxRow",
    "CSCActivationRow", "CSCActivationStatus",
]
