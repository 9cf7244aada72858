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

from bot.stores.db_workbook import _COLUMNS, TAB_TABLES
from bot.stores.factory import open_stores
from bot.stores.workbook import TAB_COLUMNS, cell_text

SMALL, LARGE = 200, 20_000
STEP = 100  # the progress handler counts every STEP virtual-machine instructions


def _history_rows(n: int, agent: str = SARAH) -> list[dict]:
    """The rows ``_history`` adds to the Assignments tab, as the workbook would take them."""
    return [
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
        for i in range(2 * n)
    ]


# ``_history_rows`` made by the database itself (the same text cells the workbook writes, in
# the same order), on SQLite and PostgreSQL alike: one statement per tab rather than tens of
# thousands of rows sent through the driver. i counts 0, 1, ... (ASSIGNMENTS) or 0, 2, ...
# (RESOLUTIONS: every other row, the caller's) while below the first parameter.
_NUMBERS = (
    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + {step} FROM n WHERE i + {step} < ?)"
)
_ORDER_ID = "'HX' || SUBSTR(CAST(100000000 + i AS TEXT), 2)"
_CELLS = {
    "Order ID": _ORDER_ID,
    "Priority": "'P3'",
    "Score": "'40'",
    "Stuck Reason": "'LULU_NOT_CONFIRMED'",
    "Amount": "'100'",
    "Currency": "'AED'",
    "Assigned Agent": "CASE WHEN i % 2 = 0 THEN ? ELSE 'james.ops@example.com' END",
    "Assigned At": "'2025-01-01 00:00:00'",
    "Status": "CASE WHEN i % 4 < 2 THEN 'CLOSED' ELSE 'RESOLVED' END",
    "Updated At": "'2025-01-02 00:00:00'",
}


def _insert_numbered(demo: Demo, tab: str, cells: dict[str, str], step: int, args: list) -> None:
    columns = _COLUMNS[tab]
    names = ", ".join(f'"{columns[h]}"' for h in cells)
    demo.stores.db.execute(
        f"INSERT INTO {TAB_TABLES[tab]} ({names}) {_NUMBERS.format(step=step)} "
        f"SELECT {', '.join(cells.values())} FROM n ORDER BY i",
        args,
    )


def _history(demo: Demo, n: int, agent: str = SARAH) -> None:
    """``n`` closed and resolved tickets of ``agent`` from long ago (and as many of others):
    ``_history_rows`` in the Assignments tab, and a resolution of each of the agent's."""
    if n > 0:
        _insert_numbered(demo, "Assignments", _CELLS, 1, [2 * n, agent])
        resolutions = {"Order ID": _ORDER_ID, "Agent": "?"}
        _insert_numbered(demo, "Resolutions", resolutions, 2, [2 * n, agent])
    demo.stores.db.execute("ANALYZE")  # the planner knows the history is there


def _history_as_written(demo: Demo, n: int, agent: str = SARAH) -> None:
    """The rows ``_history`` makes are those the workbook writes for ``_history_rows``."""
    headers = list(TAB_COLUMNS["Assignments"])
    want = [{h: cell_text(r.get(h)) for h in headers} for r in _history_rows(n, agent)]
    got = [r for r in demo.rows("Assignments") if r["Order ID"].startswith("HX")]
    assert got == want
    resolved = [r for r in demo.rows("Resolutions") if r["Order ID"].startswith("HX")]
    assert resolved == [
        {h: cell_text({"Order ID": r["Order ID"], "Agent": r["Assigned Agent"]}.get(h))
         for h in TAB_COLUMNS["Resolutions"]}
        for r in want[::2]
    ]  # fmt: skip


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
    _history_as_written(demo, SMALL)
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
    headers = TAB_COLUMNS["Assignments"]
    rows = _history_rows(LARGE)
    for i in (0, 1, 2, 3, 2 * LARGE - 1):  # made by PostgreSQL as by SQLite (all checked there)
        want = {h: cell_text(rows[i].get(h)) for h in headers}
        assert {h: v for h, v in demo.stores.workbook.find("Assignments", want["Order ID"]).items()
                if h in headers} == want  # fmt: skip
    counts = demo.stores.db.query(
        "SELECT COUNT(*) AS n, MIN(agent) AS lo, MAX(agent) AS hi FROM resolutions "
        "WHERE order_id LIKE 'HX%'"
    )
    assert [tuple(r.values()) for r in counts] == [(LARGE, SARAH, SARAH)]
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
