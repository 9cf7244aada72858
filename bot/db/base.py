"""The interface both engines implement: short transactions over portable SQL.

SQL is written once, with ``?`` placeholders; the PostgreSQL engine converts them. Rows come
back as dicts. ``transaction()`` is a write transaction (SQLite ``BEGIN IMMEDIATE``; a pooled
PostgreSQL connection); a nested one is a savepoint, and statements run on the same thread
inside it join it, so a state change and its audit row commit together or not at all.
Outside a transaction every statement commits on its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

Params = Sequence[object]


class Database(ABC):
    """One system-of-record database (SQLite or PostgreSQL)."""

    engine: str = ""
    """"sqlite" or "postgres"."""

    #: the SQL for an auto-numbered primary key column, per engine
    serial_pk: str = ""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction (or a savepoint inside one) on this thread."""

    @abstractmethod
    def query(self, sql: str, params: Params = ()) -> list[dict]:
        """Every row of a statement (SELECT, or a write with RETURNING) as dicts."""

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; the number of rows it changed."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for each parameter row (inside one transaction)."""

    @abstractmethod
    def lock_for_migrations(self) -> None:
        """Inside a transaction: make concurrent migrators wait for this one."""

    @abstractmethod
    def describe(self) -> str:
        """Where the database is, without secrets (for doctor and errors)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections (tests and short-lived commands)."""

    def one(self, sql: str, params: Params = ()) -> dict | None:
        """The first row of a query, or None."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None (a column value, like those of query())."""
        row = self.one(sql, params)
        return next(iter(row.values())) if row else None

    def iterate(self, sql: str, params: Params = ()) -> Iterator[dict]:
        """Rows of a query, one at a time (the default reads them all first)."""
        yield from self.query(sql, params)
