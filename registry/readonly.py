"""A read-only look at the registry without the ORM or Alembic: what ``qoltanba verify`` reads of a home.

Verifying a document on the command line needs three things of the
registry: the centres (to find our root), whether the service certificates
exist (is the home initialised?) and the imported trust anchors. Building
``Registry`` for that imports SQLAlchemy's ORM, every model and Alembic,
several times what the verification itself costs (start-up, issue 21).

``ReadOnlyRegistry`` answers the same reads, with the same names and order
as the repositories (``tx.centres.all()``, ``tx.certificates.by_holder()``,
``tx.trust_anchors.all()``), so ``ca.hierarchy.Hierarchy`` and
``signing.verification.trust_store.TrustStore`` read through it unchanged.
It never writes: no PRAGMA that changes the file, no BEGIN IMMEDIATE, no
migration. A SQLite file named by a plain ``sqlite:///path`` URL is read
with the standard library's ``sqlite3``; any other URL (PostgreSQL, SQLite
with options) through a SQLAlchemy Core connection, no ORM.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote

# ``CertificateStatus.VALID`` (registry/models/hierarchy.py) without importing the ORM models; a test holds
# the two equal.
VALID = "valid"
_SQLITE_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")
_BUSY_SECONDS = 10.0   # as the registry's own connections wait for a writer (registry/db.py, busy_timeout)


class CentreRead(NamedTuple):
    """The columns of ``centres`` a chain is built from."""

    id: int
    code: str
    parent_id: int | None
    key_handle: str
    certificate_der: bytes


class CertificateRead(NamedTuple):
    id: int
    holder: str
    status: str
    certificate_der: bytes


class TrustAnchorRead(NamedTuple):
    id: int
    sha256: str
    label: str
    der: bytes


def sqlite_path(url: str) -> str | None:
    """The file of a plain ``sqlite:///path`` URL; ``None`` for anything else (options, memory, other dialects)."""
    for prefix in _SQLITE_PREFIXES:
        if url.startswith(prefix):
            path = url[len(prefix):]
            return path if path and "?" not in path and path != ":memory:" else None
    return None


class _Query:
    """Runs a statement with ``:name`` parameters on either connection; rows come back as tuples."""

    def __init__(self, connection: Any, sqlalchemy: bool) -> None:
        self.connection = connection
        self.sqlalchemy = sqlalchemy

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        if self.sqlalchemy:
            from sqlalchemy import text   # only for a URL sqlite3 cannot open

            return [tuple(row) for row in self.connection.execute(text(sql), params)]
        return list(self.connection.execute(sql, params).fetchall())


def _bytes(value: Any) -> bytes:
    return bytes(value) if value is not None else b""


@dataclass(frozen=True)
class _Centres:
    query: _Query

    def all(self) -> list[CentreRead]:
        return [CentreRead(i, code, parent, handle, _bytes(der)) for i, code, parent, handle, der in self.query.rows(
            "SELECT id, code, parent_id, key_handle, certificate_der FROM centres ORDER BY id")]


@dataclass(frozen=True)
class _Certificates:
    query: _Query

    def by_holder(self, holder: str, status: str = VALID) -> list[CertificateRead]:
        return [CertificateRead(i, h, s, _bytes(der)) for i, h, s, der in self.query.rows(
            "SELECT id, holder, status, service_der FROM certificates WHERE holder = :holder AND status = :status "
            "ORDER BY id", holder=holder, status=status)]


@dataclass(frozen=True)
class _TrustAnchors:
    query: _Query

    def all(self) -> list[TrustAnchorRead]:
        return [TrustAnchorRead(i, sha, label, _bytes(der)) for i, sha, label, der in self.query.rows(
            "SELECT id, sha256, label, der FROM trust_anchors ORDER BY id")]


@dataclass(frozen=True)
class ReadOnlyTransaction:
    """The repositories a verification reads, by their names in ``RegistryTransaction``."""

    centres: _Centres
    certificates: _Certificates
    trust_anchors: _TrustAnchors


class ReadOnlyRegistry:
    """One connection to a registry, for reading only; ``close()`` it when done."""

    def __init__(self, url: str) -> None:
        path = sqlite_path(url)
        self._engine = None
        if path is not None:
            # Opened as it is: no mode or journal-mode change. An absent file is an empty registry, and is not
            # created: reading a home never leaves a file behind.
            target = f"file:{quote(path)}?mode=rw" if os.path.exists(path) else "file::memory:"
            self._connection: Any = sqlite3.connect(target, uri=True, timeout=_BUSY_SECONDS, isolation_level=None)
        else:
            from sqlalchemy import create_engine   # Core only: no ORM, no models, no Alembic

            self._engine = create_engine(url, future=True)
            self._connection = self._engine.connect()
        self._query = _Query(self._connection, sqlalchemy=self._engine is not None)

    def table_names(self) -> set[str]:
        if self._engine is None:
            return {name for (name,) in self._query.rows("SELECT name FROM sqlite_master WHERE type = 'table'")}
        from sqlalchemy import inspect

        return set(inspect(self._engine).get_table_names())

    @contextlib.contextmanager
    def transaction(self, *, readonly: bool = True) -> Iterator[ReadOnlyTransaction]:
        """The reads of one unit of work, in one read transaction, rolled back (nothing here writes)."""
        del readonly   # the same signature as ``Registry.transaction``
        if self._engine is None:
            self._connection.execute("BEGIN")   # deferred: a reader takes no write lock
            end = lambda: self._connection.execute("ROLLBACK")  # noqa: E731
        else:
            end = self._connection.begin().rollback
        try:
            yield ReadOnlyTransaction(_Centres(self._query), _Certificates(self._query), _TrustAnchors(self._query))
        finally:
            end()

    def close(self) -> None:
        self._connection.close()
        if self._engine is not None:
            self._engine.dispose()


__all__ = ["VALID", "CentreRead", "CertificateRead", "ReadOnlyRegistry", "ReadOnlyTransaction", "TrustAnchorRead",
           "sqlite_path"]
