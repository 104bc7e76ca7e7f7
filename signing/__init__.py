"""Signing service: loan documents and their versions (signing itself comes with its own work)."""

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

__all__ = ["DocumentLimits", "DocumentMetadata", "DocumentService", "DocumentView", "NotIncrementalUpdate",
           "StoredPdf", "VERSION_REASONS", "VersionView"]
