"""Where a named counter stands now, read in one small statement (issue 22).

The OCSP responder answers from a cache of pre-signed responses. Another
process (a second worker, the CLI, another host) may commit a revocation at
any moment; before the responder serves a cached "good" it asks here whether
the revocation sequence has moved, and if so applies what changed first. So
an answer given after a revocation committed never says "good" for it,
whichever process made it.

The read is one primary-key lookup on a connection kept for this purpose
(detached from the pool, autocommit: no transaction is left open between
reads), guarded by a lock so any thread may call it.
"""

from __future__ import annotations

import threading
from typing import Any

from registry.db import Database

_SQL = {"sqlite": "SELECT value FROM sequences WHERE name = ?",
        "postgresql": "SELECT value FROM sequences WHERE name = %s"}


class SequenceWatermark:
    """``read()``: the counter's committed value (0 before its first use)."""

    def __init__(self, database: Database, name: str) -> None:
        self._database = database
        self._name = name
        self._sql = _SQL[database.dialect]
        self._connection: Any = None
        self._lock = threading.Lock()

    def read(self) -> int:
        with self._lock:
            try:
                return self._read()
            except Exception:
                # A dropped connection (database restart, failover): one fresh try.
                self._discard()
                return self._read()

    def _read(self) -> int:
        if self._connection is None:
            raw = self._database.engine.raw_connection()
            driver = raw.driver_connection
            raw.detach()   # ours alone: never handed back to the pool in autocommit
            if self._database.dialect == "postgresql":
                driver.rollback()
                driver.autocommit = True
            self._connection = driver
        cursor = self._connection.cursor()
        try:
            cursor.execute(self._sql, (self._name,))
            row = cursor.fetchone()
        finally:
            cursor.close()
        return int(row[0]) if row else 0

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - it is being thrown away
                pass

    def close(self) -> None:
        with self._lock:
            self._discard()
