"""The routing fast path (api/http/route_index.py, issue 17 item 3) never changes which route answers.

For every route of the app (each path parameter filled in), and for paths no route has, each top-level
route's answer with the index is the answer FastAPI's own included router gives without it.
"""

from __future__ import annotations

import re

import fastapi.routing
import pytest
from fastapi.routing import APIRoute

from api.http import route_index
from api.http.app import route_table

INCLUDED = getattr(fastapi.routing, "_IncludedRouter", None)
pytestmark = pytest.mark.skipif(INCLUDED is None, reason="this FastAPI keeps no included routers")


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}:]+(:path)?\}", lambda m: "a/b" if m.group(1) else "0123456789abcdef0123456789abcdef",
                  path)


def _paths() -> list[tuple[str, str]]:
    found = []
    for context in fastapi.routing.iter_route_contexts(list(route_table())):
        path = getattr(context, "path", None)
        if not isinstance(path, str):
            continue
        methods = getattr(context.original_route, "methods", None) or {"GET"}
        for method in sorted(methods):
            found += [(method, _concrete(path)), (method, _concrete(path) + "/"), (method, _concrete(path) + "/x")]
    found += [("GET", "/"), ("GET", "/nope"), ("POST", "/nope/x"), ("GET", ""), ("GET", "//double"),
              ("GET", "/static/x.css")]
    return found


def test_every_route_of_the_table_is_indexed_and_matches_as_without_the_index() -> None:
    table = route_table()
    included = [route for route in table if isinstance(route, INCLUDED)]
    assert included and all(isinstance(route, route_index.IndexedIncludedRouter) for route in included)
    assert sum(route._qoltanba_segments is not None for route in included) >= len(included) - 1   # noqa: SLF001
    paths = _paths()
    assert len(paths) > 300
    for method, path in paths:
        for root in ("", "/qoltanba"):
            scope = {"type": "http", "method": method, "path": root + path, "root_path": root, "headers": [],
                     "query_string": b""}
            for route in included:
                fast = route.matches(dict(scope))
                plain = INCLUDED.matches(route, dict(scope))
                assert fast[0] == plain[0], (method, root + path, route._qoltanba_segments)   # noqa: SLF001


def test_a_route_is_found_through_the_index_where_it_was_before() -> None:
    """The API's own routes still answer: a few by name, through the app's router as a request meets it."""
    table = route_table()
    wanted = {("POST", "/client/signing-requests/{request_id}/confirm"), ("POST", "/certificates"),
              ("GET", "/signing-requests/{request_id}/signed.pdf")}
    routes = {(m, c.path) for c in fastapi.routing.iter_route_contexts(list(table))
              if isinstance(c.original_route, APIRoute) for m in c.original_route.methods}
    assert wanted <= routes
    for method, path in wanted:
        scope = {"type": "http", "method": method, "path": _concrete(path), "root_path": "", "headers": [],
                 "query_string": b""}
        answered = [r for r in table if r.matches(dict(scope))[0] == fastapi.routing.Match.FULL]
        assert len(answered) == 1, (method, path)


def test_first_segment() -> None:
    assert route_index.first_segment("/certificates/{serial}") == "certificates"
    assert route_index.first_segment("/") == ""
    assert route_index.first_segment("") is None
