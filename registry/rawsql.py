"""A thin path to the DB-API cursor for the registry's hottest writes.

Issuance writes a certificate, a journal row and an audit entry per
request; through SQLAlchemy's execution machinery each statement costs
several times what the database itself spends. These helpers render each
statement once per dialect and bind values with the columns' own type
processors, so what they store is exactly what SQLAlchemy would store and
reads through the ORM see no difference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, exc

_Processor = Callable[[Any], Any] | None
_CACHE: dict[tuple, tuple[str, tuple[_Processor, ...]]] = {}


def _placeholder(connection: Connection) -> str:
    style = connection.dialect.paramstyle
    return "?" if style == "qmark" else "%s"


def _processors(connection: Connection, table: Table, columns: Sequence[str]) -> tuple[_Processor, ...]:
    dialect = connection.dialect
    return tuple(table.c[name].type._cached_bind_processor(dialect) for name in columns)  # noqa: SLF001


def _prepared(key: tuple, connection: Connection, table: Table, columns: Sequence[str],
              render: Callable[[str], str]) -> tuple[str, tuple[_Processor, ...]]:
    cached = _CACHE.get(key)
    if cached is None:
        cached = _CACHE[key] = (render(_placeholder(connection)), _processors(connection, table, columns))
    return cached


# The last timestamps bound, per type processor: a certificate's row, journal
# row and audit entry carry the same two instants (issued, valid to) seven
# times, and formatting one costs more than looking it up. Equal aware
# datetimes are the same instant, so they bind to the same stored value.
_TIMES: dict[tuple[_Processor, dt.datetime], Any] = {}


def _bind(processors: tuple[_Processor, ...], values: Sequence[Any]) -> list[Any]:
    bound = list(values)
    for i, process in enumerate(processors):
        value = bound[i]
        if process is None or value is None:
            continue
        if type(value) is dt.datetime:
            key = (process, value)
            done = _TIMES.get(key)
            if done is None:
                if len(_TIMES) > 64:
                    _TIMES.clear()
                done = _TIMES[key] = process(value)
            bound[i] = done
        else:
            bound[i] = process(value)
    return bound


def insert(connection: Connection, table: Table, values: dict[str, Any], returning: str | None = None) -> Any:
    """INSERT one row; returns the ``returning`` column's value when asked."""
    return _insert(connection, table, [values], returning)


def insert_many(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT rows with the same columns, in one ``executemany`` (psycopg sends them in one round trip)."""
    _insert(connection, table, rows, None)


def _insert(connection: Connection, table: Table, rows: Sequence[dict[str, Any]], returning: str | None) -> Any:
    columns = tuple(rows[0])
    key = ("insert", connection.dialect.name, table.name, columns, returning)

    def render(ph: str) -> str:
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([ph] * len(columns))})"
        return sql + (f" RETURNING {returning}" if returning else "")

    sql, processors = _prepared(key, connection, table, columns, render)
    cursor = connection.connection.cursor()
    try:
        if len(rows) == 1:
            cursor.execute(sql, _bind(processors, [rows[0][c] for c in columns]))
            return cursor.fetchone()[0] if returning else None
        cursor.executemany(sql, [_bind(processors, [row[c] for c in columns]) for row in rows])
        return None
    except connection.dialect.loaded_dbapi.IntegrityError as error:
        # Wrapped as SQLAlchemy would, so callers handle one exception type.
        raise exc.IntegrityError(sql, None, error) from error
    finally:
        cursor.close()


def execute(connection: Connection, name: str, table: Table, columns: Sequence[str],
            sql_for: Callable[[str, str], str], values: Sequence[Any]) -> list[tuple]:
    """Run a hand-written statement; ``sql_for(placeholder, dialect)`` renders it once."""
    key = ("sql", connection.dialect.name, name)
    sql, processors = _prepared(key, connection, table, columns,
                                lambda ph: sql_for(ph, connection.dialect.name))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, _bind(processors, values))
        return list(cursor.fetchall()) if cursor.description else []
    finally:
        cursor.close()
