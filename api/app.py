"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from api import problems
from api.access import AccessService
from api.context import Services
from api.routes import applications, certificates, hierarchy, journal
from api.settings import Settings


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    services = services or Services.build(settings or Settings())
    app = FastAPI(title="Qoltanba", version="0.1.0",
                  description="Certification centres, registry and electronic signatures for Kazakhstan.")
    app.state.services = services
    app.state.access = AccessService(services.registry, services.clock)
    problems.install(app)

    @app.get("/health", tags=["service"], summary="Liveness (public)")
    def health() -> dict:
        return {"status": "ok"}

    for module in (hierarchy, certificates, applications, journal):
        app.include_router(module.router)
    return app
