"""Which constraint refused a write, by its declared name, on SQLite and PostgreSQL alike.

The two drivers report a uniqueness conflict differently:

- PostgreSQL (psycopg) names the constraint in the error's diagnostics,
  ``error.orig.diag.constraint_name``: the name the database holds, which
  is the model's declared name (``uq_...``, or ``<table>_<columns>_key`` for
  ``unique=True`` columns, registry/models/base.py's naming convention).
- SQLite names only the columns: ``UNIQUE constraint failed: crls.centre_id,
  crls.number`` (or ``index 'name'`` for a unique index on expressions). The
  table and columns are looked up in the models' metadata, among its unique
  constraints, unique indexes and primary keys, to find the declared name.

Callers compare ``Conflict.constraint`` with the declared name and never
read the driver's text.
"""

from __future__ import annotations

import re

from sqlalchemy import MetaData, Table, UniqueConstraint

from registry.models import Base

UNKNOWN = "unique"
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<what>.+)$")
_SQLITE_INDEX = re.compile(r"index '(?P<name>[^']+)'")


def constraint_name(error: BaseException, metadata: MetaData | None = None) -> str:
    """The declared name of the constraint an IntegrityError (SQLAlchemy's or the driver's) reports.

    ``"unique"`` when the error names none the metadata knows.
    """
    orig = getattr(error, "orig", None) or error
    diag = getattr(orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return name
    match = _SQLITE_UNIQUE.search(str(orig).strip())
    if match is None:
        return UNKNOWN
    what = match.group("what").strip()
    index = _SQLITE_INDEX.fullmatch(what)
    if index is not None:
        return index.group("name")
    return _declared(metadata if metadata is not None else Base.metadata, what) or UNKNOWN


def _declared(metadata: MetaData, what: str) -> str | None:
    """The name of the unique constraint, unique index or primary key over SQLite's ``table.col, ...``."""
    qualified = [part.strip().split(".", 1) for part in what.split(",")]
    if any(len(part) != 2 for part in qualified) or len({table for table, _ in qualified}) != 1:
        return None
    table = metadata.tables.get(qualified[0][0])
    if table is None:
        return None
    columns = tuple(column for _, column in qualified)
    return _by_columns(table, columns)


def _by_columns(table: Table, columns: tuple[str, ...]) -> str | None:
    wanted = set(columns)
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and {c.name for c in constraint.columns} == wanted:
            return str(constraint.name) if constraint.name else None
    for index in table.indexes:
        if index.unique and {c.name for c in index.columns} == wanted:
            return str(index.name) if index.name else None
    if {c.name for c in table.primary_key.columns} == wanted:
        # PostgreSQL's name for a primary key nobody named.
        return str(table.primary_key.name) if table.primary_key.name else f"{table.name}_pkey"
    return None
