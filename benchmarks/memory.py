"""Peak memory, each figure in a process of its own (never beside a time: tracing memory
slows Python several times over):

- seeding 200,000 stuck orders (1.2 M orders, 7 M events): the process's peak resident set
  (``ru_maxrss``), goal < 500 MB — the rows stream into SQLite;
- triage of those 200,000 orders: peak resident set, and in another process the Python
  heap's peak as ``tracemalloc`` counts it (the result lists the top 50 unassigned)."""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ORDERS = 200_000


def child(kind: str, path: Path) -> None:
    """Run one measured step in this process and print its figure."""
    from bot.stores.factory import open_stores

    stores = open_stores(path, env={})
    if kind == "seed":
        from bot.demo.seed import seed_demo

        seed_demo(path, stores.workbook, orders=ORDERS, seed=7)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return
    from bot.runtime.executor import execute
    from bot.runtime.roster import Roster
    from bot.skills.registry import Registry

    registry = Registry.load()
    maya = Roster.load(stores.workbook).resolve("maya.manager@example.com")
    if kind == "triage-heap":
        import tracemalloc

        tracemalloc.start()
        execute(registry, stores, "triage-and-assign", maya, {"dry_run": True})
        print(tracemalloc.get_traced_memory()[1] / 2**20)
        return
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    execute(registry, stores, "triage-and-assign", maya, {"dry_run": True})
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, before)


def measure(kind: str, path: Path) -> list[float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=1800,
    ).stdout.split()
    return [float(x) for x in out]


def main() -> None:
    print(f"Peak memory ({ORDERS:,} stuck orders; one process per figure)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        (rss,) = measure("seed", path)
        verdict = "ok" if rss < 500 else "OVER"
        print(
            f"  seed-demo --orders {ORDERS:,}: peak RSS {rss:6.0f} MiB (goal < 500 MiB: {verdict})"
        )
        peak, before = measure("triage", path)
        print(
            f"  triage (dry run):            peak RSS {peak:6.0f} MiB "
            f"({before:.0f} MiB before the run: interpreter, modules, registry)"
        )
        (heap,) = measure("triage-heap", path)
        print(f"  triage (dry run):            Python heap peak {heap:6.0f} MiB (tracemalloc)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
