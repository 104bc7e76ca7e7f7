"""An identity provider's page SIMULATOR: where the Sign page sends the borrower for the biometric step (issue 20).

NOT an identity provider: a test web server on loopback that plays the part
of the provider's page (QOLTANBA_BIOMETRIC_PROVIDER_URL). The Sign page
posts it a form (``challenge``, ``movements``, ``iin``, ``return``,
``lang``); it shows the movements, and when the borrower presses its
button ("the camera filmed them") it signs an assertion with its own key
(signing/factors/biometrics.py's format, made by ``BiometricProviderSimulator``)
and redirects the browser to ``return?assertion=<JWS>``. The service trusts
it only because the test configures its public key as the provider's.
"""

from __future__ import annotations

import html
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from signing.factors.biometrics import BiometricProviderSimulator


class ProviderPageSimulator:
    """``with ProviderPageSimulator(name, now) as provider:`` serves at ``provider.url``; ``posted``: each form."""

    def __init__(self, name: str, now: Callable) -> None:  # noqa: ANN001 - () -> datetime, the service's clock
        self.signer = BiometricProviderSimulator(name)
        self.now = now
        self.posted: list[dict[str, str]] = []
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
                pass

            def _form(self) -> dict[str, str]:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                return {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}

            def _answer(self, status: int, text: str = "", location: str | None = None) -> None:
                data = text.encode()
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                form = self._form()
                if self.path == "/":
                    simulator.posted.append(form)
                    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                                     for k, v in form.items())
                    moves = "".join(f"<li>{html.escape(m)}</li>" for m in form.get("movements", "").split(","))
                    self._answer(200, f'<!doctype html><html lang="en"><title>Identity provider SIMULATOR</title>'
                                      f'<h1>Identity provider SIMULATOR</h1><ol id="moves">{moves}</ol>'
                                      f'<form method="post" action="/done">{hidden}'
                                      f'<button id="filmed">The camera filmed the movements</button></form>')
                elif self.path == "/done":
                    assertion = simulator.signer.assertion(
                        iin=form.get("iin", ""), challenge=form.get("challenge", ""),
                        movements=[m for m in form.get("movements", "").split(",") if m], at=simulator.now())
                    self._answer(303, location=form["return"] + "?" + urllib.parse.urlencode({"assertion": assertion}))
                else:
                    self._answer(404)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, name="provider-simulator", daemon=True)

    def public_key_pem(self) -> bytes:
        return self.signer.public_key_pem()

    def __enter__(self) -> ProviderPageSimulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
