"""Signing service: loan documents and their versions, PAdES signing, and the client's will (issue 5)."""

from signing.documents import (
    VERSION_REASONS,
    DocumentService,
    DocumentView,
    NotIncrementalUpdate,
    StoredPdf,
    VersionView,
)
from signing.limits import DocumentLimits
from signing.metadata import DocumentMetadata
from signing.policy import Factor, SigningPolicies, SigningRule, default_policies

__all__ = ["DocumentLimits", "DocumentMetadata", "DocumentService", "DocumentView", "Factor", "NotIncrementalUpdate",
           "SigningPolicies", "SigningRule", "StoredPdf", "VERSION_REASONS", "VersionView", "default_policies"]
