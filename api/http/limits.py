"""Request-size and request-time limits, in front of every route (issue 8).

``BodyLimitMiddleware``: a body over the route's limit answers 413
problem+json. A declared Content-Length over it is refused before a byte of
the body is read; a body without one (chunked) is counted as it is read and
stopped at the first chunk past the limit. Every route but the two uploads
takes ``max_request_bytes`` (1 MiB: the largest JSON field, a trust anchor,
is 256 KiB); ``POST /documents`` and ``POST /verify`` take their PDFs'
limits. OCSP (10 000 bytes) and the TSA (64 KiB) stop earlier on their own.

``TimeoutMiddleware``: a request not answered within
``request_timeout_seconds`` gets 504 problem+json at once. A handler running
in a worker thread cannot be killed; it runs on and its late answer is
dropped, so the 504 says a write may still have completed (every write is
one transaction: it either completed or left nothing). Slow clients are the
server's business: uvicorn closes idle keep-alive connections after
``keep_alive_seconds`` and caps a request's header size.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.problems import problem
from ca.errors import QoltanbaError


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


# The multipart framing and the metadata part come on top of an uploaded PDF itself.
MULTIPART_ALLOWANCE = 256 * 1024


class PayloadTooLarge(QoltanbaError):
    def __init__(self, limit: int) -> None:
        super().__init__("payload-too-large", f"the request body is over {limit} bytes", [])


def capped(request: Request, limit: int) -> Request:
    """The same request, whose body stops being read once it passes ``limit`` bytes.

    Content-Length is checked first; this also stops a chunked body that
    declares no length.
    """
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise PayloadTooLarge(limit)
        return message

    return Request(request.scope, receive)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, default: Callable[[], int],
                 uploads: dict[tuple[str, str], Callable[[], int]]) -> None:
        self.app = app
        self.default = default
        self.uploads = uploads

    def limit(self, scope: Scope) -> int:
        # Read from the settings per request, so a changed setting applies at once.
        return self.uploads.get((scope["method"], scope["path"]), self.default)()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            answer = problem(413, "payload-too-large", f"the request body is over {limit} bytes", Request(scope))
            await answer(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI passes an HTTPException raised while reading the body on to its handler.
                    raise HTTPException(413, f"the request body is over {limit} bytes")
            return message

        await self.app(scope, counted, send)


class TimeoutMiddleware:
    """504 problem+json for a request not answered in time, at a timer's cost (no task per request).

    At the deadline a timer sends the 504 from its own task and cancels the
    request's task: a handler awaiting the body stops at once; one in a
    worker thread stops when the thread returns, and whatever it then
    sends is dropped.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        request_task = asyncio.current_task()
        started = False
        answer: asyncio.Task | None = None

        async def guarded(message: Message) -> None:
            nonlocal started
            if answer is not None:
                return  # the 504 went out already; the late answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def timed_out() -> None:
            response = problem(504, "timeout", f"no answer within {self.seconds:g} s; a write this request asked "
                                               f"for may still have completed: read its state before retrying",
                               Request(scope))
            await response(scope, receive, send)

        def expire() -> None:
            nonlocal answer
            if not started:
                answer = loop.create_task(timed_out())
                request_task.cancel()

        timer = loop.call_later(self.seconds, expire)
        try:
            await self.app(scope, receive, guarded)
        except asyncio.CancelledError:
            if answer is None:
                raise
        finally:
            timer.cancel()
        if answer is not None:
            request_task.uncancel()
            await asyncio.shield(answer)


def install(app, settings) -> None:  # noqa: ANN001 - FastAPI, api.settings.Settings
    app.add_middleware(BodyLimitMiddleware, default=lambda: settings.max_request_bytes, uploads={
        ("POST", "/documents"): lambda: settings.max_document_bytes + MULTIPART_ALLOWANCE,
        ("POST", "/verify"): lambda: 2 * settings.verify_max_bytes + MULTIPART_ALLOWANCE})
    app.add_middleware(TimeoutMiddleware, seconds=settings.request_timeout_seconds)
