"""The production engine: PostgreSQL through psycopg 3 with a connection pool.

Connections are autocommit, so a statement outside ``transaction()`` commits on its own; a
transaction holds one pooled connection for this thread, and a nested one is a savepoint.
Migrations take ``pg_advisory_xact_lock`` so replicas starting together wait for each other.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.db.base import Database, Params
from bot.errors import StoreUnavailable
from bot.observability.tracing import statement_span, transaction_span

MIGRATION_LOCK_KEY = 0x45434D  # "ECM"
_shared: dict[tuple[str, int], PostgresDatabase] = {}
_shared_lock = threading.Lock()


@functools.lru_cache(maxsize=512)
def convert(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def redact(url: str) -> str:
    """The URL without its password: user@host:port/db."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{user}{host}{port}{parts.path or ''}"


class PostgresDatabase(Database):
    """The system of record in PostgreSQL (ECM_DATABASE_URL)."""

    engine = "postgres"
    serial_pk = "BIGSERIAL PRIMARY KEY"

    def __init__(
        self,
        url: str,
        *,
        max_size: int | None = None,
        timeout: float = 5.0,
        migrate: bool = True,
    ):
        self.url = url
        self.where = redact(url)
        size = max_size or int(os.environ.get("ECM_DATABASE_POOL_SIZE", "8"))
        self._local = threading.local()
        options: dict[str, Any] = {
            "autocommit": True,
            "row_factory": dict_row,
            "connect_timeout": 5,
        }
        try:
            # fail fast, with the server's own reason, when it is down; then this connection
            # is the pool's first, not a second one opened beside it
            first = psycopg.Connection.connect(url, **options)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(self.where, _short(exc)) from exc
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=size,
            timeout=timeout,
            open=False,
            check=ConnectionPool.check_connection,
            kwargs=options,
            connection_class=cast(type[psycopg.Connection], _FirstThenNew(first)),
        )
        try:
            self.pool.open(wait=True, timeout=timeout)
        except PoolTimeout as exc:
            self.pool.close()
            first.close()
            raise StoreUnavailable(self.where, _short(exc)) from exc
        if migrate:
            from bot.db.migrations import migrate as run_migrations

            run_migrations(self)

    @classmethod
    def shared(cls, url: str) -> PostgresDatabase:
        """The process-wide pool for ``url`` (migrated once per process)."""
        key = (url, os.getpid())
        with _shared_lock:
            if key not in _shared:
                _shared[key] = cls(url)
            return _shared[key]

    def describe(self) -> str:
        return self.where

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise StoreUnavailable(self.where, _short(exc)) from exc

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection]:
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._errors(), self.pool.connection() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        current = getattr(self._local, "conn", None)
        if current is not None:
            with current.transaction():
                yield
            return
        with transaction_span("postgresql"), self._errors(), self.pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    yield
            finally:
                self._local.conn = None

    def query(self, sql: str, params: Params = ()) -> list[dict]:
        with statement_span("postgresql", sql), self._conn() as conn, self._errors():
            cursor = conn.execute(convert(sql), tuple(params))
            # rows are dicts: the pool's connections use row_factory=dict_row
            return cast(list[dict], cursor.fetchall()) if cursor.description else []

    def execute(self, sql: str, params: Params = ()) -> int:
        with statement_span("postgresql", sql), self._conn() as conn, self._errors():
            return conn.execute(convert(sql), tuple(params)).rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        with (
            self.transaction(),
            statement_span("postgresql", sql),
            self._conn() as conn,
            self._errors(),
            conn.cursor() as cur,
        ):
            cur.executemany(convert(sql), [tuple(r) for r in rows])

    def lock_for_migrations(self) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK_KEY])

    def close(self) -> None:
        self.pool.close()
        with _shared_lock:
            for key, value in list(_shared.items()):
                if value is self:
                    del _shared[key]


class _FirstThenNew:
    """The pool's connection factory (psycopg_pool calls ``connection_class.connect``): the
    connection ``PostgresDatabase`` opened to check the server first, then new ones."""

    def __init__(self, first: psycopg.Connection):
        self._first: psycopg.Connection | None = first
        self._lock = threading.Lock()

    def connect(self, conninfo: str, **kwargs: Any) -> psycopg.Connection:
        with self._lock:
            first, self._first = self._first, None
        if first is not None and not first.closed:
            return first
        return psycopg.Connection.connect(conninfo, **kwargs)


def _short(exc: BaseException) -> str:
    """The first line of a driver error, without any password it may quote."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"password=\S+", "password=***", text)[:200]
