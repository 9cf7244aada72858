"""Requests to the real systems' adapters. Google Sheets: API requests per minute while 100 field
requests a minute hit the bot (my tickets, order details, resolves through
``bot.runtime.dispatch.handle_message``) and the sheet sync (``bot.sync.sheets_sync.SheetSync``
with ``SheetsGrid`` against the fake Sheets v4 server on loopback) runs every 30 s: one
simulated minute is the 100 requests with 2 sync cycles interleaved, counted at the fake.
Target: at most 10 requests a minute, whatever the traffic. Warehouse: round trips per
"my tickets" (target: 1)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_sheets import FakeSheets  # noqa: E402

from bot.demo.seed import seed_demo  # noqa: E402
from bot.runtime.dispatch import handle_message  # noqa: E402
from bot.runtime.executor import execute  # noqa: E402
from bot.runtime.roster import Roster  # noqa: E402
from bot.skills.registry import Registry  # noqa: E402
from bot.stores.factory import Stores, open_stores  # noqa: E402
from bot.stores.sheets_grid import SheetsGrid  # noqa: E402
from bot.stores.workbook import TAB_COLUMNS  # noqa: E402
from bot.sync.sheets_sync import SheetSync  # noqa: E402

REQUESTS_PER_MINUTE = 100
SYNCS_PER_MINUTE = 2  # every 30 s


def field_traffic(stores: Stores, n: int) -> list[tuple[str, str]]:
    """``n`` field requests (who, text): for each agent in turn, my tickets, then the next of
    their tickets opened, then resolved."""
    queues: dict[str, list[str]] = {}
    for row in stores.workbook.read("Assignments"):
        if row["Status"] == "ASSIGNED" and row["Assigned Agent"]:
            queues.setdefault(row["Assigned Agent"], []).append(row["Order ID"])
    agents = sorted(queues)
    out: list[tuple[str, str]] = []
    turn = 0
    while len(out) < n:
        agent = agents[turn % len(agents)]
        step = (turn // len(agents)) % 3
        if step == 0 or not queues[agent]:
            out.append((agent, "my tickets"))
        elif step == 1:
            out.append((agent, f"order {queues[agent][0]}"))
        else:
            out.append((agent, f"resolve {queues[agent].pop(0)} replayed webhook, confirmed"))
        turn += 1
    return out


def sheets_minute(registry: Registry, orders: int) -> dict:
    """Sheets requests in one simulated minute, plus the set-up and first sync's requests."""
    with tempfile.TemporaryDirectory() as tmp, FakeSheets() as fake:
        for tab, columns in TAB_COLUMNS.items():
            fake.add_sheet(tab, [list(columns)])
        stores = open_stores(Path(tmp), env={})
        seed_demo(Path(tmp), stores.workbook, orders=orders, seed=3)
        maya = Roster.load(stores.workbook).resolve("maya.manager@example.com")
        execute(registry, stores, "triage-and-assign", maya, {})
        grid = SheetsGrid.from_env(fake.env(), backoff_factor=0.01)
        assert grid is not None
        sync = SheetSync(stores, grid)
        opened = len(fake.requests)
        first = sync.run_once()
        assert first.skipped is None, first.skipped
        start = len(fake.requests)
        traffic = field_traffic(stores, REQUESTS_PER_MINUTE)
        every = REQUESTS_PER_MINUTE // SYNCS_PER_MINUTE
        pushed = 0
        for i, (who, text) in enumerate(traffic, 1):
            handle_message(registry, stores, who, text)
            if i % every == 0:
                report = sync.run_once()
                assert report.skipped is None, report.skipped
                pushed += report.pushed
        return {
            "minute": len(fake.requests) - start,
            "kinds": fake.kinds(start),
            "open": opened,
            "first": start - opened,
            "pushed": pushed,
            "resolves": sum(1 for _, t in traffic if t.startswith("resolve")),
        }


def warehouse_trips(registry: Registry, orders: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_stores(Path(tmp), env={})
        seed_demo(Path(tmp), stores.workbook, orders=orders, seed=3)
        roster = Roster.load(stores.workbook)
        execute(registry, stores, "triage-and-assign", roster.resolve("maya.manager@example.com"))
        before = stores.warehouse.round_trips
        execute(registry, stores, "my-tickets", roster.resolve("sarah.ops@example.com"), {})
        return stores.warehouse.round_trips - before


def main() -> None:
    registry = Registry.load()
    print(
        f"Google Sheets API requests per minute: {REQUESTS_PER_MINUTE} field requests a minute, "
        f"sheet sync every {60 // SYNCS_PER_MINUTE} s (target: at most 10 a minute)"
    )
    for orders in (200, 2_000):
        got = sheets_minute(registry, orders)
        verdict = "ok" if got["minute"] <= 10 else "OVER"
        kinds = ", ".join(f"{k} x{got['kinds'].count(k)}" for k in dict.fromkeys(got["kinds"]))
        print(
            f"  {orders:>5} orders: {got['minute']} requests in the minute ({verdict}; {kinds}); "
            f"{got['resolves']} resolves, {got['pushed']} rows pushed; "
            f"[opening the sheet {got['open']}, first full sync {got['first']}]"
        )
    print("Warehouse round trips per 'my tickets' (target: 1)")
    for orders in (200, 2_000):
        print(f"  {orders:>5} orders: {warehouse_trips(registry, orders)} round trip(s)")


if __name__ == "__main__":
    main()
