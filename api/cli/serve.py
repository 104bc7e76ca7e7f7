"""``qoltanba init`` and ``qoltanba serve``: make a home's registry and hierarchy, then serve it over HTTP."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from api.cli.common import (DEFAULT_HOME, EXIT_BAD_INPUT, Home, commands, emit, fail, open_services,
                            settings_reason, write)
from ca.errors import QoltanbaError

if TYPE_CHECKING:
    from api.wiring import Services

BOOTSTRAP_ACTOR, BOOTSTRAP_KEY_FILE = "bootstrap-admin", "bootstrap-admin.key"

app = commands()


def initialise(services: "Services") -> tuple[bool, Path | None]:
    """Migrate and initialise; the first time, also write the bootstrap administrator's key."""
    from ca.access import AccessService   # with the services, at run time (start-up, issue 21)

    services.migrate()
    created = services.bootstrap.initialise()
    # The audit and TSA certificates checkpoints must verify under, written outside the registry (issue 18).
    try:
        services.audit_checkpoints.pin_anchor()
    except QoltanbaError as error:   # no checkpoint is signed until it is restored; `audit verify` says so
        typer.echo(f"warning: {error}", err=True)
    services.publisher.reconcile()   # the first CRLs, or those a crash left due
    with services.registry.transaction() as tx:
        if tx.actors.by_name(BOOTSTRAP_ACTOR) is not None:
            return created, None
    path = services.settings.home.resolve() / BOOTSTRAP_KEY_FILE
    new = AccessService(services.registry, services.clock).create_key(BOOTSTRAP_ACTOR, "administrator", by="init")
    write(path, (new.key + "\n").encode(), 0o600)
    return created, path


@app.command()
def init(home: Home = DEFAULT_HOME) -> None:
    """Create the registry and the centre hierarchy (does nothing when they exist)."""
    with open_services(home, migrated=False) as services:
        created, key_file = initialise(services)
        emit({"initialised": created, "home": home.resolve(), "bootstrap_key_file": key_file})


@app.command()
def serve(home: Home = DEFAULT_HOME,
          host: Annotated[Optional[str], typer.Option(help="Default: QOLTANBA_HOST or 127.0.0.1.")] = None,
          port: Annotated[Optional[int], typer.Option(min=1, max=65535, help="Default: QOLTANBA_PORT or 8000.")]
          = None,
          workers: Annotated[Optional[int], typer.Option(min=1, max=64, help="Worker processes (uvicorn's). "
                                                         "Default: QOLTANBA_WORKERS or 1.")] = None) -> None:
    """Run the HTTP service (initialising first if needed)."""
    # The server listens first and answers GET /livez; the home is prepared (migrated, initialised) and the
    # application built beside it, and only then does it answer anything else (api/start_up.py, issue 21).
    from pydantic import ValidationError

    from api import start_up
    from api.settings import Settings

    try:
        settings = Settings(home=home)
    except ValidationError as error:
        fail(EXIT_BAD_INPUT, settings_reason(error))
    host, port, workers = host or settings.host, port or settings.port, workers or settings.workers

    def prepare() -> None:
        with open_services(home, migrated=False) as services:
            created, key_file = initialise(services)
            if created or key_file:
                emit({"initialised": created, "home": home.resolve(), "bootstrap_key_file": key_file})

    os.environ.update(QOLTANBA_HOME=str(home.resolve()), QOLTANBA_HOST=host, QOLTANBA_PORT=str(port))
    if workers > 1:
        _serve_workers(prepare, settings, host, port, workers)
        return
    # A failure while serving stops the server as Ctrl-C would; ``finish`` then raises it (exit code, one line).
    preparation = start_up.begin(prepare, stop_server=lambda: signal.raise_signal(signal.SIGINT))
    try:
        import uvicorn   # only this command serves

        # Idle keep-alive connections are closed after keep_alive_seconds; a request's own time is bounded by
        # the app (api/http/limits.py, request_timeout_seconds).
        uvicorn.run("api.http.workers:served_app", factory=True, host=host, port=port,
                    timeout_keep_alive=settings.keep_alive_seconds)
    except KeyboardInterrupt:
        if not preparation.failed:
            raise
    preparation.finish()   # the home prepared even if the server never started; its failure, if any


def _serve_workers(prepare, settings, host: str, port: int, workers: int) -> None:  # noqa: ANN001
    """Several worker processes (issue 17): uvicorn's supervisor binds the socket, starts ``workers``
    processes that share it, and starts a new one when one dies. The home is prepared once, here, before
    any worker starts; each worker then builds the application at once (no starting app: the supervisor
    hands a worker connections only once its start-up is complete)."""
    import uvicorn

    prepare()
    multiproc = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if multiproc:   # prometheus-client's multi-process mode: the values of earlier runs' processes go
        for stale in Path(multiproc).glob("*.db"):
            stale.unlink(missing_ok=True)
    uvicorn.run("api.http.workers:served_app", factory=True, host=host, port=port, workers=workers,
                timeout_keep_alive=settings.keep_alive_seconds)
