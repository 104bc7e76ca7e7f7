"""The HTTP room: the FastAPI app and everything that speaks HTTP.

``app.py`` (the app factory, also ``uvicorn api.http.app:create_app
--factory``), ``routes/`` (one router per resource: a new route goes into
its resource's module, a new resource is a new module listed in app.py),
``deps.py`` (the services and the authenticated actor), ``problems.py``
(errors as RFC 9457 problem+json, one table), ``rate_limit.py`` (every
bucket a request spends from), ``limits.py`` (request size and time),
``openapi.py`` and ``route_table.py`` (the document), ``schemas.py``
(request bodies), ``access_log.py``. Domain rules live in ca/ and signing/;
the services come from api/wiring/. Nothing here imports the CLI or the
pages (import-linter).
"""
