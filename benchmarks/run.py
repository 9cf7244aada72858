"""``make bench``: context sizes per role vs the monolith, and triage's wall time on 200 and
20,000 demo orders (perf_counter, no tracing: memory is measured in runs of its own by
``benchmarks/memory.py``; triage against its floor up to 200,000 orders is
``benchmarks/triage_scale.py``). Prints figures with their goals; asserts nothing."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.access.guard import Guard
from bot.briefing.builder import build_context, monolith_parts
from bot.demo.seed import seed_demo
from bot.runtime.executor import execute
from bot.runtime.roster import Roster
from bot.skills.registry import Registry
from bot.stores.factory import open_stores


def context_figures(registry: Registry) -> None:
    mono = sum(p.tokens for p in monolith_parts(registry))

    def total(skill: str, reason: str | None = None) -> int:
        s = registry.get(skill)
        return sum(p.tokens for p in build_context(registry, skill, Guard(s), reason=reason))

    manager = total("triage-and-assign")
    field = total("order-details", "LULU_NOT_CONFIRMED")
    print("Context per request (estimated tokens, 4 chars/token)")
    print(
        f"  manager (triage-and-assign)          {manager:>7}  {100 * manager / mono:5.1f}% "
        "of monolith (target ≤ 25%)"
    )
    print(
        f"  field (order-details, one runbook)   {field:>7}  {100 * field / mono:5.1f}% "
        "of monolith (target ≤ 10%)"
    )
    print(f"  monolith (all skills and resources)  {mono:>7}")
    worst = max(total(s.name, "SANCTIONS_SCREENING_HIT") for s in registry.for_role("field"))
    print(f"  largest field request (any skill)    {worst:>7}  {100 * worst / mono:5.1f}%")


def triage_figures(registry: Registry, orders: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_stores(Path(tmp))
        seed_demo(Path(tmp), stores.workbook, orders=orders, seed=7)
        caller = Roster.load(stores.workbook).resolve("maya.manager@example.com")
        t0 = time.perf_counter()
        result = execute(registry, stores, "triage-and-assign", caller, {})
        wall = time.perf_counter() - t0
        t0 = time.perf_counter()
        execute(registry, stores, "triage-and-assign", caller, {})
        again = time.perf_counter() - t0
        c = result.data["counts"]
        print(
            f"  {orders:>6} orders: triage {wall:6.3f} s, re-triage {again:6.3f} s; "
            f"assigned {c['assigned']}, unassigned {c['unassigned']}"
        )


def main() -> None:
    registry = Registry.load()
    context_figures(registry)
    print("\nTriage (embedded SQLite, wall time; goals: 200 well under 1 s, 20,000 under 10 s)")
    for n in (200, 20_000):
        triage_figures(registry, n)


if __name__ == "__main__":
    main()
