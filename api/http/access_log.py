"""The access log keeps no personal data from query strings (issue 18, finding 8).

uvicorn logs each request's path with its query string (``uvicorn.access``),
and some reads take personal data there: ``GET /dev/sms-outbox?phone=…``,
``GET /certificates?iin=…&bin=…``. A filter on that logger rewrites the
query before any handler sees the record: the values of the parameters
named in ``KEPT`` stay when they look harmless (short words and numbers, no
run of ten digits, which a phone number, an IIN or a BIN would be); every
other value becomes ``[redacted]``, and so does a parameter whose name is not
an identifier. Unknown parameters are redacted rather than known personal
ones, so a route added tomorrow leaks nothing by default.

Installed by the app factory, so every way of serving gets it: ``qoltanba
serve``, ``uvicorn api.http.app:create_app --factory`` with or without a
``--log-config`` (tests/integration/test_access_log.py).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"
# Query parameters that carry no personal data (centres, states, paging, formats, tenants).
KEPT = frozenset({"at", "ca", "centre", "format", "kind", "level", "limit", "offset", "overdue", "profile",
                  "status", "tenant"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-\[\]]{0,63}")
_HARMLESS = re.compile(r"[A-Za-z0-9_.:\-]{0,64}")
_DIGITS = re.compile(r"\d{10,}")


def _parameter(pair: str) -> str:
    name, equals, value = pair.partition("=")
    if not pair:
        return pair
    if not _NAME.fullmatch(unquote_plus(name)):
        return REDACTED
    if not equals:
        return name
    plain = unquote_plus(value)
    keep = name.lower() in KEPT and _HARMLESS.fullmatch(plain) and not _DIGITS.search(plain)
    return f"{name}={value if keep else REDACTED}"


def redact_query(target: str) -> str:
    """``/dev/sms-outbox?phone=%2B77011234567`` -> ``/dev/sms-outbox?phone=[redacted]``."""
    path, question, query = target.partition("?")
    if not question:
        return target
    return path + "?" + "&".join(_parameter(pair) for pair in query.split("&"))


class RedactQueryStrings(logging.Filter):
    """Rewrites the request target of uvicorn's access records: ``(client, method, target, version, status)``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def install() -> None:
    """Put the filter on uvicorn's access logger, once per process."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactQueryStrings) for f in logger.filters):
        logger.addFilter(RedactQueryStrings())


__all__ = ["KEPT", "RedactQueryStrings", "install", "redact_query"]
