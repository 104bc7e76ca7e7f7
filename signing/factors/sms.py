"""SMS delivery behind one narrow interface (issue 5).

The embedded default keeps messages in an in-memory outbox that the API
shows in development mode only; production posts each message to the SMS
gateway's HTTP webhook. Both are ``SMSSender``s, so the code that sends
one-time codes does not know which it has.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Protocol

from signing.factors.errors import DeliveryFailed


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark only, translate later" (make i18n)
    return message


# The one-time code's text, in English (the catalogues' source); the borrower's language is looked up (issue 20).
CODE_TEXT = N_("Qoltanba: {code} is your code to sign {document} {number} (document {digest}). Valid {minutes} "
               "min. Do not share it.")
DOCUMENT_WORDS = {"contract": N_("contract"), "amendment": N_("amendment"), "application": N_("application"),
                  "consent": N_("consent"), "schedule": N_("schedule"), "details_change": N_("details change")}
# The code credentials/sendOTP sends (the CSC door, issue 19): no document is known yet, only the key.
REMOTE_CODE_TEXT = N_("Qoltanba: {code} is your code to authorise a remote signature with key {credential}. "
                      "Valid {minutes} min. Do not share it.")


def code_text(say, language: str, *, code: str, kind: str, number: str, digest: str,  # noqa: ANN001 - Say
              minutes: int) -> str:
    """The SMS with a signing code in ``language`` (``say(language, english)``: the catalogues)."""
    document = say(language, DOCUMENT_WORDS[kind]) if kind in DOCUMENT_WORDS else kind.replace("_", " ")
    return say(language, CODE_TEXT).format(code=code, document=document, number=number, digest=digest,
                                           minutes=minutes)


class SMSSender(Protocol):
    def send(self, tenant: str, phone: str, text: str) -> str:
        """Hand one message over for delivery; returns the message id. Raises ``DeliveryFailed``."""


@dataclass(frozen=True)
class OutboxMessage:
    id: str
    tenant: str
    phone: str
    text: str
    at: dt.datetime

    def as_json(self) -> dict:
        return {"id": self.id, "tenant": self.tenant, "phone": self.phone, "text": self.text,
                "at": self.at.isoformat()}


class SMSOutbox:
    """Development SMS: messages kept in memory (the newest ``capacity``), never sent anywhere."""

    def __init__(self, clock, capacity: int = 1000) -> None:
        self.clock = clock
        self._messages: collections.deque[OutboxMessage] = collections.deque(maxlen=capacity)
        self._lock = threading.Lock()

    def send(self, tenant: str, phone: str, text: str) -> str:
        message = OutboxMessage(uuid.uuid4().hex, tenant, phone, text, self.clock.now())
        with self._lock:
            self._messages.append(message)
        return message.id

    def messages(self, *, tenant: str | None = None, phone: str | None = None) -> list[OutboxMessage]:
        with self._lock:
            found = list(self._messages)
        return [m for m in found if (tenant is None or m.tenant == tenant) and (phone is None or m.phone == phone)]


class WebhookSMSGateway:
    """A real SMS gateway reached by an HTTP POST of ``{"id", "to", "text"}`` as JSON.

    ``token`` (read from a file named by the settings) goes in an
    ``Authorization: Bearer`` header. Any answer but 2xx is a failure.
    """

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the SMS gateway URL must be http(s)")
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, tenant: str, phone: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        body = json.dumps({"id": message_id, "tenant": tenant, "to": phone, "text": text}).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": message_id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s), checked
                if not 200 <= response.status < 300:
                    raise DeliveryFailed(f"the SMS gateway answered {response.status}")
        except (urllib.error.URLError, OSError) as error:
            why = "it did not answer in time" if isinstance(error, TimeoutError) or \
                isinstance(getattr(error, "reason", None), TimeoutError) else "no connection could be made"
            raise DeliveryFailed(f"the SMS gateway cannot be reached: {why}") from None
        return message_id


def masked(phone: str) -> str:
    """+7 701 *** ** 67: enough for the client to recognise the number, not enough to learn it."""
    return f"{phone[:5]}*****{phone[-2:]}" if len(phone) > 7 else "***"
