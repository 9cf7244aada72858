"""A resolve end to end: ``bot.runtime.executor.execute("resolve-ticket")`` for field agents on
a triaged demo data set (400 stuck orders, seed 7), 50 resolves round-robin over the agents'
tickets, on SQLite and on PostgreSQL; then 50 more once the database also holds 1,000,000
executions of history (with the report indexes). Median and p95 per resolve."""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

import bulk_executions as bulk  # noqa: E402

from bot.demo.seed import seed_demo  # noqa: E402
from bot.runtime.executor import execute  # noqa: E402
from bot.runtime.roster import Roster  # noqa: E402
from bot.skills.registry import Registry  # noqa: E402
from bot.stores.factory import Stores, open_stores  # noqa: E402

RESOLVES = 50
HISTORY = 1_000_000


def open_tickets(stores: Stores) -> list[tuple[str, str]]:
    """(agent, order id) of every assigned ticket, interleaved across agents."""
    per_agent: dict[str, list[str]] = {}
    for row in stores.workbook.read("Assignments"):
        if row["Status"] == "ASSIGNED" and row["Assigned Agent"]:
            per_agent.setdefault(row["Assigned Agent"], []).append(row["Order ID"])
    queues = list(per_agent.items())
    out = []
    while any(q for _, q in queues):
        out += [(agent, q.pop(0)) for agent, q in queues if q]
    return out


def resolves(registry: Registry, stores: Stores, tickets: list[tuple[str, str]]) -> str:
    roster = Roster.load(stores.workbook)
    times = []
    for agent, oid in tickets:
        member = roster.resolve(agent)
        t0 = time.perf_counter()
        result = execute(
            registry, stores, "resolve-ticket", member, {"order_id": oid, "notes": "bench: done"}
        )
        times.append((time.perf_counter() - t0) * 1000)
        assert result.data["status"] == "RESOLVED"
    times.sort()
    p95 = times[max(0, math.ceil(0.95 * len(times)) - 1)]
    return f"median {statistics.median(times):6.1f} ms · p95 {p95:6.1f} ms ({len(times)} resolves)"


def run(engine: str, registry: Registry, tmp: Path, env: dict) -> None:
    stores = open_stores(tmp, env=env)
    seed_demo(tmp, stores.workbook, orders=400, seed=7)
    maya = Roster.load(stores.workbook).resolve("maya.manager@example.com")
    execute(registry, stores, "triage-and-assign", maya, {})
    tickets = open_tickets(stores)
    print(f"  {engine:<10} triaged demo data:        {resolves(registry, stores, tickets[:50])}")
    if engine == "SQLite":
        bulk.load_sqlite(stores.db.path, HISTORY, seed=3)
    else:
        bulk.load_postgres(stores.db.url, HISTORY, seed=3)
    bulk.analyze(stores.db)
    batch = tickets[RESOLVES : 2 * RESOLVES]
    print(f"  {engine:<10} + {HISTORY:,} executions: {resolves(registry, stores, batch)}")


def main() -> None:
    registry = Registry.load()
    print("Resolve end to end (execute resolve-ticket; no target set)")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", registry, Path(tmp), {})
    from pg_databases import create_database, drop_database

    from bot.db import postgres

    url = create_database()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run("PostgreSQL", registry, Path(tmp), {"ECM_DATABASE_URL": url})
    finally:
        for key, db in list(postgres._shared.items()):
            if key[0] == url:
                db.close()
        drop_database(url)


if __name__ == "__main__":
    main()
