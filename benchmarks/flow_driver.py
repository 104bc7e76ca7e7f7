"""The load driver's HTTP side: one complete MFO flow, and verifications, over aiohttp on uvloop.

benchmarks/load.py measures the service and the driver together on the same two cores, so every
millisecond the driver spends is one the workers do not get. httpx (the tests' client) cost about
14 ms of this process's CPU a flow (its connection pool, anyio, and a failing import on every
request, profiled with py-spy); aiohttp on uvloop does the same 13 requests for a few. Both come with
the service already: aiohttp with pyHanko, uvloop with uvicorn[standard].
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time
from collections.abc import Awaitable

import aiohttp
import uvloop

from tests.support import factories as f
from tests.support.deployment import Deployment
from tests.support.pdfs import contract_pdf

PDF = contract_pdf(pages=2)


class Refused(RuntimeError):
    """An operation the service refused or answered wrongly: counted by load.py, not in the rates."""


def run(coroutine: Awaitable):  # noqa: ANN201 - whatever the coroutine returns
    """``asyncio.run`` on uvloop (the workers' own loop under uvicorn)."""
    return uvloop.run(coroutine)


class Http:
    """One keep-alive pool of ``connections`` to ``base``; ``call`` checks the status and decodes the body."""

    def __init__(self, base: str, connections: int) -> None:
        self.session = aiohttp.ClientSession(
            base_url=base, connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=120), skip_auto_headers=("User-Agent",))

    async def __aenter__(self) -> Http:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.session.close()

    async def call(self, method: str, path: str, status: int = 200, *, files: dict | None = None,
                   **options) -> dict | bytes:  # noqa: ANN003
        """``files`` as httpx takes them (name: (filename, bytes, type)), with ``data``'s fields, go as one
        multipart form; every other option as aiohttp takes it."""
        if files is not None:
            form = aiohttp.FormData()
            for name, value in options.pop("data", {}).items():
                form.add_field(name, value)
            for name, (filename, content, kind) in files.items():
                form.add_field(name, content, filename=filename, content_type=kind)
            options["data"] = form
        async with self.session.request(method, path, **options) as answer:
            body = await answer.read()
            if answer.status != status:
                raise Refused(f"{method} {path}: {answer.status} {body[:300].decode(errors='replace')}")
            return json.loads(body) if answer.content_type == "application/json" else body


async def _code(deployment: Deployment, phone: str, seen: int) -> str:
    """The one-time code the SMS gateway (in this process) carried to ``phone`` after message ``seen``."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        code = deployment.code_now(phone, seen)
        if code is not None:
            return code
        await asyncio.sleep(0.005)
    raise Refused(f"no SMS reached {phone}")


async def flow(http: Http, deployment: Deployment, mfo: dict, admin: dict, steps: dict) -> bytes:
    """One complete MFO flow; returns the signed PDF. ``steps``: seconds per step, appended.

    ``http``: anything with ``Http.call``'s signature (benchmarks/probes/flow_queries.py passes the application
    in-process through httpx); ``deployment``: anything with its ``messages`` and ``assertion``."""
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        steps.setdefault(name, []).append(now - clock)
        clock = now

    iin, phone = f.iin(), "+7701" + f"{int.from_bytes(os.urandom(4), 'big') % 10 ** 7:07d}"
    await http.call("POST", "/certificates", 201, headers=admin, json={
        "profile": "individual-sign", "held": {},
        "subject": {"surname": "Сәрсенбаева", "given_name": "Әйгерім", "iin": iin}})
    step("held key issued")
    seen = len(deployment.messages)
    client = await http.call("POST", "/clients", 201, headers=mfo, json={
        "kind": "individual", "iin": iin, "name": "Сәрсенбаева Әйгерім", "phone": phone})
    (sms,) = client["factors"]
    code = await _code(deployment, phone, seen)
    await http.call("POST", f"/clients/{client['id']}/factors/{sms['id']}/confirm", headers=mfo, json={"code": code})
    await http.call("POST", f"/clients/{client['id']}/factors", 201, headers=mfo,
                    json={"kind": "biometric", "reference": f"tsoid-{os.urandom(4).hex()}"})
    step("client registered")
    document = (await http.call("POST", "/documents", 201, headers=mfo, files={"file": ("c.pdf", PDF, "application/pdf")},
                                data={"metadata": json.dumps(f.loan_metadata(client_id_number=iin, kind="consent"))}))["id"]
    step("upload")
    request = await http.call("POST", "/signing-requests", 201, headers=mfo, json={
        "document": document, "client": client["id"], "level": "B-LT"})
    step("signing request")
    page, token = f"/client/signing-requests/{request['id']}", {"X-Signing-Token": request["token"]}
    seen = len(deployment.messages)
    await http.call("POST", f"{page}/factors/sms/start", headers=token)
    code = await _code(deployment, phone, seen)
    await http.call("POST", f"{page}/codes", headers=token, json={"factor": "sms", "code": code})
    step("sms code")
    challenge = await http.call("POST", f"{page}/factors/biometric/start", headers=token)
    assertion = deployment.assertion(iin=iin, challenge=challenge["challenge"], movements=challenge["movements"],
                                     at=dt.datetime.now(dt.timezone.utc))
    await http.call("POST", f"{page}/assertions", headers=token, json={"assertion": assertion})
    step("biometrics")
    done = await http.call("POST", f"{page}/confirm", headers=token)
    if done.get("status") != "sealed":
        raise Refused(f"confirm: {done}")
    step("confirm (client signature, seal)")
    pdf = await http.call("GET", f"/signing-requests/{request['id']}/signed.pdf", headers=mfo)
    if not pdf.startswith(b"%PDF"):
        raise Refused("download: not a PDF")
    step("download")
    return pdf


async def verify(http: Http, pdf: bytes, index: int) -> None:
    """``POST /verify`` of ``pdf``; one address per task (a process runs one verification per address at once)."""
    report = await http.call("POST", "/verify", files={"file": ("s.pdf", pdf, "application/pdf")},
                             headers={"X-Forwarded-For": f"10.9.{index // 250}.{index % 250 + 1}"})
    if report.get("indication") not in ("TOTAL-PASSED", "INDETERMINATE"):
        raise Refused(f"verification: {report.get('indication')}")

