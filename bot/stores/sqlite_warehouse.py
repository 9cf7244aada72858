"""The embedded warehouse: the demo orders in SQLite, opened read-only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.errors import NotConfigured
from bot.observability.tracing import warehouse_span
from bot.stores.warehouse import expand_lists

WAREHOUSE_SCHEMA: dict[str, dict[str, type]] = {
    "orders": {
        "order_id": str,
        "corridor": str,
        "send_amount": float,
        "send_currency": str,
        "receive_amount": float,
        "receive_currency": str,
        "payout_partner": str,
        "payment_method": str,
        "status": str,
        "stuck_reason": str,
        "stuck_since": str,
        "cleared_at": str,
        "created_at": str,
        "customer_ref": str,
    },
    "order_events": {
        "order_id": str,
        "event_at": str,
        "system": str,
        "event_type": str,
        "detail": str,
    },
}


class SqliteWarehouse:
    """Runs named queries on ``warehouse.db`` through a read-only SQLite connection."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.round_trips = 0
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            if not self.path.exists():
                raise NotConfigured(
                    f"No warehouse data at {self.path}. Run `ecm-bot seed-demo` (or `make demo`) "
                    "first, or set REDSHIFT_HOST for the real warehouse."
                )
            self._conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )
        return self._conn

    def run(self, sql: str, params: dict[str, object]) -> list[dict]:
        """Run one statement with bound named parameters; rows as plain dicts (made from the
        tuples, about twice as fast as through ``sqlite3.Row``)."""
        self.round_trips += 1
        with warehouse_span("sqlite", sql) as span:
            cursor = self._connect().execute(*expand_lists(sql, params))
            columns = [d[0] for d in cursor.description or ()]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            span.set_attribute("db.response.returned_rows", len(rows))
        return rows

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
