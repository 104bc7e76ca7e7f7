"""What the operations middleware costs a request (issue 17, item 4).

Ours: the service's application (``create_app``) answering ``GET /ca`` (a
public read, the route template ``/ca``) through ``OperationsMiddleware``:
a request id, the request counter and the latency histogram. Baseline: the
same application with that middleware taken off its stack. Both called as
ASGI applications in-process (no sockets, so the figure is the middleware's
and the route's alone), interleaved rounds, median of the rounds. The
ratio is ours / baseline: 1.0 means the metrics and ids cost nothing.

Prints a final JSON line {"name","value","unit","baseline","ratio"}.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROUNDS, PER_ROUND = 7, 2000


def _app(services, with_operations: bool):  # noqa: ANN001, ANN202
    from api.http.app import create_app
    from api.http.operations import OperationsMiddleware

    app = create_app(services=services)
    if not with_operations:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not OperationsMiddleware]
    app.middleware_stack = app.build_middleware_stack()
    return app


async def _rate(app, count: int) -> float:  # noqa: ANN001
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/ca", "raw_path": b"/ca", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 1), "server": ("bench", 80)}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.perf_counter()
    for _ in range(count):
        await app(dict(scope), receive, send)
    elapsed = time.perf_counter() - started
    assert set(statuses) == {200}, set(statuses)
    return count / elapsed


def main() -> None:
    from api.settings import Settings
    from api.wiring import Services

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home) / "home", master_key="77" * 32, public_rate_per_minute=10 ** 9,
                            public_burst=10 ** 9)
        services = Services.build(settings)
        services.migrate()
        services.bootstrap.initialise()
        try:
            ours, bare = _app(services, True), _app(services, False)
            loop = asyncio.new_event_loop()
            loop.run_until_complete(_rate(ours, 200))
            loop.run_until_complete(_rate(bare, 200))
            with_ops, without = [], []
            for _ in range(ROUNDS):
                with_ops.append(loop.run_until_complete(_rate(ours, PER_ROUND)))
                without.append(loop.run_until_complete(_rate(bare, PER_ROUND)))
            loop.close()
        finally:
            services.close()
    value, baseline = statistics.median(with_ops), statistics.median(without)
    print(f"GET /ca in-process: with the operations middleware {value:.0f}/s, without {baseline:.0f}/s")
    print(json.dumps({"name": "operations middleware (GET /ca, in-process ASGI)", "value": round(value, 1),
                      "unit": "requests/s", "baseline": round(baseline, 1), "ratio": round(value / baseline, 3)}),
          flush=True)


if __name__ == "__main__":
    main()
