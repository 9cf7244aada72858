"""Seeding the demo data (``seed_demo``, what ``ecm-bot seed-demo --orders N`` runs): wall
time in-process (perf_counter), a fresh data directory each time; 20,000 stuck orders is the
median of 3 runs (goal < 3 s), 200,000 one run. Each N stuck orders come with 5N cleared
episodes and their events (20,000: 120,000 orders and 700,000 events). Peak memory of the
200,000 seed is measured in a process of its own by ``benchmarks/memory.py``."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.demo.seed import seed_demo  # noqa: E402
from bot.stores.factory import open_stores  # noqa: E402


def seconds(orders: int) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_stores(Path(tmp), env={})
        t0 = time.perf_counter()
        counts = seed_demo(Path(tmp), stores.workbook, orders=orders, seed=7)
        elapsed = time.perf_counter() - t0
        stores.db.close()
    return elapsed, counts


def main() -> None:
    print("Seeding the demo data (in-process wall time)")
    runs = [seconds(20_000) for _ in range(3)]
    median = statistics.median(t for t, _ in runs)
    c = runs[0][1]
    verdict = "ok" if median < 3 else "OVER"
    print(
        f"   20,000 stuck orders: {median:5.2f} s (median of 3; goal < 3 s: {verdict}) — "
        f"{c['stuck_orders'] + c['cleared_orders']:,} orders, {c['events']:,} events"
    )
    elapsed, c = seconds(200_000)
    print(
        f"  200,000 stuck orders: {elapsed:5.1f} s (one run, streamed) — "
        f"{c['stuck_orders'] + c['cleared_orders']:,} orders, {c['events']:,} events"
    )


if __name__ == "__main__":
    main()
