"""What every repository shares: the registry's errors and the flush that turns a conflict into one."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.constraints import constraint_name
from registry.unit_of_work import UnitOfWork


_Statement = TypeVar("_Statement")
_BUILT: dict[tuple, object] = {}   # (the build's code, its shape) → the statement


def built(shape: tuple, build: Callable[[], _Statement]) -> _Statement:
    """The statement ``build`` makes, made once for each ``shape`` and kept for the process's life.

    A hot read names its values as ``bindparam``s and passes them at execution, so one statement serves every
    call of that shape (``shape``: the method and whichever optional filters or lock it uses). Building a SELECT
    with its criteria and cache key anew for each call cost about a third of a small indexed read's CPU on
    PostgreSQL (187 → 124 µs; benchmarks/RESULTS.md, load.py, 2026-12-07 evening). Statements are immutable
    and shared by threads; two threads building the same shape at once both build it, and one is kept. The
    key includes ``build``'s code (its place in the source), so two methods can never share a statement by
    naming their shapes alike.
    """
    key = (build.__code__, shape)
    statement = _BUILT.get(key)
    if statement is None:
        statement = _BUILT[key] = build()
    return statement  # type: ignore[return-value]


class RegistryError(Exception):
    pass


class Conflict(RegistryError):
    """A uniqueness rule of the registry refused the write.

    ``constraint`` is the constraint's declared name (registry/constraints.py),
    the same on SQLite and PostgreSQL.
    """

    def __init__(self, constraint: str) -> None:
        super().__init__(constraint)
        self.constraint = constraint


class _Repository:
    def __init__(self, tx: UnitOfWork) -> None:
        self._tx = tx

    @property
    def _session(self) -> Session:
        return self._tx.session

    def _by_id(self, row_type, ident: int):  # noqa: ANN001, ANN202 - any mapped row with an integer ``id``
        """``Session.get`` for the hot reads: a row this unit of work holds is not read again; otherwise one
        statement built once (``built``), which costs about three quarters of ``Session.get``'s own load."""
        session = self._session
        row = session.identity_map.get(session.identity_key(row_type, ident))
        if row is not None:
            return row
        stmt = built((row_type, "by id"), lambda: select(row_type).where(row_type.id == bindparam("id")))
        return session.execute(stmt, {"id": ident}).scalar_one_or_none()

    def _add(self, row):  # noqa: ANN001, ANN202 - any mapped row
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as error:
            raise Conflict(constraint_name(error)) from error
        return row


class _TenantScoped(_Repository):
    """Rows found by public id within one tenant; another tenant's are not found."""

    row_type: type

    def add(self, row):
        return self._add(row)

    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False):
        row_type = self.row_type

        def build():  # noqa: ANN202
            stmt = select(row_type).where(row_type.tenant == bindparam("tenant"),
                                          row_type.public_id == bindparam("public_id"))
            return stmt.with_for_update() if for_update else stmt

        stmt = built((row_type, "by_public_id", for_update), build)
        return self._session.execute(stmt, {"tenant": tenant, "public_id": public_id}).scalar_one_or_none()
