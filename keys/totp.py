"""TOTP (RFC 6238), the mechanics: the authenticator-app codes of clients (signing/) and of staff (ca/people.py).

Here, at the bottom, so the centre's console logins (ca/) and the clients'
factors (signing/) share one implementation without ca importing signing
(issue 21). The rules (which factor a document needs, a code used once)
belong to their users.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import secrets

import pyotp

TOTP_INTERVAL = 30
TOTP_DIGITS = 6
# One step either side: a phone's clock may be half a minute off.
TOTP_WINDOW = 1


def new_totp_secret() -> str:
    """160 random bits in base32, RFC 4226's recommended length."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL).provisioning_uri(
        name=account, issuer_name=issuer)


def totp_step(secret: str, code: str, at: dt.datetime) -> int | None:
    """The time step whose TOTP equals ``code`` within the window, or None.

    The caller refuses a step at or before the last one accepted: a code is
    used once (RFC 6238 §5.2).
    """
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL)
    now_step = int(at.timestamp()) // TOTP_INTERVAL
    matched = None
    for step in range(now_step - TOTP_WINDOW, now_step + TOTP_WINDOW + 1):
        # Every candidate is compared, so the time taken says nothing of which matched.
        if hmac.compare_digest(totp.generate_otp(step), code):
            matched = step
    return matched


def totp_code(secret: str, at: dt.datetime) -> str:
    """The code an authenticator shows at ``at`` (tests and the simulator)."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL).at(at)


__all__ = ["TOTP_DIGITS", "TOTP_INTERVAL", "TOTP_WINDOW", "new_totp_secret", "provisioning_uri", "totp_code",
           "totp_step"]
