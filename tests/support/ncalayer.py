"""An NCALayer simulator: a WebSocket server speaking NCALayer's protocol, on loopback (issue 20).

NOT NCALayer: the NCA RK's application listens on wss://127.0.0.1:13579 and
answers JSON requests ``{"module": "kz.gov.pki.knca.commonUtils", "method":
…, "args": […]}`` with ``{"code": "200", "responseObject": …}`` or an error
code and message, after greeting each connection with ``{"result":
{"version": …}}`` — as its SDK (pki.gov.kz/developers) and the open-source
clients (sigex-kz/ncalayer-js-client) describe it. This one answers
``createCAdESFromBase64Hash(storage, keyType, base64Hash)`` with a CMS over
the hash made by the key it was given (no dialog, no PIN), ``getKeyInfo``
with the certificate, and 500 to anything else. It records what it was
asked, so a test sees the page's request.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization


class NCALayerSimulator:
    def __init__(self, port: int, sign_hash: Callable[[bytes], bytes], certificate) -> None:  # noqa: ANN001
        self.port = port
        self.sign_hash = sign_hash
        self.certificate = certificate
        self.requests: list[dict] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ncalayer-simulator", daemon=True)

    def __enter__(self) -> NCALayerSimulator:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the NCALayer simulator did not start")
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def _answer(self, request: dict) -> dict:
        method, args = request.get("method"), request.get("args") or []
        if request.get("module") != "kz.gov.pki.knca.commonUtils":
            return {"code": "500", "message": "module not found"}
        if method == "createCAdESFromBase64Hash" and len(args) == 3:
            cms = self.sign_hash(base64.b64decode(args[2]))
            return {"code": "200", "responseObject": base64.b64encode(cms).decode()}
        if method == "getKeyInfo":
            pem = self.certificate.public_bytes(serialization.Encoding.PEM).decode()
            return {"code": "200", "responseObject": {"pem": pem, "serialNumber": format(
                self.certificate.serial_number, "x")}}
        return {"code": "500", "message": f"method {method} is not simulated"}

    def _run(self) -> None:
        from websockets.asyncio.server import serve

        async def handler(connection) -> None:  # noqa: ANN001
            await connection.send(json.dumps({"result": {"version": "1.4 (simulator)"}}))
            async for message in connection:
                request = json.loads(message)
                self.requests.append(request)
                # The signer may run its own event loop (pyHanko's async signers): off this one.
                await connection.send(json.dumps(await asyncio.to_thread(self._answer, request)))

        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            async with serve(handler, "127.0.0.1", self.port):
                self._ready.set()
                await self._stop.wait()

        asyncio.run(main())
