"""The app's route table, included routers flattened: read by the OpenAPI document and the 405 answers.

Its own module so api/http/openapi.py and api/http/problems.py both read
it without importing each other (issue 21: no import cycles).
"""

from __future__ import annotations

import fastapi.routing
from fastapi import FastAPI
from fastapi.routing import APIRoute


def routes(app: FastAPI) -> list[tuple[str, set[str], APIRoute]]:
    """(path, methods, route) of every FastAPI route, included routers flattened."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:  # FastAPI before included routers were kept as a tree
        return [(r.path, r.methods, r) for r in app.routes if isinstance(r, APIRoute)]
    return [(c.path, c.methods, c.original_route) for c in contexts(app.routes)
            if isinstance(c.original_route, APIRoute)]


__all__ = ["routes"]
