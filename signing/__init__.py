"""Signing service: loan documents and their versions, PAdES signing, the client's will, verification reports."""

from signing.documents import (
    EVERY_TENANT,
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
from signing.trust_store import TrustStore
from signing.verification import VerificationLimits, Verifier
from signing.verification_context import TrustAnchors, UnverifiableInput, VerificationOptions
from signing.verification_report import Indication, VerificationReport

__all__ = ["EVERY_TENANT", "DocumentLimits", "DocumentMetadata", "DocumentService", "DocumentView", "Factor", "Indication",
           "NotIncrementalUpdate", "SigningPolicies", "SigningRule", "StoredPdf", "TrustAnchors", "TrustStore",
           "UnverifiableInput", "VERSION_REASONS", "VerificationLimits", "VerificationOptions", "VerificationReport",
           "Verifier", "VersionView", "default_policies"]
