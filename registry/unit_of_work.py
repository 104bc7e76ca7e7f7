"""What a repository or the audit log needs of the unit of work it writes in.

Declared apart from ``RegistryTransaction`` so the repositories and the
audit log depend on this small interface, not on the transaction that
holds them (no import cycle between them).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection
from sqlalchemy.orm import Session


class UnitOfWork(Protocol):
    """One database connection in a transaction, and the ORM session on it (made when first used)."""

    @property
    def connection(self) -> Connection: ...

    @property
    def session(self) -> Session: ...
