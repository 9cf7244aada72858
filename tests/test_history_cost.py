"""A field agent's requests cost the same whatever the history: "my tickets", order details and
a resolve read the caller's open tickets and the one order from indexes, never the closed
tickets that pile up (those stay in the table, queryable for reports). Cost is counted as
SQLite virtual-machine steps on the system of record and checked in the queries' plans on
both engines: no timing."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import SARAH, Demo

from bot.stores.factory import open_stores

SMALL, LARGE = 200, 20_000
STEP = 100  # the progress handler counts every STEP virtual-machine instructions


def _history(demo: Demo, n: int, agent: str = SARAH) -> None:
    """``n`` closed and resolved tickets of ``agent`` from long ago (and as many of others)."""
    rows = []
    for i in range(2 * n):
        rows.append(
            {
                "Order ID": f"HX{i:08d}",
                "Priority": "P3",
                "Score": 40,
                "Stuck Reason": "LULU_NOT_CONFIRMED",
                "Amount": 100,
                "Currency": "AED",
                "Assigned Agent": agent if i % 2 == 0 else "james.ops@example.com",
                "Assigned At": "2025-01-01 00:00:00",
                "Status": ("CLOSED", "RESOLVED")[i % 4 // 2],
                "Updated At": "2025-01-02 00:00:00",
            }
        )
    demo.stores.workbook.append("Assignments", rows)
    demo.stores.workbook.append(
        "Resolutions",
        [{"Order ID": r["Order ID"], "Agent": r["Assigned Agent"]} for r in rows[::2]],
    )
    demo.stores.db.execute("ANALYZE")  # the planner knows the history is there


def _copy(triaged_dir, path, registry) -> Demo:
    path.mkdir()
    for name in ("state.db", "warehouse.db"):
        shutil.copyfile(triaged_dir / name, path / name)
    return Demo(path, registry, open_stores(path, env={}))


class Steps:
    """Counts the system of record's virtual-machine steps and records its statements."""

    def __init__(self, demo: Demo, monkeypatch):
        self.steps = 0
        self.statements: list[str] = []
        db = demo.stores.db
        conn = db._connect()

        def tick() -> int:
            self.steps += STEP
            return 0

        conn.set_progress_handler(tick, STEP)
        for name in ("query", "execute"):
            real = getattr(db, name)

            def recorded(sql, params=(), _real=real):
                self.statements.append(sql)
                return _real(sql, params)

            monkeypatch.setattr(db, name, recorded)


def _work(demo: Demo) -> None:
    """What a field agent does on a request each: the queue, one order, a resolve."""
    queue = demo.chat(SARAH, "my tickets").result
    assert queue is not None and queue.data["count"] > 2
    first, second = (t["order_id"] for t in queue.data["tickets"][:2])
    assert demo.chat(SARAH, f"order {first}").result is not None
    resolved = demo.chat(SARAH, f"resolve {second} replayed the webhook, partner confirmed")
    assert resolved.result is not None and resolved.result.data["remaining"] >= 1


def test_my_tickets_order_details_and_resolve_cost_the_same_with_100x_the_history(
    tmp_path, registry, triaged_dir, monkeypatch
):
    small = _copy(triaged_dir, tmp_path / "small", registry)
    large = _copy(triaged_dir, tmp_path / "large", registry)
    _history(small, SMALL)
    _history(large, LARGE)
    assert len(large.rows("Assignments")) - len(small.rows("Assignments")) == 2 * (LARGE - SMALL)
    counted = []
    for demo in (small, large):
        _work(demo)  # warm: caches, first-use imports
        steps = Steps(demo, monkeypatch)
        queue = demo.chat(SARAH, "my tickets").result
        assert queue is not None
        oid = queue.data["tickets"][0]["order_id"]
        demo.chat(SARAH, f"order {oid}")
        demo.chat(SARAH, f"resolve {oid} replayed the webhook, partner confirmed")
        counted.append(steps.steps)
    assert counted[1] <= counted[0] * 1.1, counted  # 100 times the closed tickets


def _plans(demo: Demo, statements: list[str]) -> list[str]:
    """The plan of each recorded statement on the ticket tables (SQLite's EXPLAIN QUERY
    PLAN with placeholder values)."""
    plans = []
    for sql in statements:
        if not re.search(r"\b(assignments|resolutions)\b", sql) or sql.lstrip().startswith(
            "INSERT"
        ):
            continue
        args = ["x"] * sql.count("?")
        rows = demo.stores.db.query("EXPLAIN QUERY PLAN " + sql, args)
        plans.append(sql + " => " + " / ".join(r["detail"] for r in rows))
    return plans


def test_every_ticket_query_of_a_field_request_is_an_index_search(
    tmp_path, registry, triaged_dir, monkeypatch
):
    demo = _copy(triaged_dir, tmp_path / "d", registry)
    _history(demo, SMALL)
    _work(demo)
    steps = Steps(demo, monkeypatch)
    _work(demo)
    plans = _plans(demo, list(steps.statements))
    assert plans
    scans = [p for p in plans if re.search(r"\bSCAN (assignments|resolutions)\b", p)]
    assert not scans, scans


@pytest.fixture
def pg_demo(pg_url, tmp_path, registry, triaged_dir, monkeypatch) -> Demo:
    """The triaged demo's tickets and roster in PostgreSQL, with a large closed history."""
    source = _copy(triaged_dir, tmp_path / "src", registry)
    monkeypatch.setenv("ECM_DATABASE_URL", pg_url)
    stores = open_stores(tmp_path / "src", env={"ECM_DATABASE_URL": pg_url})
    demo = Demo(tmp_path / "src", registry, stores)
    for tab in ("Agents", "Assignments"):
        demo.stores.workbook.append(tab, source.rows(tab))
    _history(demo, LARGE)
    return demo


def test_on_postgres_the_ticket_queries_use_the_indexes(pg_demo, monkeypatch):
    recorded: list[str] = []
    db = pg_demo.stores.db
    real = db.query

    def query(sql, params=()):
        recorded.append(sql)
        return real(sql, params)

    monkeypatch.setattr(db, "query", query)
    queue = pg_demo.chat(SARAH, "my tickets").result
    assert queue is not None and queue.data["count"] > 0
    pg_demo.chat(SARAH, f"order {queue.data['tickets'][0]['order_id']}")
    monkeypatch.setattr(db, "query", real)
    selects = {s for s in recorded if re.search(r"FROM (assignments|resolutions)\b", s)}
    assert selects
    for sql in selects:
        args = ["x"] * sql.count("?")
        plan = " ".join(str(next(iter(r.values()))) for r in db.query("EXPLAIN " + sql, args))
        assert "Seq Scan on assignments" not in plan and "Seq Scan on resolutions" not in plan, (
            sql,
            plan,
        )
