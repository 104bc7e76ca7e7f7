"""SMS delivery behind one narrow interface (issue 5).

The embedded default keeps messages in an outbox in the registry (table
``sms_outbox``, so every worker shows the same messages; issue 17, item 2)
that the API shows in development mode only; production posts each message to the SMS
gateway's HTTP webhook. Both are ``SMSSender``s, so the code that sends
one-time codes does not know which it has.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from contextlib import AbstractContextManager
from typing import Protocol

from registry import SMSOutboxRow
from signing.factors.errors import DeliveryFailed


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark only, translate later" (make i18n)
    return message


# The one-time code's text, in English (the catalogues' source); the borrower's language is looked up (issue 20).
CODE_TEXT = N_("Qoltanba: {code} is your code to sign {document} {number} (document {digest}). Valid {minutes} "
               "min. Do not share it.")
# The code that confirms a phone at enrolment (LOAN-7, LOAN-9) and the link to enrol an authenticator (issue 15).
PHONE_TEXT = N_("Qoltanba: {code} is your code to confirm this phone for signing with Qoltanba. Valid {minutes} min. "
                "Do not share it with anyone.")
LINK_TEXT = N_("Qoltanba: add your authenticator for signing: {link} . Valid {hours} h. Only you should open it; "
               "do not share it.")
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


def english(_language: str, words: str) -> str:
    """A ``say`` that keeps the English source (a service built without the catalogues)."""
    return words


def phone_text(say, language: str, *, code: str, minutes: int) -> str:  # noqa: ANN001 - Say
    """The SMS that confirms a phone, in ``language``."""
    return say(language, PHONE_TEXT).format(code=code, minutes=minutes)


def link_text(say, language: str, *, link: str, hours: int) -> str:  # noqa: ANN001 - Say
    """The SMS with the link to enrol an authenticator, in ``language``."""
    return say(language, LINK_TEXT).format(link=link, hours=hours)


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


class OutboxRows(Protocol):
    def add(self, row: SMSOutboxRow) -> SMSOutboxRow: ...
    def messages(self, *, tenant: str | None = None, phone: str | None = None,
                 limit: int = 1000) -> list[SMSOutboxRow]: ...
    def keep_newest(self, count: int) -> int: ...


class OutboxUnit(Protocol):
    @property
    def sms_outbox(self) -> OutboxRows: ...


class OutboxStorage(Protocol):
    """The registry as the outbox sees it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[OutboxUnit]: ...


class SMSOutbox:
    """Development SMS: messages kept in the registry (the newest ``capacity``), never sent anywhere.

    In the registry, not in a process: the code one worker sent is shown by
    whichever worker the development page or the test asks. The phone and
    the text (a code or a link) are sealed per tenant by the registry
    (LOAN-15): the row's ``phone`` and ``text`` are clear to the code only.
    """

    def __init__(self, registry: OutboxStorage, clock, capacity: int = 1000) -> None:  # noqa: ANN001 - Clock
        self.registry = registry
        self.clock = clock
        self.capacity = capacity

    def send(self, tenant: str, phone: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        with self.registry.transaction() as tx:
            tx.sms_outbox.add(SMSOutboxRow(public_id=message_id, tenant=tenant, phone=phone, text=text,
                                           at=self.clock.now()))
            tx.sms_outbox.keep_newest(self.capacity)
        return message_id

    def messages(self, *, tenant: str | None = None, phone: str | None = None) -> list[OutboxMessage]:
        with self.registry.transaction(readonly=True) as tx:
            rows = tx.sms_outbox.messages(tenant=tenant, phone=phone, limit=self.capacity)
            return [OutboxMessage(r.public_id, r.tenant, r.phone, r.text, r.at) for r in rows]


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
