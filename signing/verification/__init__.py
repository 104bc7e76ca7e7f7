"""Verification: anyone's signed PDF or CMS in, a report with ETSI EN 319 102-1 indications out (issue 6).

What belongs here: reading the input (``pdf``, ``cms``, ``reading``, the
fast hex reader ``pdf_hex``), the validation context at a moment
(``context``), who signed (``certs``), the one table from findings to an
indication (``indication``), the report and its sentences (``report``,
``words``), the trust store, the sandboxed worker and its per-source quota,
and the public page behind a stamp's QR code. A new verification check goes
into ``indication`` (the verdict) and the module that finds it.

May import: nothing else of ``signing``; ``ca`` and ``registry`` below it.

Each name below is imported from its module when first used (PEP 562): the verifier and its
sandbox do not import the trust store, which reads the registry (start-up, issue 21).
"""

from __future__ import annotations

import lazy_loader

# Where each exported name lives (its submodule); imported when the name is first used (PEP 562,
# through lazy_loader).
_EXPORTS = {
    "inputs": (
        "DEFAULT_MAX_BYTES", "TrustAnchors", "UnverifiableInput", "VerificationLimits", "VerificationOptions",
        "check_size",
    ),
    "report": (
        "Indication", "SignatureReport", "VerificationReport",
    ),
    "trust_store": (
        "TrustStore",
    ),
    "verifier": (
        "Verifier",
    ),
}

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs=_EXPORTS)
