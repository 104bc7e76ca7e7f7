"""Entry points stay silent about deprecations in code we do not own (issue 22).

A library's deprecation warning about its own use of another library
(pyHanko importing cryptography's DSA types, say) tells our users nothing
they can act on and breaks the one-line stderr the CLI promises. The entry
points (``qoltanba``, ``python -m api.cli``, ``uvicorn api.http.app:create_app``) call :func:`quiet_third_party`
before they import any third-party module. Warnings raised in our own
modules (``api``, ``ca``, ``signing``, ``registry``, ``keys``) — including a
third-party deprecation our own call triggers, which Python attributes to the
calling module — are still shown; the test suite turns them into errors
(pyproject.toml, ``filterwarnings``).
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning

OURS = ("api", "ca", "signing", "registry", "keys")
# A module name that is none of ours, nor inside one of ours.
NOT_OURS = r"(?!(?:%s)(?:\.|$))" % "|".join(OURS)
# cryptography's own deprecation class is a UserWarning, not a DeprecationWarning.
DEPRECATIONS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning, CryptographyDeprecationWarning)


def quiet_third_party() -> None:
    """Ignore deprecation warnings attributed to modules outside the project."""
    for category in DEPRECATIONS:
        warnings.filterwarnings("ignore", category=category, module=NOT_OURS)
