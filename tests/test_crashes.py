"""Processes starting together and processes killed with SIGKILL at any point: the system of
record is never left half-written, and the next run recovers by itself, on both engines."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import spawn
from conftest import MANAGER, SARAH, Demo, copy_engine_template

from bot.db.migrations import MIGRATIONS
from bot.demo.seed import seed_demo
from bot.stores.factory import open_stores

CHILD = Path(__file__).with_name("crash_child.py")


def start(env: dict, *args: str) -> subprocess.Popen:
    return spawn.Popen(
        [sys.executable, str(CHILD), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env, "PYTHONPATH": str(CHILD.parent.parent)},
    )


def kill_after_ready(proc: subprocess.Popen, delay: float) -> float | None:
    """SIGKILL ``proc`` ``delay`` seconds after it says it is ready, unless it has ended by
    itself before then (its job done: nothing left to kill, so the rest of the delay is not
    waited out). Returns how long it ran after "ready" when it ended by itself, else None."""
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    ready = time.monotonic()
    try:
        proc.wait(timeout=delay)
        return time.monotonic() - ready
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return None


@pytest.mark.fresh_database
def test_four_processes_starting_on_a_fresh_database_migrate_it_once(engine_env, tmp_path):
    barrier = tmp_path / "go"
    procs = [start(engine_env, "open", str(tmp_path), str(barrier)) for _ in range(4)]
    for p in procs:  # all four imported the bot and wait at the barrier
        assert p.stdout.readline().strip() == "waiting", p.stderr.read()
    barrier.touch()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "opened", err
    db = open_stores(tmp_path, env=engine_env).db
    names = [r["name"] for r in db.query("SELECT name FROM _migrations")]
    assert sorted(names) == sorted(n for n, _ in MIGRATIONS)


_BIG: dict[str, tuple[Path, dict | None]] = {}


@pytest.fixture
def big(engine_env, tmp_path, tmp_path_factory, registry) -> Demo:
    """1500 seeded orders (seed 5), not triaged, on each engine. Seeded once per process and
    engine, into the first test's own directory and database, and kept (its files, and on
    PostgreSQL its rows) for the next tests to copy (``conftest.copy_engine_template``)."""
    from pg_databases import rows_of

    engine = "postgres" if "ECM_DATABASE_URL" in engine_env else "sqlite"
    if engine in _BIG:
        copy_engine_template(*_BIG[engine], tmp_path, engine_env)
        return Demo(tmp_path, registry, open_stores(tmp_path, env=engine_env))
    stores = open_stores(tmp_path, env=engine_env)
    seed_demo(tmp_path, stores.workbook, orders=1500, seed=5)
    kept = tmp_path_factory.getbasetemp() / f"crashes-big-{engine}"
    kept.mkdir(exist_ok=True)
    rows = None
    if engine == "postgres":
        rows = rows_of(engine_env["ECM_DATABASE_URL"])
    else:
        stores.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # its files whole, to copy
    for name in ("state.db", "warehouse.db"):
        if (tmp_path / name).exists():
            shutil.copyfile(tmp_path / name, kept / name)
    _BIG[engine] = (kept, rows)
    return Demo(tmp_path, registry, stores)


def test_a_triage_killed_at_any_point_leaves_all_or_nothing_and_the_next_run_recovers(
    big, engine_env, tmp_path
):
    rng = random.Random(11)

    def triage_audits() -> int:
        return sum(1 for e in big.stores.state.audit_entries() if e["action"] == "triage")

    # Kill points are drawn over how long a whole triage takes here, so that they land in the
    # middle of one as well as after it: at most 0.5 s until one has run to its end (about
    # 40 ms on SQLite, 70 ms on PostgreSQL on an idle machine), then up to a quarter more than
    # the last that did.
    span = 0.5
    for _ in range(3):
        rows, audits = big.rows("Assignments"), triage_audits()
        proc = start(engine_env, "triage", str(tmp_path), MANAGER)
        took = kill_after_ready(proc, rng.uniform(0, span))
        span = span if took is None else took * 1.25
        # either the killed triage committed every row with its audit row, or nothing at all
        assert (big.rows("Assignments") != rows) == (triage_audits() == audits + 1)
    result = big.run(MANAGER, "triage-and-assign")
    runs = big.stores.state.triage_runs()
    # this run, by its id: runs it marked failed may have started in the same second
    (run,) = [r for r in runs if r["id"] == result.execution_id]
    assert run["status"] == "done" and result.data["counts"]["assigned"] > 0
    assert all(r["status"] in ("done", "failed") for r in runs)
    assert big.stores.state.lock("triage") is None


def test_a_resolve_killed_at_any_point_is_all_or_nothing_and_can_be_retried(
    big, engine_env, tmp_path
):
    big.run(MANAGER, "triage-and-assign")
    ids = [t["Order ID"] for t in big.tickets_of(SARAH)][:40]
    proc = start(engine_env, "resolve", str(tmp_path), SARAH, *ids)
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    for _ in range(3):  # kill it while it is in the middle of its resolves
        assert proc.stdout.readline().startswith("resolved")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    resolved = {r["Order ID"] for r in big.rows("Assignments") if r["Status"] == "RESOLVED"}
    logged = {r["Order ID"] for r in big.rows("Resolutions")}
    audited = {
        e["target"].split(":", 1)[1]
        for e in big.stores.state.audit_entries()
        if e["action"] == "resolve_ticket"
    }
    assert resolved == logged == audited and 3 <= len(resolved) < len(ids)
    for oid in [i for i in ids if i not in resolved][:3]:  # the agent's retry just works
        big.run(SARAH, "resolve-ticket", order_id=oid, notes="retry after the crash")


def test_a_sheet_sync_killed_mid_cycle_is_caught_up_by_the_next_one(triaged, tmp_path):
    from fake_sheets import FakeSheets

    from bot.stores.sheets_grid import SheetsGrid
    from bot.stores.workbook import TAB_COLUMNS
    from bot.sync.sheets_sync import SheetSync

    with FakeSheets() as fake:
        fake.add_workbook_tabs()
        env = {"ECM_DATA_DIR": str(triaged.path), **fake.env()}
        for oid in [t["Order ID"] for t in triaged.tickets_of(SARAH)][:5]:
            triaged.run(SARAH, "resolve-ticket", order_id=oid, notes="done")
        proc = start(env, "sync", str(triaged.path))
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        deadline = time.monotonic() + 30
        while len(fake.requests) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        grid = SheetsGrid.from_env(fake.env(), backoff_factor=0.01)
        report = SheetSync(triaged.stores, grid).run_once()  # takes over the dead lease
        assert report.skipped is None, report.skipped
        status = TAB_COLUMNS["Assignments"].index("Status")
        sheet = {r[0]: r[status] for r in fake.sheet("Assignments").rows[1:] if r}
        assert sheet == {r["Order ID"]: r["Status"] for r in triaged.rows("Assignments")}
        assert len(fake.sheet("Resolutions").rows) == 1 + len(triaged.rows("Resolutions"))
