"""Requests per operation against the real systems' adapters: Google Sheets requests per
triage (gspread against the fake Sheets v4 server on loopback) and warehouse round trips per
"my tickets"."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_sheets import FakeSheets  # noqa: E402

from bot.clock import now  # noqa: E402
from bot.demo.seed import generate_orders, write_roster, write_warehouse  # noqa: E402
from bot.runtime.executor import execute  # noqa: E402
from bot.runtime.roster import Roster  # noqa: E402
from bot.skills.registry import Registry  # noqa: E402
from bot.stores.factory import Stores  # noqa: E402
from bot.stores.sheets_workbook import SheetsWorkbook  # noqa: E402
from bot.stores.sqlite_warehouse import SqliteWarehouse  # noqa: E402
from bot.stores.state import StateStore  # noqa: E402
from bot.stores.workbook import TAB_COLUMNS  # noqa: E402


def sheets_requests(registry: Registry, orders: int) -> tuple[int, int, int]:
    """(requests for the first triage, for a re-triage, for my tickets' warehouse trips)."""
    with tempfile.TemporaryDirectory() as tmp, FakeSheets() as fake:
        for tab, columns in TAB_COLUMNS.items():
            fake.add_sheet(tab, [list(columns)])
        workbook = SheetsWorkbook.from_client(fake.client(), fake.spreadsheet_id)
        write_roster(workbook)
        write_warehouse(Path(tmp) / "warehouse.db", *generate_orders(orders, 3, now()))
        warehouse = SqliteWarehouse(Path(tmp) / "warehouse.db")
        stores = Stores(warehouse, workbook, StateStore(Path(tmp) / "state.db"))
        roster = Roster.load(workbook)
        maya = roster.resolve("maya.manager@example.com")
        counts = []
        for _ in range(2):
            before = workbook.requests
            execute(registry, stores, "triage-and-assign", maya, {})
            counts.append(workbook.requests - before)
        before = warehouse.round_trips
        execute(registry, stores, "my-tickets", roster.resolve("sarah.ops@example.com"), {})
        return counts[0], counts[1], warehouse.round_trips - before


def main() -> None:
    registry = Registry.load()
    print(
        "Google Sheets requests per triage (target: constant, at most 6) and warehouse "
        "round trips per 'my tickets' (target: 1)"
    )
    for orders in (200, 2_000):
        first, again, trips = sheets_requests(registry, orders)
        print(
            f"  {orders:>5} orders: first triage {first} requests, re-triage {again}; "
            f"my tickets: {trips} warehouse round trip(s)"
        )


if __name__ == "__main__":
    main()
