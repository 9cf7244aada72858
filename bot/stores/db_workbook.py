"""The team's tabs (Agents, Assignments, Resolutions, Escalations) as tables in the system of
record. Same contract as every Workbook: values are text (``cell_text``), an empty cell reads
as None, rows keep their insertion order, and an update applies only where the row still holds
the values the caller expected (a conditional UPDATE, so of two racing writers exactly one
wins, on SQLite and PostgreSQL alike). Google Sheets is a view of these tables
(``bot/sync``), never read on a request path."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bot.db.base import Database
from bot.db.migrations import column_name
from bot.stores.workbook import TAB_COLUMNS, TAB_KEYS, AnyOf, RowUpdate, cell_text

TAB_TABLES = {
    "Agents": "agents",
    "Assignments": "assignments",
    "Resolutions": "resolutions",
    "Escalations": "escalations",
}
_COLUMNS = {tab: {h: column_name(h) for h in headers} for tab, headers in TAB_COLUMNS.items()}


_SELECT = {  # each column under its header's name: the driver's rows are the rows returned
    tab: ", ".join(f'"{c}" AS "{h}"' for h, c in columns.items())
    for tab, columns in _COLUMNS.items()
}
_ID = "_ecm_row_id"  # the row id's key while rows are sorted (no header is named so)


def _id(row: dict) -> int:
    return int(row[_ID])


def _q(name: str) -> str:
    return '"' + name + '"'


class DatabaseWorkbook:
    """The tabs, read and written in the system of record."""

    def __init__(self, db: Database):
        self.db = db
        self.requests = 0

    def _check_tab(self, tab: str) -> dict[str, str]:
        if tab not in TAB_TABLES:
            raise KeyError(f"unknown tab {tab!r}")
        return _COLUMNS[tab]

    def _check_columns(self, tab: str, names: set[str]) -> None:
        unknown = names - set(_COLUMNS[tab])
        if unknown:
            raise KeyError(f"unknown columns for {tab}: {sorted(unknown)}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several reads and writes into one transaction of the system of record."""
        with self.db.transaction():
            yield

    def read(self, tab: str, where: dict[str, object] | None = None) -> list[dict]:
        """Rows of ``tab`` in insertion order; ``where`` keeps rows whose columns equal the
        given values (case- and space-insensitively, as the row rules compare owners), or
        one of them when the value is a tuple, list or set. An agent's tickets of some
        statuses come from one index (m014), whatever the number of closed ones."""
        columns = self._check_tab(tab)
        self.requests += 1
        names, table = _SELECT[tab], TAB_TABLES[tab]
        args: list[object] = []
        if where:
            self._check_columns(tab, set(where))
            tests = []
            for h, value in where.items():
                values = sorted(value, key=str) if isinstance(value, AnyOf) else [value]
                if not values:
                    return []
                if h == "Order ID":  # canonical (validated) IDs: the unique index answers
                    column, mark = _q(columns[h]), "?"
                else:
                    column, mark = f"LOWER(TRIM({_q(columns[h])}))", "LOWER(TRIM(?))"
                marks = ", ".join([mark] * len(values))
                tests.append(f"{column} = {mark}" if len(values) == 1 else f"{column} IN ({marks})")
                args += [cell_text(v) or "" for v in values]
            sql = f"SELECT {names}, id AS {_q(_ID)} FROM {table} WHERE " + " AND ".join(tests)
            # in insertion order, sorted here: an ORDER BY id could make the planner walk the
            # whole table in id order rather than sort the index's few rows
            rows = sorted(self.db.query(sql, args), key=_id)
            for row in rows:
                del row[_ID]
            return rows
        return self.db.query(f"SELECT {names} FROM {table} ORDER BY id")

    def read_many(self, tabs: list[str]) -> dict[str, list[dict]]:
        return {tab: self.read(tab) for tab in tabs}

    def find(self, tab: str, key: str) -> dict | None:
        """The row whose key column equals ``key`` (Agents, Assignments), or None."""
        rows = self.read(tab, {TAB_KEYS[tab]: key})
        return rows[0] if rows else None

    def append(self, tab: str, rows: list[dict]) -> None:
        columns = self._check_tab(tab)
        if not rows:
            return
        self._check_columns(tab, {k for r in rows for k in r})
        self.requests += 1
        names = ", ".join(_q(c) for c in columns.values())
        marks = ", ".join("?" * len(columns))
        self.db.executemany(
            f"INSERT INTO {TAB_TABLES[tab]} ({names}) VALUES ({marks})",
            [[cell_text(r.get(h)) for h in columns] for r in rows],
        )

    def update(self, tab: str, updates: list[RowUpdate]) -> list[str]:
        columns = self._check_tab(tab)
        key = columns[TAB_KEYS[tab]]
        conflicts: list[str] = []
        if not updates:
            return conflicts
        self.requests += 1
        with self.db.transaction():
            for up in updates:
                self._check_columns(tab, set(up.changes) | set(up.expect))
                sets = ", ".join(f"{_q(columns[c])} = ?" for c in up.changes)
                where = " AND ".join(
                    [f"{_q(key)} = ?"] + [f"COALESCE({_q(columns[c])}, '') = ?" for c in up.expect]
                )
                values = [cell_text(v) for v in up.changes.values()]
                values += [str(up.key)] + [cell_text(v) or "" for v in up.expect.values()]
                if (
                    self.db.execute(f"UPDATE {TAB_TABLES[tab]} SET {sets} WHERE {where}", values)
                    == 0
                ):
                    conflicts.append(str(up.key))
        return conflicts
