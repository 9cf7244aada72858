"""Triage at 200 / 2,000 / 20,000 / 200,000 demo orders against its own floor, measured in the
same run: wall time (perf_counter, no tracing), medians of 3 interleaved rounds.

- floor: read the pending list (the named query, on the embedded warehouse) plus score and
  sort it, with triage's own scoring pass (``bot.triage.pending.score_pending``), the
  collector paused as triage pauses it;
- triage: ``execute("triage-and-assign")`` on a freshly seeded state (nothing assigned yet);
- re-triage: the same again right after, with the steps and rows it reports (``work``);
- CLI output: the bytes ``ecm-bot triage`` prints (the text) and ``--json`` prints.

Goal: triage within 2× its floor at 200,000 orders. Peak memory is measured in a separate run
(``benchmarks/memory.py``), never beside a time."""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.bulk import collector_paused  # noqa: E402
from bot.clock import now  # noqa: E402
from bot.demo.seed import seed_demo  # noqa: E402
from bot.paths import CONFIG_DIR, QUERIES_DIR  # noqa: E402
from bot.present import result_text  # noqa: E402
from bot.resources.files import load_yaml  # noqa: E402
from bot.runtime.executor import execute  # noqa: E402
from bot.runtime.roster import Roster  # noqa: E402
from bot.skills.registry import Registry  # noqa: E402
from bot.stores.factory import open_stores  # noqa: E402
from bot.triage.pending import score_pending  # noqa: E402
from bot.triage.scoring import Scorer  # noqa: E402

SIZES = tuple(int(a) for a in sys.argv[1:]) or (200, 2_000, 20_000, 200_000)
ROUNDS = 3


def floor(stores) -> float:
    """Seconds to read the pending list, then score and sort it."""
    sql = (QUERIES_DIR / "ecm-pending-list.sql").read_text()
    reasons = load_yaml(CONFIG_DIR / "stuck-reasons.yaml")["reasons"]
    scoring = load_yaml(CONFIG_DIR / "scoring.yaml")
    with collector_paused():
        t0 = time.perf_counter()
        pending = stores.warehouse.run(sql, {})
        scored = score_pending(pending, reasons, Scorer(scoring), now())
        scored.sort(key=lambda s: (s.priority, -s.score, s.order_id))
        return time.perf_counter() - t0


def fresh(path: Path) -> None:
    """Back to the seeded, never triaged state."""
    for suffix in ("-wal", "-shm"):
        (path / f"state.db{suffix}").unlink(missing_ok=True)
    shutil.copyfile(path / "state.seeded", path / "state.db")


def size(registry: Registry, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        stores = open_stores(path, env={})
        seed_demo(path, stores.workbook, orders=n, seed=7)
        stores.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        stores.db.close()
        shutil.copyfile(path / "state.db", path / "state.seeded")
        floors, firsts, agains, last = [], [], [], {}
        for _ in range(ROUNDS):
            stores.db.close()  # the next statement connects to the fresh copy
            fresh(path)
            maya = Roster.load(stores.workbook).resolve("maya.manager@example.com")
            floors.append(floor(stores))
            t0 = time.perf_counter()
            first = execute(registry, stores, "triage-and-assign", maya, {})
            firsts.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            again = execute(registry, stores, "triage-and-assign", maya, {})
            agains.append(time.perf_counter() - t0)
            last = {"first": first, "again": again}
        full = execute(registry, stores, "triage-and-assign", maya, {"full_lists": True})
        text = len(result_text(last["first"]).encode())
        as_json = len(json.dumps(full.data, indent=2, default=str, ensure_ascii=False).encode())
    f, t, r = (statistics.median(x) for x in (floors, firsts, agains))
    work = last["again"].data["work"]
    c = last["first"].data["counts"]
    steps = ", ".join(f"{k} {v:.2f}" for k, v in work["steps"].items() if v >= 0.005)
    goal = "  (goal ≤ 2×)" if n == SIZES[-1] else ""
    print(
        f"  {n:>7,} orders: floor {f:6.3f} s · triage {t:6.3f} s = {t / f:4.2f}× floor{goal}"
        f" · re-triage {r:6.3f} s"
    )
    print(
        f"           re-triage reports {work['seconds']:.3f} s ({steps or 'all steps < 5 ms'}),"
        f" {work['rows_written']:,} rows written; first run wrote "
        f"{last['first'].data['work']['rows_written']:,} ({c['assigned']} assigned, "
        f"{c['unassigned']:,} unassigned, {c['escalated']:,} escalated)"
    )
    print(
        f"           CLI output: text {text / 1024:7.1f} KiB (bounded: top 50 + counts) · "
        f"--json {as_json / 2**20:7.2f} MiB (every order)"
    )


def main() -> None:
    registry = Registry.load()
    print(
        "Triage vs its floor (embedded SQLite; wall time, medians of "
        f"{ROUNDS} interleaved rounds; floor = pending-list read + score + sort)"
    )
    for n in SIZES:
        size(registry, n)


if __name__ == "__main__":
    main()
