"""Loan documents: the PDF an MFO uploads, its loan terms and its stored versions (DOMAIN.md §3, issue 4).

What belongs here: the checks of an uploaded PDF (``pdf_checks``), the loan
terms and LOAN-13's limits (``metadata``, ``limits``), and the document
service that stores every version and reads them back per tenant
(``service``). Signing a document is ``signing.requests``.

May import: nothing else of ``signing`` (the rooms above read the loan terms
from here); ``ca`` and ``registry`` below it.
"""

from signing.documents.limits import DocumentLimits
from signing.documents.metadata import DocumentMetadata, parse_metadata
from signing.documents.service import (
    EVERY_TENANT,
    STATUS_UPLOADED,
    UPLOADED,
    VERSION_REASONS,
    DocumentService,
    DocumentView,
    EveryTenant,
    NotIncrementalUpdate,
    Scope,
    StoredPdf,
    VersionView,
)

__all__ = ["EVERY_TENANT", "STATUS_UPLOADED", "UPLOADED", "VERSION_REASONS", "DocumentLimits", "DocumentMetadata",
           "DocumentService", "DocumentView", "EveryTenant", "NotIncrementalUpdate", "Scope", "StoredPdf",
           "VersionView", "parse_metadata"]
