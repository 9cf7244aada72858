"""triage-and-assign end to end on the embedded stores: writes, re-triage, never losing work."""

from __future__ import annotations

import re
import sqlite3

import pytest
from conftest import MANAGER, SARAH

from bot.errors import Conflict
from bot.paths import CONFIG_DIR
from bot.runtime.roster import Roster
from bot.stores.workbook import RowUpdate
from bot.yaml_safe import parse_yaml


def open_rows(demo):
    return [r for r in demo.rows("Assignments") if r["Status"] in ("ASSIGNED", "IN_PROGRESS")]


def test_every_pending_order_is_assigned_or_reported_unassigned(demo):
    data = demo.run(MANAGER, "triage-and-assign").data
    on_sheet = {r["Order ID"] for r in demo.rows("Assignments")}
    unassigned = {u["order_id"] for u in data["unassigned"]}
    assert data["counts"]["pending"] == 120
    assert on_sheet.isdisjoint(unassigned)
    assert len(on_sheet) + len(unassigned) == 120
    assert data["counts"]["assigned"] == len(on_sheet)


def test_no_agent_goes_over_capacity_and_each_fits_the_reason(demo):
    demo.run(MANAGER, "triage-and-assign")
    roster = Roster.load(demo.stores.workbook)
    reasons = parse_yaml((CONFIG_DIR / "stuck-reasons.yaml").read_text())["reasons"]
    per_agent: dict[str, int] = {}
    for row in open_rows(demo):
        member = roster.by_email(row["Assigned Agent"])
        assert member.active and "field" in member.roles
        assert reasons[row["Stuck Reason"]]["team"] in member.specializations
        per_agent[member.email] = per_agent.get(member.email, 0) + 1
    for email, count in per_agent.items():
        assert count <= roster.by_email(email).capacity


def test_re_triage_keeps_every_assignment_and_adds_no_rows(triaged):
    before = triaged.rows("Assignments")
    data = triaged.run(MANAGER, "triage-and-assign").data
    after = triaged.rows("Assignments")
    assert len(after) == len(before)
    assert data["counts"]["new"] == 0 and data["counts"]["moved"] == 0
    assert data["counts"]["kept"] == data["counts"]["assigned"]
    assert [r["Assigned Agent"] for r in after] == [r["Assigned Agent"] for r in before]


def test_dry_run_writes_nothing(demo):
    data = demo.run(MANAGER, "triage-and-assign", dry_run=True).data
    assert data["dry_run"] and data["counts"]["assigned"] > 0
    assert demo.rows("Assignments") == [] and demo.rows("Escalations") == []


def test_orders_no_longer_stuck_are_closed(triaged):
    row = open_rows(triaged)[0]
    with sqlite3.connect(triaged.path / "warehouse.db") as conn:
        conn.execute("UPDATE orders SET status = 'COMPLETED' WHERE order_id = ?", [row["Order ID"]])
    data = triaged.run(MANAGER, "triage-and-assign").data
    closed = next(r for r in triaged.rows("Assignments") if r["Order ID"] == row["Order ID"])
    assert closed["Status"] == "CLOSED"
    assert data["counts"]["closed"] == 1


def test_an_inactive_agents_tickets_move_to_active_agents(triaged):
    theirs = {r["Order ID"] for r in triaged.tickets_of(SARAH)}
    assert theirs
    triaged.stores.workbook.update("Agents", [RowUpdate(SARAH, {"active": "FALSE"})])
    data = triaged.run(MANAGER, "triage-and-assign").data
    assert triaged.tickets_of(SARAH) == []
    assert data["counts"]["moved"] + data["counts"]["unassigned"] >= len(theirs)


def test_resolved_and_escalated_tickets_are_never_touched_by_triage(triaged):
    mine = triaged.tickets_of(SARAH)
    triaged.stores.workbook.update(
        "Assignments",
        [
            RowUpdate(mine[0]["Order ID"], {"Status": "RESOLVED"}),
            RowUpdate(mine[1]["Order ID"], {"Status": "ESCALATED"}),
        ],
    )
    triaged.run(MANAGER, "triage-and-assign")
    rows = {r["Order ID"]: r for r in triaged.rows("Assignments")}
    assert rows[mine[0]["Order ID"]]["Status"] == "RESOLVED"
    assert rows[mine[1]["Order ID"]]["Status"] == "ESCALATED"
    assert rows[mine[0]["Order ID"]]["Updated At"] == mine[0]["Updated At"]


class ResolveDuringTriage:
    """A workbook that lets a field agent resolve a ticket just before triage writes."""

    def __init__(self, inner, order_id):
        self.inner, self.order_id, self.fired = inner, order_id, False

    def read(self, tab, where=None):
        return self.inner.read(tab, where)

    def read_many(self, tabs):
        return self.inner.read_many(tabs)

    def append(self, tab, rows):
        return self.inner.append(tab, rows)

    def update(self, tab, updates):
        if tab == "Assignments" and not self.fired:
            self.fired = True
            self.inner.update(tab, [RowUpdate(self.order_id, {"Status": "RESOLVED"})])
        return self.inner.update(tab, updates)


def test_a_resolve_that_lands_mid_triage_stays_resolved(triaged):
    target = triaged.tickets_of(SARAH)[0]["Order ID"]
    inner = triaged.stores.workbook
    triaged.stores.workbook = ResolveDuringTriage(inner, target)
    data = triaged.run(MANAGER, "triage-and-assign").data
    triaged.stores.workbook = inner
    row = next(r for r in triaged.rows("Assignments") if r["Order ID"] == target)
    assert row["Status"] == "RESOLVED"
    assert data["counts"]["skipped_changed_during_triage"] == 1


def test_p1_orders_stuck_over_a_day_are_escalated_once(triaged):
    first = triaged.rows("Escalations")
    assert first, "the demo data has P1 orders stuck for days"
    assert all(e["From"] == "triage" and e["Target"] for e in first)
    triaged.run(MANAGER, "triage-and-assign")
    assert len(triaged.rows("Escalations")) == len(first)


def test_a_second_triage_while_one_runs_is_refused_naming_who_started_it(demo):
    demo.stores.state.acquire_lock("triage", "omar.lead@example.com", 240)
    with pytest.raises(Conflict, match="started by omar.lead@example.com"):
        demo.run(MANAGER, "triage-and-assign")
    assert demo.rows("Assignments") == []


def test_the_same_input_gives_the_same_assignment(tmp_path, registry, monkeypatch):
    from bot.demo.seed import seed_demo
    from bot.stores.factory import open_stores

    plans = []
    for name in ("a", "b"):
        stores = open_stores(tmp_path / name)
        seed_demo(tmp_path / name, stores.workbook, orders=80, seed=11)
        from conftest import Demo

        Demo(tmp_path / name, registry, stores).run(MANAGER, "triage-and-assign")
        plans.append(
            {r["Order ID"]: r["Assigned Agent"] for r in stores.workbook.read("Assignments")}
        )
    assert plans[0] == plans[1]


def test_triage_records_a_run_an_audit_entry_and_its_metrics(triaged):
    runs = triaged.stores.state.triage_runs()
    assert runs[-1]["status"] == "done" and runs[-1]["started_by"] == MANAGER
    assert any(e["action"] == "triage" for e in triaged.stores.state.audit_entries())
    execution = [e for e in triaged.stores.state.executions() if e["skill"] == "triage-and-assign"][
        -1
    ]
    assert execution["metrics"]["orders_triaged"] == 120
    assert 0 < execution["metrics"]["assignment_accuracy"] <= 1


def test_field_work_on_a_ticket_joins_the_workflow_of_the_triage_that_assigned_it(triaged):
    triage = [e for e in triaged.stores.state.executions() if e["skill"] == "triage-and-assign"][-1]
    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    triaged.chat(SARAH, f"order {oid}")
    opened = [e for e in triaged.stores.state.executions() if e["skill"] == "order-details"][-1]
    assert opened["workflow_id"] == triage["workflow_id"]
    assert opened["parent_id"] == triage["id"]


def test_demo_orders_cover_every_reason_and_the_team_corridors(demo):
    rows = demo.stores.warehouse.run(
        "SELECT corridor, stuck_reason, order_id FROM orders WHERE status = 'STUCK'", {}
    )
    assert len({r["stuck_reason"] for r in rows}) == 25
    assert {"AE", "GB", "US", "EU", "IN"} <= {r["corridor"] for r in rows}
    assert all(re.match(r"^[A-Z]{2}[A-Z0-9]{8}$", r["order_id"]) for r in rows)
