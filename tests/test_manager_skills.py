"""assign-tickets, run-ecm, pattern-intelligence and ecm-daily-flow through the chat path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import MANAGER, SARAH

from bot.clock import now, ts
from bot.errors import InputError, NotOnRoster
from bot.present import result_text
from bot.stores.workbook import RowUpdate


def snapshot(demo):
    return {tab: demo.rows(tab) for tab in ("Agents", "Assignments", "Resolutions", "Escalations")}


def test_a_manager_reassigns_a_ticket_and_it_is_audited(triaged):
    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    reply = triaged.chat(MANAGER, f"assign {oid} @james.ops confirm partner desk backlog")
    assert reply.result.data["to"] == "james.ops@example.com"
    row = next(r for r in triaged.rows("Assignments") if r["Order ID"] == oid)
    assert row["Assigned Agent"] == "james.ops@example.com" and row["Status"] == "ASSIGNED"
    audit = triaged.stores.state.audit_entries(oid)
    assert audit and audit[-1]["actor"] == MANAGER and "partner desk backlog" in audit[-1]["after"]
    assert SARAH in audit[-1]["before"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("assign {oid} @nobody.here moving it", NotOnRoster),
        ("assign {oid} @tom.away he is back", InputError),
        ("assign {oid} @maya.manager managers do not take tickets", InputError),
        ("assign {oid} @james.ops", InputError),
        ("assign XX-123 @james.ops bad id", InputError),
    ],
    ids=["unknown-agent", "inactive-agent", "manager-only", "no-reason", "bad-id"],
    # the same agent is no longer a refusal: it pins the ticket there (test_queue_overrides)
)
def test_bad_reassignments_are_refused_and_change_nothing(triaged, text, error):
    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    before = snapshot(triaged)
    with pytest.raises(error):
        triaged.chat(MANAGER, text.format(oid=oid))
    assert snapshot(triaged) == before


def test_the_dashboard_counts_open_tickets_breaches_and_resolutions(triaged):
    data = triaged.chat(MANAGER, "dashboard").result.data
    assert data["open"] == len(triaged.tickets_of(SARAH)) + sum(
        1
        for r in triaged.rows("Assignments")
        if r["Status"] in ("ASSIGNED", "IN_PROGRESS", "ESCALATED") and r["Assigned Agent"] != SARAH
    )
    assert sum(data["by_priority"].values()) == data["open"]
    assert all(b["hours"] > b["sla_hours"] for b in data["sla_breaches"])
    assert data["resolved_today"] == 0 and data["median_minutes_to_resolve"] is None


def test_the_dashboard_says_what_its_median_measures(triaged):
    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    assigned = ts(now() - timedelta(minutes=6))
    triaged.stores.workbook.update("Assignments", [RowUpdate(oid, {"Assigned At": assigned})])
    triaged.chat(SARAH, f"resolve {oid} replayed the webhook, LULU confirmed")
    text = result_text(triaged.chat(MANAGER, "dashboard").result)
    assert "✅ Resolved today: 1 · median 6 min from assignment to resolution" in text
    assert "(the SLA counts from when the order got stuck)" in text


def test_pattern_intelligence_finds_the_planted_lulu_spike(demo):
    data = demo.chat(MANAGER, "patterns").result.data
    flagged = {(a["dimension"], a["value"]) for a in data["anomalies"]}
    assert ("stuck_reason", "LULU_NOT_CONFIRMED") in flagged
    top = data["anomalies"][0]
    assert top["observed"] >= 5 and top["p_value"] < 0.001 and top["ratio"] > 1
    assert [a["p_value"] for a in data["anomalies"]] == sorted(
        a["p_value"] for a in data["anomalies"]
    )


def test_the_daily_flow_links_triage_and_patterns_under_one_workflow(demo):
    result = demo.chat(MANAGER, "daily flow").result
    runs = [e for e in demo.stores.state.executions() if e["workflow_id"] == result.workflow_id]
    assert {e["skill"] for e in runs} == {
        "ecm-daily-flow",
        "triage-and-assign",
        "pattern-intelligence",
    }
    children = [e for e in runs if e["skill"] != "ecm-daily-flow"]
    assert all(e["parent_id"] == result.execution_id for e in children)
    assert result.data["highlights"]
