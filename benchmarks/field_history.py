"""A field agent's requests against the history of the system of record: "my tickets" and order
details (``execute`` in-process, median of 200 runs each after 20 to warm up) for one agent of
two identical triaged demo data sets (200 stuck orders, seed 7): one as it is (~200 rows in
Assignments), one with 2,000,000 more closed and resolved tickets (a third of them the same
agent's), the runs interleaved between the two; on SQLite and on PostgreSQL. Goal: the same
cost (ratio ≈ 1: the open tickets and the one order come from indexes), and my tickets under
2 ms in-process on SQLite."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bot.demo.seed import seed_demo  # noqa: E402
from bot.runtime.executor import execute  # noqa: E402
from bot.runtime.roster import Roster  # noqa: E402
from bot.skills.registry import Registry  # noqa: E402
from bot.stores.factory import Stores, open_stores  # noqa: E402

HISTORY = 2_000_000
AGENT = "sarah.ops@example.com"
RUNS, WARM = 200, 20
_COLUMNS = (
    "order_id, priority, score, stuck_reason, amount, currency, assigned_agent, assigned_at, "
    "status, updated_at"
)
_VALUES = (
    "'P3', '40', 'LULU_NOT_CONFIRMED', '100', 'AED', "
    "CASE i % 3 WHEN 0 THEN 'sarah.ops@example.com' WHEN 1 THEN 'james.ops@example.com' "
    "ELSE 'priya.payments@example.com' END, '2025-01-01 00:00:00', "
    "CASE i % 2 WHEN 0 THEN 'CLOSED' ELSE 'RESOLVED' END, '2025-01-02 00:00:00'"
)


def add_history(stores: Stores, n: int) -> None:
    """``n`` old closed and resolved tickets, made by the database itself."""
    db = stores.db
    if db.engine == "sqlite":
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            f"INSERT INTO assignments ({_COLUMNS}) SELECT printf('HX%08d', i), {_VALUES} FROM n",
            [n],
        )
        db.execute("ANALYZE")
    else:
        db.execute(
            f"INSERT INTO assignments ({_COLUMNS}) SELECT 'HX' || lpad(i::text, 8, '0'), "
            f"{_VALUES} FROM generate_series(1, ?) AS i",
            [n],
        )
        db.execute("ANALYZE assignments")


def timed(registry: Registry, stores: Stores, skill: str, args: dict, runs: int) -> list[float]:
    agent = Roster.load(stores.workbook).resolve(AGENT)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        execute(registry, stores, skill, agent, args)
        times.append(time.perf_counter() - t0)
    return times


def prepare(registry: Registry, tmp: Path, env: dict) -> tuple[Stores, str, int]:
    """A triaged demo data set; the agent's first ticket; the Assignments rows."""
    stores = open_stores(tmp, env=env)
    seed_demo(tmp, stores.workbook, orders=200, seed=7)
    maya = Roster.load(stores.workbook).resolve("maya.manager@example.com")
    execute(registry, stores, "triage-and-assign", maya, {})
    agent = Roster.load(stores.workbook).resolve(AGENT)
    oid = execute(registry, stores, "my-tickets", agent, {}).data["tickets"][0]["order_id"]
    return stores, oid, len(stores.workbook.read("Assignments"))


def run(engine: str, registry: Registry, tmps: list[Path], envs: list[dict]) -> None:
    """Two identical data sets, one given the history; the requests interleaved between
    them (10 rounds of RUNS / 10 each), so both see the same machine."""
    (small, oid_s, rows), (large, oid_l, _) = (
        prepare(registry, t, e) for t, e in zip(tmps, envs, strict=True)
    )
    t0 = time.perf_counter()
    add_history(large, HISTORY)
    loaded = time.perf_counter() - t0
    goal = {"my-tickets": " (goal < 2 ms)" if engine == "SQLite" else ""}
    for skill, args_s, args_l in _requests(oid_s, oid_l):
        timed(registry, small, skill, args_s, WARM)
        timed(registry, large, skill, args_l, WARM)
        a: list[float] = []
        b: list[float] = []
        for _ in range(10):
            a += timed(registry, small, skill, args_s, RUNS // 10)
            b += timed(registry, large, skill, args_l, RUNS // 10)
        ms_a, ms_b = statistics.median(a) * 1000, statistics.median(b) * 1000
        print(
            f"  {engine:<10} {skill:<13} {rows:>5} rows: {ms_a:5.2f} ms · "
            f"+{HISTORY:,}: {ms_b:5.2f} ms · ratio {ms_b / ms_a:4.2f} "
            f"(goal ≈ 1){goal.get(skill, '')}"
        )
    print(f"  {engine:<10} (loading the history took {loaded:.0f} s)")


def _requests(oid_s: str, oid_l: str) -> list[tuple[str, dict, dict]]:
    return [("my-tickets", {}, {}), ("order-details", {"order_id": oid_s}, {"order_id": oid_l})]


def main() -> None:
    registry = Registry.load()
    print(
        f"Field requests vs history (execute in-process, median of {RUNS}; {AGENT}, "
        "18 open tickets)"
    )
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        run("SQLite", registry, [Path(a), Path(b)], [{}, {}])
    from pg_databases import create_database, drop_database

    from bot.db import postgres

    urls = [create_database(), create_database()]
    try:
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            envs = [{"ECM_DATABASE_URL": u} for u in urls]
            run("PostgreSQL", registry, [Path(a), Path(b)], envs)
    finally:
        for key, db in list(postgres._shared.items()):
            if key[0] in urls:
                db.close()
        for url in urls:
            for attempt in range(12):  # autovacuum of the 2 M rows may hold it a while
                try:
                    drop_database(url)
                    break
                except Exception as exc:
                    if attempt == 11:
                        print(f"  (could not drop {url.rsplit('/', 1)[-1]}: {exc})")
                    time.sleep(5)


if __name__ == "__main__":
    main()
