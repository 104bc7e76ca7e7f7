"""The app while ``qoltanba serve`` prepares the home: ``GET /livez`` at once, the rest once ready (issue 21).

A plain ASGI application, so the server can listen before FastAPI, the
routes and the services are imported (api/start_up.py says why and how).
On the server's start it runs the preparation and builds the real
application in a worker thread, then enters the real application's
lifespan (the housekeeper, the settings' audit entry ...) and hands it
every request from then on, ``/livez`` included.

Until then: ``GET``/``HEAD /livez`` answers 200 ``{"status": "alive"}``, as the real
route does (a bare liveness probe, no I/O); any other request gets 503
problem+json with ``Retry-After: 1`` (the readiness probe ``/health`` too:
it answers 200 only when everything works). If the preparation or the
build fails, the server is stopped and ``serve`` reports why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from api.start_up import Preparation

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("qoltanba.api")
# problems.py's "unavailable" (a test holds them equal): that module imports FastAPI, which waits here.
UNAVAILABLE = {"type": "urn:qoltanba:problem:unavailable", "title": "The service cannot answer now", "status": 503,
               "code": "unavailable"}
STARTING = "the service is starting; try again in a moment"


async def _answer(send: Send, status: int, body: bytes, content_type: bytes,
                  extra: tuple[tuple[bytes, bytes], ...] = (), head: bool = False) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


class StartingApp:
    """Answers ``/livez`` while ``build()`` makes the real application; then the real application answers."""

    def __init__(self, build: Callable[[], Any], preparation: Preparation) -> None:
        self.build = build
        self.preparation = preparation
        self.app: Any = None
        self._lifespan: contextlib.AbstractAsyncContextManager | None = None
        self._starting: asyncio.Task | None = None
        self._stopping = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._run_lifespan(receive, send)
        elif self.app is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await self._while_starting(scope, send)
        elif scope["type"] == "websocket":   # none are served; refused as the real app would
            await send({"type": "websocket.close", "code": 1013})

    async def _while_starting(self, scope: Scope, send: Send) -> None:
        head = scope["method"] == "HEAD"
        if scope["path"] == "/livez" and scope["method"] in ("GET", "HEAD"):
            await _answer(send, 200, b'{"status":"alive"}', b"application/json", head=head)
            return
        body = {**UNAVAILABLE, "detail": STARTING, "instance": scope["path"]}
        await _answer(send, 503, json.dumps(body).encode(), b"application/problem+json",
                      ((b"retry-after", b"1"),), head=head)

    async def _run_lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # The server listens once this returns; the preparation and the build go on beside it.
                self._starting = asyncio.get_running_loop().create_task(self._start())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _start(self) -> None:
        try:
            await asyncio.to_thread(self.preparation.run)
            if self._stopping:
                return
            app = await asyncio.to_thread(self.build)
            lifespan = app.router.lifespan_context(app)
            await lifespan.__aenter__()
            self._lifespan, self.app = lifespan, app
        except BaseException as failure:   # noqa: BLE001 - any failure stops the server; serve says why
            if not self.preparation.failed:   # the preparation's own failure was already said by serve
                log.error("the service could not start", exc_info=failure)
            self.preparation.fail(failure)

    async def _stop(self) -> None:
        self._stopping = True
        if self._starting is not None and not self._starting.done():
            await asyncio.shield(self._starting)   # a preparation under way finishes; nothing is left half done
        if self._lifespan is not None:
            await self._lifespan.__aexit__(None, None, None)


__all__ = ["StartingApp", "STARTING", "UNAVAILABLE"]
