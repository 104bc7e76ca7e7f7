"""Probes and metrics for the operator (issue 17, item 4): ``/livez``, ``/readyz``, ``/metrics``.

- ``GET /livez``: the process is up and its event loop answers; no I/O.
  An orchestrator restarts the process when it fails.
- ``GET /readyz``: the checks of ca/readiness.py (database, keys, CRLs,
  webhook queue), each named with what it saw: 200 when all pass, 503
  problem+json (``not-ready``) listing every failed check as a problem
  otherwise. A load balancer stops sending requests while it fails. Public
  and not rate-limited, like the liveness probes: its reads are made at most
  once a second per process (the checks' cache), and a bucket an attacker
  drains must not take the service out of rotation.
- ``GET /metrics``: the Prometheus text exposition (api/http/operations.py).
  It needs an API key of the ``monitor`` role (or an administrator's): route
  names, counts and queue depths are the centre's business, and behind a
  reverse proxy every caller comes from the loopback, so an address rule
  would protect nothing. Prometheus sends the key as ``Authorization:
  Bearer`` (docs/DEPLOYMENT.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.http.deps import require, services
from api.http.operations import exposition, observe_readiness
from api.http.problems import problem
from api.wiring import Services
from ca.access import METRICS, Actor

router = APIRouter(tags=["service"])


@router.get("/livez", summary="Liveness: the process answers (public)", include_in_schema=False)
async def livez() -> dict:
    return {"status": "alive"}


@router.get("/readyz", summary="Readiness: database, keys, CRLs, queue (public)", include_in_schema=False)
async def readyz(request: Request, svc: Services = Depends(services)) -> JSONResponse:
    report = await run_in_threadpool(svc.readiness.report)
    body = report.as_json()
    if report.ready:
        return JSONResponse(body)
    failed = [{"field": check.name, "message": check.detail} for check in report.failed]
    return problem(503, "not-ready", "not ready: " + ", ".join(c.name for c in report.failed), request, failed,
                   headers={"Retry-After": "5", "Cache-Control": "no-store"}, extra={"checks": body["checks"]})


@router.get("/metrics", summary="Prometheus metrics (role monitor or administrator)", include_in_schema=False)
async def metrics(_who: Actor = Depends(require(METRICS)), svc: Services = Depends(services)) -> Response:
    # The gauges read at scrape time come from the readiness checks (cached a second).
    observe_readiness(await run_in_threadpool(svc.readiness.report))
    content, media_type = await run_in_threadpool(exposition)
    return Response(content, media_type=media_type, headers={"Cache-Control": "no-store"})
