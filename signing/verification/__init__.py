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

import importlib
from typing import Any

# Where each exported name lives; its module is imported when the name is first used (PEP 562).
_EXPORTS = {
    "signing.verification.inputs": (
        "DEFAULT_MAX_BYTES", "TrustAnchors", "UnverifiableInput", "VerificationLimits", "VerificationOptions",
        "check_size",
    ),
    "signing.verification.report": (
        "Indication", "SignatureReport", "VerificationReport",
    ),
    "signing.verification.trust_store": (
        "TrustStore",
    ),
    "signing.verification.verifier": (
        "Verifier",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


__all__ = sorted(_MODULE_OF)
