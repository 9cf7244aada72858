"""The contract of the system of record, run on both engines (embedded SQLite and the
PostgreSQL that `make test` starts): migrations, transactions, conditional updates, dedupe,
claims, proposals, locks with leases and retention. Neither engine is a mock."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import pytest
import spawn
from conftest import MANAGER, SARAH, Demo

from bot.clock import now, ts
from bot.db.migrations import MIGRATIONS
from bot.demo.seed import seed_demo
from bot.errors import Conflict, StoreUnavailable
from bot.stores.factory import open_stores
from bot.stores.workbook import RowUpdate


@pytest.fixture
def stores(engine_env, tmp_path):
    return open_stores(tmp_path, env=engine_env)


@pytest.fixture
def seeded(engine_env, tmp_path, registry) -> Demo:
    """The demo data set on each engine, triaged once."""
    stores = open_stores(tmp_path, env=engine_env)
    seed_demo(tmp_path, stores.workbook, orders=60, seed=3)
    demo = Demo(tmp_path, registry, stores)
    demo.run(MANAGER, "triage-and-assign")
    return demo


@pytest.mark.fresh_database
def test_migrations_are_recorded_once_and_reopening_applies_none(stores, engine_env, tmp_path):
    names = [r["name"] for r in stores.db.query("SELECT name FROM _migrations ORDER BY name")]
    assert names == sorted(name for name, _ in MIGRATIONS)
    from bot.db.migrations import migrate

    assert migrate(stores.db) == []


def test_a_failed_transaction_leaves_neither_the_row_nor_its_audit(stores):
    stores.workbook.append("Agents", [{"email": "a@example.com", "role": "field"}])
    with pytest.raises(RuntimeError), stores.db.transaction():
        stores.workbook.update("Agents", [RowUpdate("a@example.com", {"capacity": "9"})])
        stores.state.audit(actor="t", action="x", target="agent:a", before=None, after=1)
        raise RuntimeError("killed between writes")
    assert stores.workbook.find("Agents", "a@example.com")["capacity"] is None
    assert stores.state.audit_entries("agent:a") == []


def test_a_nested_transaction_is_a_savepoint(stores):
    with stores.db.transaction():
        stores.state.audit(actor="t", action="outer", target="t", before=None, after=1)
        with pytest.raises(ValueError), stores.db.transaction():
            stores.state.audit(actor="t", action="inner", target="t", before=None, after=2)
            raise ValueError
    assert [e["action"] for e in stores.state.audit_entries("t")] == ["outer"]


def test_a_conditional_update_applies_only_while_the_row_holds_what_was_expected(stores):
    stores.workbook.append(
        "Assignments", [{"Order ID": "AE1", "Assigned Agent": "s@x.com", "Status": "ASSIGNED"}]
    )
    first = RowUpdate(
        "AE1", {"Status": "RESOLVED"}, {"Status": "ASSIGNED", "Assigned Agent": "s@x.com"}
    )
    assert stores.workbook.update("Assignments", [first]) == []
    assert stores.workbook.update("Assignments", [first]) == ["AE1"]
    assert stores.workbook.find("Assignments", "AE1")["Status"] == "RESOLVED"


def test_values_read_back_as_text_like_a_sheet(stores):
    stores.workbook.append(
        "Agents", [{"email": "b@x.com", "capacity": 8, "active": True, "name": ""}]
    )
    row = stores.workbook.find("Agents", "B@X.COM")
    assert (row["capacity"], row["active"], row["name"]) == ("8", "TRUE", None)
    # a row is the tab's columns, in the tab's order, whether read whole or looked up
    from bot.stores.workbook import TAB_COLUMNS

    (whole,) = stores.workbook.read("Agents")
    assert list(whole) == list(row) == list(TAB_COLUMNS["Agents"]) and whole == row


def test_dedupe_claims_alerts_and_proposals_act_once_across_two_openings(engine_env, tmp_path):
    one, two = open_stores(tmp_path, env=engine_env), open_stores(tmp_path, env=engine_env)
    assert one.state.first_time("ev:1") and not two.state.first_time("ev:1")
    assert one.state.claim_slot("triage", "2026-12-01 03:00:00")
    assert not two.state.claim_slot("triage", "2026-12-01 03:00:00")
    assert one.state.alert_once("k", "m") and not two.state.alert_once("k", "m")
    one.state.save_proposal("p1", SARAH, "resolve-ticket", {"order_id": "AE1"})
    assert two.state.take_proposal("p1", "someone@else.com") is None
    assert two.state.take_proposal("p1", SARAH)["args"] == {"order_id": "AE1"}
    assert one.state.take_proposal("p1", SARAH) is None


def test_a_held_lock_names_its_holder_and_a_dead_holder_is_taken_over(stores):
    stores.state.acquire_lock("triage", MANAGER, 60)
    with pytest.raises(Conflict, match=r"started by maya.manager@example.com on .* s ago"):
        stores.state.acquire_lock("triage", "other@example.com", 60)
    stores.db.execute("UPDATE locks SET pid = ? WHERE name = 'triage'", [2**22 + 12345])
    taken = stores.state.acquire_lock("triage", "other@example.com", 60)
    assert "its process is gone" in taken.took_over
    stores.db.execute(
        "UPDATE locks SET host = 'elsewhere', expires_at = ? WHERE name = 'triage'",
        [ts(now() - timedelta(seconds=1))],
    )
    assert "lease expired" in stores.state.acquire_lock("triage", MANAGER, 60).took_over
    assert stores.state.heartbeat("triage", MANAGER, 60)
    assert not stores.state.heartbeat("triage", "other@example.com", 60)


def test_prune_expires_seen_events_and_rolls_executions_into_days(stores):
    old = now() - timedelta(days=40)
    stores.db.execute("INSERT INTO seen_events (key, at) VALUES ('old', ?)", [ts(old)])
    assert stores.state.first_time("new")
    for i, skill in enumerate(["my-tickets", "my-tickets", "triage-and-assign"]):
        stores.state.record_execution(
            {
                "id": f"x{i}",
                "workflow_id": "w",
                "skill": skill,
                "role": "field",
                "caller": SARAH,
                "trigger": "chat",
                "started_at": ts(old + timedelta(minutes=i)),
                "duration_ms": 10.0 * (i + 1),
                "outcome": "ok",
                "cost": 0.5,
            }
        )
    done = stores.state.prune(now(), keep_days=30)
    assert done == {"seen_events": 1, "executions": 3}
    assert stores.state.first_time("old") and not stores.state.first_time("new")
    days = {(d["skill"], d["runs"], d["max_ms"]) for d in stores.state.execution_days()}
    assert days == {("my-tickets", 2, 20.0), ("triage-and-assign", 1, 30.0)}
    assert stores.state.spend("my-tickets", ts(old)[:7]) == pytest.approx(1.0)


def test_resolve_writes_status_resolution_and_audit_together(seeded):
    oid = seeded.tickets_of(SARAH)[0]["Order ID"]
    seeded.run(SARAH, "resolve-ticket", order_id=oid, notes="replayed webhook")
    assert seeded.stores.workbook.find("Assignments", oid)["Status"] == "RESOLVED"
    assert [r["Order ID"] for r in seeded.rows("Resolutions")] == [oid]
    assert [e["action"] for e in seeded.stores.state.audit_entries(f"order:{oid}")] == [
        "resolve_ticket"
    ]


def test_the_database_being_down_is_one_clear_line(tmp_path):
    env = {"ECM_DATABASE_URL": "postgresql://ecm:secret-pw@127.0.0.1:9/ecm"}
    with pytest.raises(StoreUnavailable) as err:
        open_stores(tmp_path, env=env)
    text = str(err.value)
    assert "ecm@127.0.0.1:9/ecm is not answering" in text and "secret-pw" not in text
    out = spawn.run(
        [sys.executable, "-m", "bot", "chat", "--as", SARAH, "my tickets"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "ECM_DATA_DIR": str(tmp_path), **env},
        timeout=60,
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "not answering right now" in out.stderr and "secret-pw" not in out.stderr


def test_an_embedded_data_directory_from_before_is_migrated_with_nothing_lost(tmp_path):
    import sqlite3

    old_state = sqlite3.connect(tmp_path / "state.db")
    old_state.executescript(
        """
        CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT);
        INSERT INTO _migrations VALUES ('m001_initial', 'x'), ('m002_seen_events', 'x'),
            ('m003_schedule_slots', 'x'), ('m004_llm_usage', 'x');
        CREATE TABLE triage_runs (id TEXT PRIMARY KEY, workflow_id TEXT, started_by TEXT,
            started_at TEXT, finished_at TEXT, status TEXT, dry_run INTEGER, summary TEXT);
        CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at TEXT, actor TEXT, action TEXT,
            target TEXT, before TEXT, after TEXT, workflow_id TEXT);
        INSERT INTO audit_log (at, actor, action, target) VALUES ('t', 'a', 'resolve', 'order:X');
        CREATE TABLE access_denials (id INTEGER PRIMARY KEY, at TEXT, caller TEXT, skill TEXT,
            role TEXT, resource TEXT, rule TEXT);
        CREATE TABLE executions (id TEXT PRIMARY KEY, workflow_id TEXT, parent_id TEXT,
            skill TEXT, role TEXT, caller TEXT, trigger TEXT, started_at TEXT,
            duration_ms FLOAT, outcome TEXT, error TEXT, metrics TEXT, order_ids TEXT,
            model TEXT, fallback_used INTEGER, tokens_in INTEGER, tokens_out INTEGER,
            cost FLOAT, tool_calls TEXT);
        CREATE INDEX idx_executions_started_at ON executions (started_at);
        CREATE TABLE locks (name TEXT PRIMARY KEY, holder TEXT, acquired_at TEXT,
            expires_at TEXT);
        CREATE TABLE seen_events (key TEXT PRIMARY KEY, at TEXT);
        CREATE TABLE schedule_slots (skill TEXT, slot TEXT, claimed_at TEXT,
            PRIMARY KEY (skill, slot));
        CREATE TABLE alerts (key TEXT PRIMARY KEY, at TEXT, message TEXT);
        CREATE TABLE proposals (id TEXT PRIMARY KEY, caller TEXT, skill TEXT, args TEXT,
            created_at TEXT, used_at TEXT);
        """
    )
    old_state.commit()
    old_state.close()
    book = sqlite3.connect(tmp_path / "workbook.db")
    book.execute(
        'CREATE TABLE "Agents" (email TEXT, name TEXT, "Slack user ID" TEXT, role TEXT, '
        "specializations TEXT, capacity TEXT, active TEXT)"
    )
    book.execute("INSERT INTO \"Agents\" VALUES ('s@x.com', 'S', 'U1', 'field', '', '5', 'TRUE')")
    book.execute(
        'CREATE TABLE "Assignments" ("Order ID" TEXT, "Status" TEXT, "Priority" TEXT, '
        '"Score" TEXT, "Why" TEXT, "Stuck Reason" TEXT, "Amount" TEXT, "Currency" TEXT, '
        '"Hours Stuck at triage" TEXT, "Assigned Agent" TEXT, "Assigned At" TEXT, '
        '"Updated At" TEXT, "Triage Run" TEXT)'
    )
    book.executemany(
        'INSERT INTO "Assignments" ("Order ID", "Status", "Assigned Agent") VALUES (?, ?, ?)',
        [("AE2", "ASSIGNED", "s@x.com"), ("AE1", "RESOLVED", "s@x.com")],
    )
    book.commit()
    book.close()

    stores = open_stores(tmp_path, env={})
    assert [r["Order ID"] for r in stores.workbook.read("Assignments")] == ["AE2", "AE1"]
    assert stores.workbook.find("Agents", "s@x.com")["Slack user ID"] == "U1"
    assert stores.state.audit_entries("order:X")[0]["action"] == "resolve"
    assert json.loads(json.dumps(stores.state.lock("triage"))) is None


def test_a_proposal_older_than_fifteen_minutes_is_refused_and_never_acts(stores, registry):
    from bot.runtime.dispatch import PROPOSAL_TTL_SECONDS, confirm
    from bot.runtime.roster import Member

    sarah = Member(SARAH, "Sarah", "U1", ("field",), frozenset(), 5, True)
    stores.state.save_proposal("old", SARAH, "resolve-ticket", {"order_id": "AE1", "notes": "x"})
    stale = ts(now() - timedelta(seconds=PROPOSAL_TTL_SECONDS + 5))
    stores.db.execute("UPDATE proposals SET created_at = ? WHERE id = 'old'", [stale])
    with pytest.raises(Conflict, match="expired"):
        confirm(registry, stores, sarah, "old")
    with pytest.raises(Conflict, match="already handled"):  # and it stays used
        confirm(registry, stores, sarah, "old")
    assert stores.state.executions() == []


@pytest.mark.fresh_database
def test_the_migrate_command_reports_the_schema_on_each_engine(engine_env, tmp_path):
    done = spawn.run(
        [sys.executable, "-m", "bot", "migrate"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **engine_env},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"schema at {MIGRATIONS[-1][0]} ({len(MIGRATIONS)} migrations)" in done.stdout


def test_postgresql_opens_one_connection_to_start_and_more_only_when_busy(pg_url, monkeypatch):
    """The connection that checks the server is up becomes the pool's first: opening the
    store (migrations included) costs one connection, and a second caller while the first
    holds a transaction gets a new one."""
    import threading

    import psycopg

    from bot.db.postgres import PostgresDatabase

    opened: list[str] = []
    real = psycopg.Connection.connect.__func__  # type: ignore[attr-defined]

    def counting(cls, conninfo="", **kwargs):
        opened.append(conninfo)
        return real(cls, conninfo, **kwargs)

    def to_this_database() -> int:  # another test's pool in this process may connect too
        return sum(1 for c in opened if c == pg_url)

    monkeypatch.setattr(psycopg.Connection, "connect", classmethod(counting))
    monkeypatch.setattr(psycopg, "connect", psycopg.Connection.connect)  # its alias
    db = PostgresDatabase(pg_url)
    try:
        assert db.query("SELECT 1 AS one") == [{"one": 1}]
        assert to_this_database() == 1
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with db.transaction():
                db.query("SELECT 1")
                holding.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        assert holding.wait(10)
        assert db.query("SELECT 2 AS two") == [{"two": 2}]  # while the first is held
        release.set()
        holder.join(10)
        assert to_this_database() == 2
    finally:
        db.close()


def test_sqlite_rows_of_two_results_read_in_turn_keep_their_own_columns(tmp_path):
    from bot.db.sqlite import SqliteDatabase

    db = SqliteDatabase(tmp_path / "state.db", migrate=False)
    db.execute("CREATE TABLE a (x INTEGER, y TEXT)")
    db.execute("CREATE TABLE b (y TEXT, z INTEGER, w TEXT)")
    db.executemany("INSERT INTO a VALUES (?, ?)", [(i, f"a{i}") for i in range(3)])
    db.executemany("INSERT INTO b VALUES (?, ?, ?)", [(f"b{i}", i, "w") for i in range(3)])
    firsts, seconds = db.iterate("SELECT * FROM a"), db.iterate("SELECT * FROM b")
    pairs = list(zip(firsts, seconds, strict=True))  # one row of each, in turn
    assert [p[0] for p in pairs] == [{"x": i, "y": f"a{i}"} for i in range(3)]
    assert [p[1] for p in pairs] == [{"y": f"b{i}", "z": i, "w": "w"} for i in range(3)]
