"""One-time codes and TOTP (RFC 6238), the mechanics; the rules are in signing/policies/policy.py.

A one-time code is drawn uniformly (``secrets``), sent once and kept only as
a keyed hash (HMAC-SHA256 under a key derived from the master key) over
what it is bound to: the signing request and the document digest. A code
for another request or another state of the document therefore never
matches, even when its digits do.
"""

from __future__ import annotations

import secrets

# TOTP (RFC 6238) is shared with the centre's console logins (ca/people.py), so it lives in keys/totp.py.
from keys.totp import new_totp_secret, provisioning_uri, totp_code, totp_step


def new_code(digits: int) -> str:
    return f"{secrets.randbelow(10 ** digits):0{digits}d}"


def code_parts(purpose: str, binding: str, document_sha256: str | None, code: str) -> tuple[str, ...]:
    """What a code's keyed hash covers: purpose, request (or factor) id, document digest, the digits."""
    return (purpose, binding, document_sha256 or "-", code)


__all__ = ["code_parts", "new_code", "new_totp_secret", "provisioning_uri", "totp_code", "totp_step"]
