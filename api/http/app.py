"""The FastAPI application factory (also an entry point: ``uvicorn api.http.app:create_app --factory``)."""

from __future__ import annotations

from api.quiet import quiet_third_party  # first: before any third-party import (issue 22)

quiet_third_party()

import contextlib  # noqa: E402
import functools  # noqa: E402
import logging  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

from api import start_up  # noqa: E402
from api.http import access_log  # noqa: E402
from api.settings import Settings  # noqa: E402

if TYPE_CHECKING:
    from fastapi import FastAPI

    from api.wiring import Services


def create_app(settings: Settings | None = None, services: "Services | None" = None) -> Any:
    """The application; under ``qoltanba serve`` first the starting app (api/http/starting.py, issue 21).

    FastAPI, the routes and the services are imported here, when the application is built, so that the
    starting app can listen before them.
    """
    preparation = start_up.current()
    if settings is None and services is None and preparation is not None:
        from api.http.starting import StartingApp

        access_log.install()   # the starting app's requests are logged too
        return StartingApp(lambda: create_app(Settings()), preparation)

    from fastapi import Depends, FastAPI

    from api import pages
    from api.http import limits, logs, openapi, operations, problems
    from api.http.deps import single_query_values
    from api.http.rate_limit import TokenBuckets
    from api.http.routes import status
    from api.wiring import Services
    from ca.access import AccessService

    services = services or Services.build(settings or Settings())
    # No personal data from query strings in uvicorn's access log, however the app is served.
    access_log.install()
    # JSON logs with request ids (issue 17), on the handlers uvicorn or its --log-config set up.
    logs.install(services.settings.resolved_log_format)
    # The domain's events counted once their unit of work committed (api/http/operations.py).
    if operations.count_audited not in services.registry.on_commit:
        services.registry.on_commit.append(operations.count_audited)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Each serving process watches for revocations made by the others (its OCSP cache).
        if services.hierarchy.is_initialised():
            # The policy and the settings in force are audited when they changed since the last start.
            services.record_signing_policy()
            services.record_settings()
            # This process's consumer of the shared queues (webhook deliveries, jobs: issue 17, item 2); what
            # is due at start (the CRLs, a checkpoint) is done before it returns.
            services.dispatcher.start()
            services.housekeeper.start()
        try:
            yield
        finally:
            operations.process_ends()
            services.housekeeper.stop()
            if "dispatcher" in services.__dict__:
                services.dispatcher.stop()
            # Rejected credentials counted since the last summary are written before the process goes.
            if "auth_failures" in services.__dict__:
                try:
                    services.auth_failures.flush()
                except Exception:  # noqa: BLE001 - stopping goes on; the log says what was lost
                    logging.getLogger("qoltanba.api").exception("the summary of rejected credentials was not written")

    app = FastAPI(title="Qoltanba", version="0.1.0", lifespan=lifespan,
                  description="Certification centres, registry and electronic signatures for Kazakhstan.",
                  dependencies=[Depends(single_query_values)])
    app.state.services = services
    app.state.access = AccessService(services.registry, services.clock)
    app.state.client_limiter = TokenBuckets(services.settings.client_rate_per_minute,
                                            services.settings.client_rate_burst, shared=services.rate_buckets)
    problems.install(app)
    openapi.install(app)

    @app.get("/health", tags=["service"], summary="Liveness (public)")
    def health() -> dict:
        return {"status": "ok"}

    app.router.routes.extend(route_table())
    app.router.routes.extend(status.ROUTES)
    app.state.ocsp_get_paths = status.GetPaths()
    # Size and time limits for every route; the cached OCSP answers, outermost, go out before either.
    limits.install(app, services.settings)
    # A refusal a browser gets (problem+json, also the limits') is shown as a page in its language.
    app.add_middleware(pages.PageErrors)
    app.add_middleware(status.CachedOCSPMiddleware, services=services, paths=app.state.ocsp_get_paths)
    # Outermost of ours: every request gets its id and is counted, cached OCSP answers too (issue 17).
    app.add_middleware(operations.OperationsMiddleware, app=app)
    return app


@functools.cache
def route_table() -> tuple[Any, ...]:
    """Every page and API route, in matching order, made once per process and shared by its apps.

    The pages first (api/pages/): a browser's GET /verify/{id} and form post to /verify get a page; every
    other request goes on to the API's routes (docs/architecture/api.md, "Pages").

    FastAPI makes an included router's routes ready (each endpoint's dependencies, parameters and response
    model analysed) on its first request, once per app that included it: about 80 ms for these 133 routes,
    paid again by every app a process makes (a test's, a worker's). Included here, into one router of the
    process, they are made ready once and each app takes the same objects. What an app would have added to
    them, its own dependencies, is declared here too (``single_query_values``); an app's
    ``dependency_overrides`` would not reach them, and Qoltanba sets none.
    """
    from fastapi import APIRouter, Depends

    from api import pages
    from api.http import route_index
    from api.http.deps import single_query_values
    from api.http.routes import health as probes
    from api.http.routes import (
        accounts,
        applications,
        approvals,
        certificates,
        client_factors,
        clients,
        console,
        csc,
        documents,
        hierarchy,
        journal,
        mobile_signing,
        revocation,
        signing,
        signing_requests,
        tenants,
        tsa,
        verification,
    )

    table = APIRouter(dependencies=[Depends(single_query_values)])
    table.include_router(pages.router)
    for module in (hierarchy, certificates, applications, journal, revocation, documents, signing, tsa, clients,
                   signing_requests, verification, console, approvals, mobile_signing, tenants, accounts):
        table.include_router(module.router)
    table.include_router(signing_requests.client_router)
    table.include_router(client_factors.router)
    table.include_router(accounts.borrower_router)   # the borrower's own account (issue 16)
    table.include_router(csc.router)   # the Cloud Signature Consortium API (issue 19)
    table.include_router(probes.router)   # /livez, /readyz, /metrics (issue 17)
    route_index.index(table.routes)   # each included router asked only about its own first segments
    return tuple(table.routes)
