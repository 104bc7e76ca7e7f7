"""What the settings set for a verification: the input's size, and each worker's time, memory and share.

Shared by the wiring (``Services.verifier``) and ``qoltanba verify``. It
sits beside ``api/settings.py``, not in ``api/wiring/``: importing any
module of that package imports the whole object graph first (its
``__init__``), which a verification on the command line does not need
(start-up, issue 21). ``api.wiring.policies`` re-exports both functions.
"""

from __future__ import annotations

from api.settings import Settings
from signing.verification.sandbox import SandboxLimits
from signing.verification.inputs import VerificationLimits


def verification_limits(settings: Settings) -> VerificationLimits:
    return VerificationLimits(max_bytes=settings.verify_max_bytes, max_detached_bytes=settings.verify_max_bytes)


def sandbox_limits(settings: Settings) -> SandboxLimits:
    return SandboxLimits(timeout_seconds=settings.verify_timeout_seconds,
                         memory_bytes=settings.verify_memory_mb * 1024 * 1024, workers=settings.verify_workers,
                         per_source=settings.verify_per_address)


__all__ = ["sandbox_limits", "verification_limits"]
