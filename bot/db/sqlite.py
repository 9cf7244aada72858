"""The embedded engine: one SQLite file (``state.db`` in the data directory) in WAL mode with
a busy timeout, a connection per thread, and ``BEGIN IMMEDIATE`` write transactions so a
read-then-write never deadlocks and rival writers wait their turn."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random_exponential

from bot.db.base import Database, Params
from bot.errors import StoreUnavailable
from bot.observability.tracing import statement_span, transaction_span

BUSY_TIMEOUT_S = 30.0
FILE_NAME = "state.db"
_shared: dict[Path, SqliteDatabase] = {}
_shared_lock = threading.Lock()
_savepoints = itertools.count(1)


_names: tuple[object, tuple[str, ...]] = (None, ())


def _dict_row(cursor: sqlite3.Cursor, row: tuple) -> dict:
    """A row as a dict. The column names are taken from the cursor's description once per
    result, not once per row (the description is one tuple for all of a query's rows), which
    makes reading a large table about a quarter faster."""
    global _names
    last, description = _names, cursor.description
    if description is not last[0]:  # read once: another thread may replace it meanwhile
        last = _names = (description, tuple(d[0] for d in description))
    return dict(zip(last[1], row, strict=True))


class SqliteDatabase(Database):
    """The system of record in one SQLite file."""

    engine = "sqlite"
    serial_pk = "INTEGER PRIMARY KEY"

    def __init__(self, path: Path, *, timeout: float = BUSY_TIMEOUT_S, migrate: bool = True):
        self.path = Path(path)
        self.timeout = timeout
        self._local = threading.local()
        if migrate:
            from bot.db.migrations import migrate as run_migrations

            run_migrations(self)

    @classmethod
    def shared(cls, directory: Path) -> SqliteDatabase:
        """The process-wide database for a data directory (migrated once)."""
        path = (Path(directory) / FILE_NAME).resolve()
        with _shared_lock:
            if path not in _shared:
                path.parent.mkdir(parents=True, exist_ok=True)
                _shared[path] = cls(path)
            return _shared[path]

    def describe(self) -> str:
        return str(self.path)

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
                conn.row_factory = _dict_row
                conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
                self._wal(conn)
                conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(str(self.path), str(exc)) from exc
            self._local.conn = conn
        return conn

    def _wal(self, conn: sqlite3.Connection) -> None:
        """Switch to WAL. Switching skips the busy handler: when processes open a new file at
        once it can say "locked" straight away, so it is retried for up to ``timeout``."""
        for attempt in Retrying(
            retry=retry_if_exception(lambda e: "locked" in str(e) or "busy" in str(e)),
            wait=wait_random_exponential(multiplier=0.01, max=0.5),
            stop=stop_after_delay(self.timeout),
            reraise=True,
        ):
            with attempt:
                mode = conn.execute("PRAGMA journal_mode").fetchone()["journal_mode"]
                if mode != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if any(w in text for w in ("locked", "busy", "unable to open", "disk I/O")):
                raise StoreUnavailable(str(self.path), text) from exc
            raise

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self._connect()
        if conn.in_transaction:
            name = f"sp{next(_savepoints)}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            conn.execute(f"RELEASE {name}")
            return
        with transaction_span("sqlite"):
            with self._errors():
                conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.rollback()
                raise
            with self._errors():
                conn.commit()

    def query(self, sql: str, params: Params = ()) -> list[dict]:
        with statement_span("sqlite", sql), self._errors():
            return self._connect().execute(sql, tuple(params)).fetchall()

    def iterate(self, sql: str, params: Params = ()) -> Iterator[dict]:
        with self._errors():
            yield from self._connect().execute(sql, tuple(params))

    def execute(self, sql: str, params: Params = ()) -> int:
        with statement_span("sqlite", sql), self._errors():
            return self._connect().execute(sql, tuple(params)).rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        with self.transaction(), statement_span("sqlite", sql), self._errors():
            self._connect().executemany(sql, [tuple(r) for r in rows])

    def lock_for_migrations(self) -> None:
        """BEGIN IMMEDIATE already holds the write lock: one migrator at a time."""

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
