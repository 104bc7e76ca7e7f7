"""Signing service: loan documents and their versions, PAdES signing, the client's will, verification reports.

One room per concern (issue 21), each a package whose ``__init__.py`` says
what belongs there and what it may import (docs/moves/signing-rooms.md):

- ``documents``: the uploaded PDF, its loan terms (LOAN-13) and stored versions;
- ``policies``: which factors a client proves before signing what;
- ``pades``: the PAdES/CMS mechanism (engine, SignedData, TSA, validation data);
- ``stamps``: the visible signature stamp;
- ``factors``: the client, their enrolled factors, codes, the authorisation;
- ``verification``: reports with ETSI indications for anyone's PDF or CMS;
- ``webhooks``: status changes pushed to the MFO backend;
- ``requests``: signing a document, from the request to the MFO's seal.
"""

from signing.documents import (
    EVERY_TENANT,
    VERSION_REASONS,
    DocumentLimits,
    DocumentMetadata,
    DocumentService,
    DocumentView,
    NotIncrementalUpdate,
    StoredPdf,
    VersionView,
)
from signing.policies import Factor, SigningPolicies, SigningRule, default_policies
from signing.verification import (
    Indication,
    TrustAnchors,
    TrustStore,
    UnverifiableInput,
    VerificationLimits,
    VerificationOptions,
    VerificationReport,
    Verifier,
)

__all__ = ["EVERY_TENANT", "DocumentLimits", "DocumentMetadata", "DocumentService", "DocumentView", "Factor", "Indication",
           "NotIncrementalUpdate", "SigningPolicies", "SigningRule", "StoredPdf", "TrustAnchors", "TrustStore",
           "UnverifiableInput", "VERSION_REASONS", "VerificationLimits", "VerificationOptions", "VerificationReport",
           "Verifier", "VersionView", "default_policies"]
