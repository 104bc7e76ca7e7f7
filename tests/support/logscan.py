"""What a secret looks like in a log, and every log the suite writes, scanned at the end of the session.

``tests/conftest.py`` attaches a handler to the root logger for the whole
session (at the levels the code and the tests chose, so no test sees more
records than before) and scans its file, with every real server's log
(``tests/support/server.py`` registers them), when the session finishes: a
PEM private key or an API key ``qk_<id>_<secret>`` anywhere fails the run.
tests/integration/test_secrets_in_logs.py does the thorough part: every
logger at DEBUG, and the exact secrets its flows handled.
"""

from __future__ import annotations

import re
from pathlib import Path

PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
API_KEY = re.compile(r"qk_[0-9a-f]{8,}_[A-Za-z0-9_-]{16,}")

LOGS: list[Path] = []   # every log file written during the session


def generic_findings(text: str) -> list[str]:
    """Secrets recognisable by their shape alone."""
    return ([f"private key: {m.group(0)}" for m in PRIVATE_KEY.finditer(text)]
            + [f"API key: {m.group(0)[:12]}…" for m in API_KEY.finditer(text)])


def scan(paths: list[Path]) -> list[str]:
    found = []
    for path in dict.fromkeys(paths):
        if path.exists():
            found += [f"{path}: {finding}" for finding in generic_findings(path.read_text(errors="replace"))]
    return found
