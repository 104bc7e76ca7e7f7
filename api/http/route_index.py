"""A routing fast path (issue 17, item 3): an included router is asked only about paths it could match.

FastAPI (0.165) tries the app's top-level routes in order for each request.
Each included router (the pages, and one per group of API routes: 16 of the
31) answers by trying every route it holds, a regular expression each, and
the router that matches tries them again to pick the one to run. Before the
API's routes come the pages', so the top-level matching of ``POST
/client/signing-requests/{id}/confirm`` cost about 280 µs, ``GET
/signing-requests/{id}/signed.pdf`` 150 µs and ``POST /certificates`` 95 µs;
indexed, 23, 15 and 7 µs (the app's route table, 2 000 matches each, this
2-core machine; benchmarks/RESULTS.md, "load.py", 2026-12-07 17:40-19:00).

Every route path of an included router starts with a literal first segment
(``/certificates``, ``/client``, ``/verify`` ...) or, rarely, a parameter.
``index`` notes each included router's first segments once, when the route
table is made, and the router then answers "no match" at once to a path whose
first segment is not among them; a router with a route whose first segment
is a parameter (or none) is asked as before. Which route handles a request
does not change: a router skipped could not have matched
(tests/unit/test_route_index.py walks every route of the table both ways).

The router keeps its class's behaviour (it is an ``_IncludedRouter``
subclass, so FastAPI's own checks and the OpenAPI document see it as ever);
FastAPI is pinned in requirements.lock, and the test fails on an upgrade
that changes what this relies on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import fastapi.routing
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

_INCLUDED = getattr(fastapi.routing, "_IncludedRouter", None)


def first_segment(path: str) -> str | None:
    """``/certificates/{serial}`` → ``certificates``; ``/`` → ``""``; None for a path that is not absolute."""
    return path.split("/", 2)[1] if path.startswith("/") else None


def _route_path(scope: Scope) -> str:
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def _segments_of(route: BaseRoute) -> frozenset[str] | None:
    """The first segments the included router's routes can match, or None if one could match any."""
    found: set[str] = set()
    for context in fastapi.routing.iter_route_contexts([route]):
        path = getattr(context, "path", None)
        segment = first_segment(path) if isinstance(path, str) else None
        if segment is None or "{" in segment:
            return None
        found.add(segment)
    return frozenset(found)


if _INCLUDED is not None:
    class IndexedIncludedRouter(_INCLUDED):  # type: ignore[misc, valid-type]
        """An included router that declines, without trying its routes, a path outside its first segments."""

        _qoltanba_segments: frozenset[str] | None = None

        def matches(self, scope: Scope) -> tuple[Match, Scope]:
            segments = self._qoltanba_segments
            if segments is not None and scope.get("type") in ("http", "websocket") \
                    and first_segment(_route_path(scope)) not in segments:
                return Match.NONE, {}
            return super().matches(scope)


def index(routes: Iterable[Any]) -> None:
    """Give each included router among ``routes`` its first segments."""
    if _INCLUDED is None:   # a FastAPI that keeps no included routers: nothing to index
        return
    for route in routes:
        if type(route) is _INCLUDED:
            segments = _segments_of(route)
            route.__class__ = IndexedIncludedRouter
            route._qoltanba_segments = segments


__all__ = ["first_segment", "index"]
