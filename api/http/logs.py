"""Logs a machine reads: one JSON object a line, each with its request's id, and no personal data (issue 17).

``install(log_format)`` is called by the app factory, once uvicorn (or the
``--log-config`` given to it) has configured logging, so every way of serving
gets it:

- every handler of the root logger and of uvicorn's loggers gets
  ``RequestIdFilter``: it puts ``request_id`` on each record (the id of the
  request being served, ``-`` outside one: usable as ``%(request_id)s`` in a
  text format too);
- with ``QOLTANBA_LOG_FORMAT=json`` (the default in production mode) they
  also get ``ScrubFilter``, which rewrites what personal data or a secret
  could look like in a message or its arguments (below), and their
  formatter becomes structlog's ``ProcessorFormatter`` rendering JSON: ``at``
  (UTC, ISO 8601), ``level``, ``logger``, ``event`` (the message),
  ``request_id``, and ``exception`` with the traceback when there is one. When
  the root logger has no handler (``qoltanba serve`` with uvicorn's default
  configuration), one writing JSON to stderr at INFO is added.

The request id is the caller's ``X-Request-ID`` when it is a short token
(1-128 of ``A-Z a-z 0-9 . _ : -``), else a new UUID4; api/http/operations.py
sets it for the request and returns it in the response's ``X-Request-ID``.

What is scrubbed (a second line of defence: the code does not log personal
data, tests/integration/test_secrets_in_logs.py checks): a run of exactly
twelve digits (an IIN or a BIN, Law of the Republic of Kazakhstan "On
national registers of identification numbers", 2007) becomes
``[12 digits]``; a Kazakh mobile number (+7 and ten digits) ``[phone]``; an
API key ``qk_<id>_<secret>`` and a console session token ``qs_…`` keep their
prefix only; a PEM private key block is cut out. In JSON mode the whole
rendered line, traceback included, passes through the same rewriting.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

import structlog

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("qoltanba_request_id", default=None)
_GIVEN_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")

_SCRUB = (
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
     "[private key]"),
    (re.compile(r"\b(qk_[0-9a-f]{4})[0-9a-f]*_[A-Za-z0-9_\-]+"), r"\1…[key]"),
    (re.compile(r"\b(qs_)[A-Za-z0-9_\-]{8,}"), r"\1[session]"),
    (re.compile(r"(?<![\d+])\+?7\d{10}(?!\d)"), "[phone]"),
    (re.compile(r"(?<!\d)\d{12}(?!\d)"), "[12 digits]"),
)


def scrub(text: str) -> str:
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


def request_id_from(given: str | None) -> str:
    """The caller's id when it is a short token, else a fresh one."""
    if given and _GIVEN_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return REQUEST_ID.get()


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get() or "-"
        return True


class ScrubFilter(logging.Filter):
    """Rewrites the message and its string arguments; uvicorn's access records keep their tuple shape."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: scrub(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def _shape(_logger: object, _name: str, event: dict) -> dict:
    record: logging.LogRecord | None = event.pop("_record", None)
    event.pop("_from_structlog", None)
    shaped = {"at": event.pop("timestamp", None), "level": event.pop("level", None),
              "logger": record.name if record is not None else event.pop("logger", None),
              "event": event.pop("event", ""),
              "request_id": getattr(record, "request_id", None) or REQUEST_ID.get() or "-"}
    if "exception" in event:
        shaped["exception"] = event.pop("exception")
    shaped.update(event)
    return shaped


def _scrub_event(_logger: object, _name: str, event: dict) -> dict:
    return {key: scrub(value) if isinstance(value, str) else value for key, value in event.items()}


def json_formatter() -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_log_level,
                           structlog.processors.TimeStamper(fmt="iso", utc=True)],
        processors=[structlog.processors.format_exc_info, _shape, _scrub_event,
                    structlog.processors.JSONRenderer(ensure_ascii=False)],
        keep_exc_info=False, keep_stack_info=False)


def install(log_format: str) -> None:
    """Filters on every handler of the root and uvicorn loggers; JSON formatters when ``log_format`` is json."""
    root = logging.getLogger()
    if log_format == "json" and not root.handlers:
        handler = logging.StreamHandler()
        root.addHandler(handler)
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
    formatter = json_formatter() if log_format == "json" else None
    for name in LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
                handler.addFilter(RequestIdFilter())
            if formatter is not None:
                if not any(isinstance(f, ScrubFilter) for f in handler.filters):
                    handler.addFilter(ScrubFilter())
                handler.setFormatter(formatter)


__all__ = ["REQUEST_ID", "RequestIdFilter", "ScrubFilter", "current_request_id", "install", "request_id_from",
           "scrub"]
