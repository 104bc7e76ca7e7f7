"""Verification: anyone's signed PDF or CMS in, a report with ETSI EN 319 102-1 indications out (issue 6).

What belongs here: reading the input (``pdf``, ``cms``, ``reading``, the
fast hex reader ``pdf_hex``), the validation context at a moment
(``context``), who signed (``certs``), the one table from findings to an
indication (``indication``), the report and its sentences (``report``,
``words``), the trust store, the sandboxed worker and its per-source quota,
and the public page behind a stamp's QR code. A new verification check goes
into ``indication`` (the verdict) and the module that finds it.

May import: nothing else of ``signing``; ``ca`` and ``registry`` below it.
"""

from signing.verification.context import TrustAnchors, UnverifiableInput, VerificationOptions
from signing.verification.report import Indication, SignatureReport, VerificationReport
from signing.verification.trust_store import TrustStore
from signing.verification.verifier import DEFAULT_MAX_BYTES, VerificationLimits, Verifier, check_size

__all__ = ["DEFAULT_MAX_BYTES", "Indication", "SignatureReport", "TrustAnchors", "TrustStore", "UnverifiableInput",
           "VerificationLimits", "VerificationOptions", "VerificationReport", "Verifier", "check_size"]
