"""The declarative base every registry table shares, and the timestamp type they use."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Unique constraints declared without a name (``unique=True``, or the
# migrations' unnamed ``UniqueConstraint``) get the name PostgreSQL gives
# them, ``<table>_<columns>_key``, so the model's metadata names every
# constraint exactly as the database does (registry/constraints.py maps a
# conflict to it on both databases). Indexes keep SQLAlchemy's default.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
}


class UTCDateTime(TypeDecorator):
    """Timestamps stored as UTC and always returned timezone-aware.

    SQLite drops the zone; normalising at the boundary keeps comparisons in
    the domain code correct on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the registry")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
