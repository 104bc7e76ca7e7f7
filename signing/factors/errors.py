"""Refusals of the factor work, each with its own code for the API's one table."""

from __future__ import annotations

import datetime as dt

from ca.errors import ConflictError, Problem, QoltanbaError


class FactorRefused(QoltanbaError):
    """A factor did not prove what it claims: a wrong or used code, an assertion that does not hold."""

    def __init__(self, detail: str, problems: list[Problem] | None = None) -> None:
        super().__init__("factor-refused", detail, problems or [])


class RequestLocked(QoltanbaError):
    """Too many failed factors: the signing request is locked for good; the MFO starts a new one."""

    def __init__(self, detail: str = "the signing request is locked after too many failed attempts") -> None:
        super().__init__("request-locked", detail, [])


class Throttled(QoltanbaError):
    """Asked again too soon (a code resent, a route called too often); ``retry_after`` in seconds."""

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__("rate-limited", detail, [])
        self.retry_after = max(1, int(retry_after + 0.999))


class ReviewWindowOpen(ConflictError):
    """LOAN-5: the client has not yet had the document for the review period."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(f"LOAN-5: the client reviews the document until {until.isoformat()}; "
                         "the factors can be given after that")
        self.code = "review-window-open"


class DeliveryFailed(QoltanbaError):
    """An SMS gateway (or other outside service) did not take the message."""

    def __init__(self, detail: str) -> None:
        super().__init__("unavailable", detail, [])
