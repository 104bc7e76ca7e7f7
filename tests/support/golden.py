"""Initialised homes made once per test process and copied for each test (issue 21: set-up cost).

Migrating the registry and initialising the hierarchy (three CA keys, one
of them GOST-512, six service certificates) took most of a test's time. A
test process now does it once per kind of home — the database (SQLite or
PostgreSQL) and how the clock stands (the system clock, or frozen at an
offset from the real time) — and each test gets its own copy: the home
directory (the encrypted key files) copied, the SQLite file copied, or a
PostgreSQL database created from a template database (``CREATE DATABASE …
TEMPLATE``). What a test sees is what ``migrate()`` and ``initialise()``
would have made for it, a few seconds or minutes earlier; its own Services
(and its own clock) take it from there.
"""

from __future__ import annotations

import atexit
import datetime as dt
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

MASTER_KEY = "11" * 32
_BASE: Path | None = None
_IMAGES: dict[tuple[str, dt.timedelta | None], "_Image"] = {}


@dataclass(frozen=True)
class _Image:
    home: Path
    sqlite_file: Path | None       # SQLite: the registry file to copy
    template: str | None           # PostgreSQL: the template database's name
    made_at: dt.datetime


def _base() -> Path:
    global _BASE
    if _BASE is None:
        _BASE = Path(tempfile.mkdtemp(prefix="qoltanba-golden-"))
        atexit.register(shutil.rmtree, _BASE, True)
    return _BASE


def _clock(offset: dt.timedelta | None, at: dt.datetime):  # noqa: ANN202
    from ca.clock import FrozenClock, SystemClock

    return SystemClock() if offset is None else FrozenClock(at + offset)


def _make(kind: str, offset: dt.timedelta | None, postgres_server) -> _Image:  # noqa: ANN001
    from api.wiring import Services
    from api.settings import Settings

    index = len(_IMAGES)
    directory = _base() / f"{kind}-{index}"
    directory.mkdir()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    template = sqlite_file = None
    if kind == "sqlite":
        sqlite_file = directory / "registry.db"
        url = f"sqlite:///{sqlite_file}"
    else:
        template = f"golden_{index}"
        url = postgres_server.create_database(template)
    svc = Services.build(Settings(home=directory / "home", database_url=url, master_key=MASTER_KEY),
                         _clock(offset, now))
    try:
        svc.migrate()
        svc.bootstrap.initialise()
    finally:
        svc.close()
    if sqlite_file is not None:
        with sqlite3.connect(sqlite_file) as connection:   # everything into the main file: one file to copy
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return _Image(directory / "home", sqlite_file, template, now)


def prepare(tmp_path: Path, database_url: str, *, clock_offset: dt.timedelta | None = None,
            postgres_server=None) -> Path:  # noqa: ANN001
    """Put an initialised registry at ``database_url`` and its keys in ``tmp_path/home``; returns the home.

    ``database_url`` is the test's own (``database_url`` fixture): a SQLite file
    that does not exist yet, or an empty PostgreSQL database, which is replaced
    by a copy of the template.
    """
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    key = (kind, clock_offset)
    image = _IMAGES.get(key)
    if image is None:
        image = _IMAGES[key] = _make(kind, clock_offset, postgres_server)
    home = tmp_path / "home"
    shutil.copytree(image.home, home)
    home.chmod(0o700)
    if image.sqlite_file is not None:
        target = Path(database_url.removeprefix("sqlite:///"))
        shutil.copyfile(image.sqlite_file, target)
    else:
        name = database_url.rsplit("/", 1)[1]
        postgres_server.drop_database(name)
        postgres_server.create_database_from(name, image.template)
    return home
