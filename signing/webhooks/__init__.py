"""Webhooks: status changes pushed to the MFO backend, signed, retried, idempotent (issues 5, 18).

What belongs here: registration, the outbox of deliveries and the
dispatcher (``service``), and where a webhook may point (``addresses``).

May import: nothing else of ``signing``; ``ca`` and ``registry`` below it.
"""

from signing.webhooks.addresses import AddressPolicy, GuardedTransport, RefusedAddress
from signing.webhooks.service import (
    DELIVERED,
    FAILED,
    PENDING,
    Dispatcher,
    Registration,
    Transport,
    WebhookPolicy,
    WebhookService,
    body_of,
    signature,
)

__all__ = ["DELIVERED", "FAILED", "PENDING", "AddressPolicy", "Dispatcher", "GuardedTransport", "RefusedAddress",
           "Registration", "Transport", "WebhookPolicy", "WebhookService", "body_of", "signature"]
