"""The client's factors: SMS codes, TOTP, biometrics with liveness; the mechanics only (issue 5).

Which factors a document needs is policy (``signing/policies/policy.py``); the
registry work and the order of steps are in ``signing/requests/lifecycle.py`` and
``signing/requests/proofs.py``.
"""

from signing.factors.biometrics import (
    MOVEMENTS,
    Assertion,
    AssertionRejected,
    AssertionVerifier,
    BiometricProviderSimulator,
    SignedAssertionVerifier,
    assertion_problems,
    new_challenge,
)
from signing.factors.codes import new_code, new_totp_secret, provisioning_uri, totp_code, totp_step
from signing.factors.errors import DeliveryFailed, FactorRefused, RequestLocked, ReviewWindowOpen, Throttled
from signing.factors.sms import OutboxMessage, SMSOutbox, SMSSender, WebhookSMSGateway, masked

__all__ = [
    "MOVEMENTS", "Assertion", "AssertionRejected", "AssertionVerifier", "BiometricProviderSimulator",
    "DeliveryFailed", "FactorRefused", "OutboxMessage", "RequestLocked", "ReviewWindowOpen", "SMSOutbox",
    "SMSSender", "SignedAssertionVerifier", "Throttled", "WebhookSMSGateway", "assertion_problems", "masked",
    "new_challenge", "new_code", "new_totp_secret", "provisioning_uri", "totp_code", "totp_step",
]
