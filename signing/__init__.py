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

Each name below is imported from its room when first used (PEP 562), so whoever imports one room,
``qoltanba verify`` the verification, does not import the others with it (start-up, issue 21).
"""

from __future__ import annotations

import lazy_loader

# Where each exported name lives (its submodule); imported when the name is first used (PEP 562,
# through lazy_loader).
_EXPORTS = {
    "documents": (
        "EVERY_TENANT", "VERSION_REASONS", "DocumentLimits", "DocumentMetadata", "DocumentService",
        "DocumentView", "NotIncrementalUpdate", "StoredPdf", "VersionView",
    ),
    "policies": (
        "Factor", "SigningPolicies", "SigningRule", "default_policies",
    ),
    "verification": (
        "Indication", "TrustAnchors", "TrustStore", "UnverifiableInput", "VerificationLimits",
        "VerificationOptions", "VerificationReport", "Verifier",
    ),
}

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs=_EXPORTS)
