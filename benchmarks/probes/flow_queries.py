"""Probe (not a `make bench` benchmark): database work of one complete MFO flow, request by request (issue 17, item 3).

Usage: python benchmarks/probes/flow_queries.py [--flows 5]

The flow of benchmarks/load.py (a held key, the client registered, a 2-page
consent uploaded, the request at B-LT, SMS, biometrics, confirm, download)
runs in this process against the application (httpx's ASGI transport) on a
throwaway PostgreSQL, so no network and no other process blurs the count.
For each request: transactions begun, SQL statements sent (the pool's
pre-ping included) and wall time, the mean over ``--flows`` flows after a
first one to warm up. Confirm is the request that signs twice.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextvars
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402
from sqlalchemy import event  # noqa: E402

import load  # noqa: E402
from flow_driver import Refused  # noqa: E402

from tests.support.deployment import newest_code  # noqa: E402

CURRENT = contextvars.ContextVar("request", default="(outside a request)")
ID = re.compile(r"/[0-9a-f]{16,}|/\d+(?=/|$)")


class Outbox:
    """What load.flow reads of a deployment: the SMS messages, the identity provider's answers."""

    def __init__(self, services) -> None:  # noqa: ANN001
        self.services = services

    @property
    def messages(self) -> list[dict]:
        return [{"to": m.phone, "text": m.text} for m in self.services.sms.messages()]

    def code_now(self, phone: str, after: int = 0) -> str | None:
        return newest_code(self.messages, phone, after)

    def assertion(self, **kwargs) -> str:  # noqa: ANN003
        return self.services.biometric_simulator.assertion(**kwargs)


class InProcess:
    """``flow_driver.Http.call`` over httpx's ASGI transport: the application in this process, no network."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, method: str, path: str, status: int = 200, **options) -> dict | bytes:  # noqa: ANN003
        answer = await self.http.request(method, path, **options)
        if answer.status_code != status:
            raise Refused(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.headers.get("content-type", "").startswith("application/json") \
            else answer.content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=5)
    args = parser.parse_args()
    from api.http.app import create_app
    from api.settings import Settings
    from api.wiring import Services
    from ca.access import AccessService
    from tests.support.postgres import PostgresServer
    from tests.support.tenants import ensure_tenant

    with tempfile.TemporaryDirectory() as tmp, PostgresServer.start() as postgres:
        _name, url = postgres.create_unique_database("flow_queries")
        services = Services.build(Settings(home=Path(tmp) / "home", database_url=url, master_key="33" * 32,
                                           **{k.removeprefix("QOLTANBA_").lower(): v for k, v in load.WIDE.items()}))
        services.migrate()
        services.bootstrap.initialise()
        ensure_tenant(services, load.TENANT)
        access = AccessService(services.registry, services.clock)
        admin = {"X-API-Key": access.create_key("probe-admin", "administrator", by="probe").key}
        mfo = {"X-API-Key": access.create_key("probe-mfo", "mfo", by="probe", tenant=load.TENANT).key}
        counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        engine = services.database.engine

        # Every statement psycopg sends, the registry's raw DB-API writes and the pool's pings included.
        import psycopg

        for method in ("execute", "executemany"):
            original = getattr(psycopg.Cursor, method)

            def counting(self, *a, _original=original, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
                counts[CURRENT.get()]["statements"] += 1
                return _original(self, *a, **k)

            setattr(psycopg.Cursor, method, counting)

        @event.listens_for(engine, "begin")
        def _begin(*_args) -> None:  # noqa: ANN002
            counts[CURRENT.get()]["transactions"] += 1

        app = create_app(services=services)

        async def counted(scope, receive, send) -> None:  # noqa: ANN001
            if scope["type"] != "http":
                return await app(scope, receive, send)
            name = f"{scope['method']} {ID.sub('/{id}', scope['path'])}"
            token = CURRENT.set(name)
            began = time.perf_counter()
            try:
                await app(scope, receive, send)
            finally:
                counts[name]["requests"] += 1
                counts[name]["ms"] += (time.perf_counter() - began) * 1000
                CURRENT.reset(token)

        async def run() -> None:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=counted), base_url="http://probe") as client:
                http = InProcess(client)
                await load.flow(http, Outbox(services), mfo, admin, {})
                counts.clear()
                for _ in range(args.flows):
                    await load.flow(http, Outbox(services), mfo, admin, {})

        asyncio.run(run())
        services.close()
    total = collections.Counter()
    print(f"{'request':58} {'tx':>6} {'stmts':>6} {'ms':>7}")
    for name, c in sorted(counts.items(), key=lambda item: -item[1]["ms"]):
        n = max(1, c["requests"]) if name != "(outside a request)" else args.flows
        print(f"{name[:58]:58} {c['transactions'] / n:6.1f} {c['statements'] / n:6.1f} {c['ms'] / n:7.1f}")
        total.update({k: v / args.flows for k, v in c.items()})
    print(f"{'one flow':58} {total['transactions']:6.1f} {total['statements']:6.1f} {total['ms']:7.1f}")


if __name__ == "__main__":
    main()
