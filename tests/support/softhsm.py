"""Throwaway SoftHSM2 tokens for tests.

SoftHSM reads ``SOFTHSM2_CONF`` and its token directory in C_Initialize, and
python-pkcs11 initialises a module once per process. So the first call fixes
one token directory for the whole process and points ``SOFTHSM2_CONF`` at it;
every call adds a fresh token there. A token created after the module was
loaded is only seen after re-initialising it, which invalidates every open
session in the process (``PKCS11KeyBackend`` reconnects by itself). Prefer one
session-scoped token with unique key labels per test.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path
from typing import NamedTuple

from tests.support.tools import find_tool, skip_or_fail

_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)
MODULE_ENV = "SOFTHSM2_MODULE"

_conf_path: Path | None = None


class SoftHSMToken(NamedTuple):
    module_path: str
    label: str
    pin: str


def find_module() -> str | None:
    """Path of libsofthsm2.so (``SOFTHSM2_MODULE`` overrides the usual places)."""
    override = os.environ.get(MODULE_ENV)
    if override:
        return override if Path(override).is_file() else None
    for candidate in _MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return None


def _ensure_conf(base_dir: Path) -> Path:
    global _conf_path
    if _conf_path is None:
        root = Path(base_dir) / "softhsm"
        tokens = root / "tokens"
        tokens.mkdir(parents=True, exist_ok=True)
        conf = root / "softhsm2.conf"
        conf.write_text(
            f"directories.tokendir = {tokens}\n"
            "objectstore.backend = file\n"
            "log.level = ERROR\n"
            "slots.removable = false\n"
        )
        _conf_path = conf
    os.environ["SOFTHSM2_CONF"] = str(_conf_path)
    return _conf_path


def softhsm_token(base_dir: Path, label: str | None = None) -> SoftHSMToken:
    """Create an initialised token; return (module_path, label, user PIN).

    Skips the test when SoftHSM2 is not installed, or fails it when
    ``QOLTANBA_REQUIRE_INTEROP`` is set.
    """
    util = find_tool("softhsm2-util")
    module = find_module()
    if util is None or module is None:
        skip_or_fail("softhsm2 not installed (need softhsm2-util and libsofthsm2.so)")
    conf = _ensure_conf(base_dir)
    label = label or f"qt-{secrets.token_hex(4)}"
    pin = secrets.token_hex(6)
    so_pin = secrets.token_hex(6)
    result = subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", pin],
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"softhsm2-util --init-token failed: {result.stderr.strip() or result.stdout.strip()}")
    _rescan_if_loaded(module)
    return SoftHSMToken(module, label, pin)


def _rescan_if_loaded(module: str) -> None:
    import pkcs11

    if getattr(pkcs11, "_loaded", {}).get(module) is not None:
        # Through the service's own path: under the module's lock, and every backend of this process then drops
        # its session and the object handles it kept (keys/pkcs11_session.py).
        from keys.pkcs11_session import library_lock, reinitialise

        with library_lock(module):
            reinitialise(module)
