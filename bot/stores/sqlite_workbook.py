"""The embedded workbook: the Google Sheets tabs as SQLite tables with the same headers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from bot.stores.workbook import TAB_COLUMNS, TAB_KEYS, RowUpdate, cell_text


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteWorkbook:
    """Tabs in ``workbook.db``; rows keep insertion order like sheet rows do."""

    def __init__(self, db: Database | Path | str):
        self.db = db if isinstance(db, Database) else Database(Path(db))
        self.requests = 0
        for tab, columns in TAB_COLUMNS.items():
            if not self.db[tab].exists():
                self.db[tab].create({c: str for c in columns}, not_null=set())

    def _check_tab(self, tab: str) -> tuple[str, ...]:
        if tab not in TAB_COLUMNS:
            raise KeyError(f"unknown tab {tab!r}")
        return TAB_COLUMNS[tab]

    def read(self, tab: str) -> list[dict]:
        columns = self._check_tab(tab)
        self.requests += 1
        sql = f"SELECT {', '.join(_q(c) for c in columns)} FROM {_q(tab)} ORDER BY rowid"
        cursor = self.db.execute(sql)
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def read_many(self, tabs: list[str]) -> dict[str, list[dict]]:
        return {tab: self.read(tab) for tab in tabs}

    def append(self, tab: str, rows: list[dict]) -> None:
        columns = self._check_tab(tab)
        if not rows:
            return
        unknown = {k for r in rows for k in r} - set(columns)
        if unknown:
            raise KeyError(f"unknown columns for {tab}: {sorted(unknown)}")
        self.requests += 1
        with self.db.conn:
            self.db[tab].insert_all(
                [{c: cell_text(r.get(c)) for c in columns} for r in rows], alter=False
            )

    def update(self, tab: str, updates: list[RowUpdate]) -> list[str]:
        columns = self._check_tab(tab)
        key = TAB_KEYS[tab]
        conflicts: list[str] = []
        if not updates:
            return conflicts
        self.requests += 1
        conn: sqlite3.Connection = self.db.conn
        with conn:
            for up in updates:
                unknown = (set(up.changes) | set(up.expect)) - set(columns)
                if unknown:
                    raise KeyError(f"unknown columns for {tab}: {sorted(unknown)}")
                sets = ", ".join(f"{_q(c)} = ?" for c in up.changes)
                where = " AND ".join(
                    [f"{_q(key)} = ?"] + [f"COALESCE({_q(c)}, '') = ?" for c in up.expect]
                )
                values = [cell_text(v) for v in up.changes.values()]
                values += [str(up.key)] + [cell_text(v) or "" for v in up.expect.values()]
                cursor = conn.execute(f"UPDATE {_q(tab)} SET {sets} WHERE {where}", values)
                if cursor.rowcount == 0:
                    conflicts.append(str(up.key))
        return conflicts
