"""Finding external tools; skip (or fail, in CI) when one is missing.

CI sets ``QOLTANBA_REQUIRE_INTEROP=1``: there a missing tool is a failure, not
a silent skip. Locally tests needing a tool that is not installed are skipped.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from typing import NoReturn

import pytest

REQUIRE_INTEROP_ENV = "QOLTANBA_REQUIRE_INTEROP"

# Directories that root's PATH usually has but a user's may not.
_SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def interop_required() -> bool:
    """True when ``QOLTANBA_REQUIRE_INTEROP`` is set to anything but ''/0/false/no."""
    value = os.environ.get(REQUIRE_INTEROP_ENV, "").strip().lower()
    return value not in ("", "0", "false", "no")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the current test, or fail it when interop is required."""
    reason = " ".join(reason.split())  # keep it to one line
    if interop_required():
        pytest.fail(f"{reason} ({REQUIRE_INTEROP_ENV} is set)", pytrace=False)
    pytest.skip(reason)


def find_tool(name: str, extra_dirs: Iterable[str] = ()) -> str | None:
    """Absolute path of executable ``name`` from PATH, sbin dirs or ``extra_dirs``."""
    found = shutil.which(name)
    if found:
        return found
    fallback = os.pathsep.join([*extra_dirs, *_SBIN_DIRS])
    return shutil.which(name, path=fallback)


def require_tool(name: str, extra_dirs: Iterable[str] = ()) -> str:
    """Path of executable ``name``; skips the test (fails under CI) if absent."""
    path = find_tool(name, extra_dirs)
    if path is None:
        skip_or_fail(f"required tool {name!r} not found in PATH")
    return path
