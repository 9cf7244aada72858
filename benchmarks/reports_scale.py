"""``ecm-bot metrics``, ``trace`` and ``costs`` with 1,000,000 executions (90 days of history),
on SQLite and on PostgreSQL: each command's wall time as a user runs it (a fresh process,
interpreter start-up included; median of 3), and the report queries alone in-process, before
and after the indexes ``bot.stores.reports`` is written for (created here only to measure;
they are not yet a migration). Target: each command under 1 s."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

import bulk_executions as bulk  # noqa: E402

from bot.clock import now, ts  # noqa: E402
from bot.db.base import Database  # noqa: E402
from bot.stores.reports import Reports  # noqa: E402

N = 1_000_000
BIN = Path(sys.executable).parent / "ecm-bot"


def seconds(fn: Callable[[], object], repeat: int = 1) -> float:
    """The median wall time of ``fn`` over ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def command(env: dict, *args: str) -> float:
    """Median wall time of ``ecm-bot args`` in a fresh process (3 runs after a warm-up)."""

    def run() -> None:
        done = subprocess.run([str(BIN), *args], env=env, capture_output=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"ecm-bot {' '.join(args)}: {done.stderr.decode()[-400:]}")

    run()
    return seconds(run, 3)


def in_process(db: Database) -> str:
    reports = Reports(db)
    day = ts(now() - timedelta(days=1))[:10]
    return (
        f"metrics {seconds(reports.metrics):.3f} s, costs {seconds(reports.costs):.3f} s, "
        f"trace {seconds(lambda: reports.day(day)):.3f} s"
    )


def figures(engine: str, db: Database, env: dict, loaded: float) -> None:
    print(f"  {engine}: {N:,} executions loaded in {loaded:.0f} s")
    bulk.analyze(db)
    print(f"    report queries in-process: {in_process(db)}")
    yesterday = ts(now() - timedelta(days=1))[:10]
    rows = len(Reports(db).day(yesterday))
    for label, args in (
        ("ecm-bot metrics", ["metrics"]),
        ("ecm-bot metrics --json", ["metrics", "--json"]),
        (f"ecm-bot trace --date {yesterday} ({rows:,} rows)", ["trace", "--date", yesterday]),
        ("ecm-bot trace --json (today)", ["trace", "--json"]),
        ("ecm-bot costs", ["costs"]),
    ):
        wall = command(env, *args)
        verdict = "ok" if wall < 1 else "OVER"
        print(f"    {label:<46} {wall:6.3f} s  (target < 1 s: {verdict})")


def main() -> None:
    print(
        f"Reports at {N:,} executions (90 days, whole command in a fresh process, median of 3; "
        "target < 1 s)"
    )
    base = {k: v for k, v in os.environ.items() if k != "ECM_DATABASE_URL"}
    with tempfile.TemporaryDirectory() as tmp:
        from bot.db.sqlite import SqliteDatabase

        db = SqliteDatabase(Path(tmp) / "state.db")
        loaded = bulk.load_sqlite(db.path, N)
        figures("SQLite", db, {**base, "ECM_DATA_DIR": tmp}, loaded)
        db.close()
    from pg_databases import create_database, drop_database

    from bot.db.postgres import PostgresDatabase

    url = create_database()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = PostgresDatabase(url)
            loaded = bulk.load_postgres(url, N)
            env = {**base, "ECM_DATA_DIR": tmp, "ECM_DATABASE_URL": url}
            figures("PostgreSQL", db, env, loaded)
            db.close()
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
