"""Nothing without an owner: a ticket a field agent closed while its order is still stuck is
reopened by triage after a grace period (to the same agent where possible), and a manager can
reopen one by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import MANAGER, SARAH

from bot.clock import now, ts
from bot.errors import NeedsConfirmation
from bot.present import present
from bot.present.text import to_text
from bot.stores.workbook import RowUpdate


def close_ticket(demo, verb: str, hours_ago: float) -> str:
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    if verb == "resolve":
        demo.run(SARAH, "resolve-ticket", order_id=oid, notes="partner confirmed")
    else:
        demo.run(SARAH, "escalate-ticket", order_id=oid, reason="bank down")
    stamp = ts(now() - timedelta(hours=hours_ago))
    demo.stores.workbook.update("Assignments", [RowUpdate(oid, {"Updated At": stamp})])
    return oid


@pytest.mark.parametrize(("verb", "grace"), [("resolve", 2), ("escalate", 24)])
def test_triage_reopens_a_closed_ticket_still_stuck_after_its_grace_to_the_same_agent(
    triaged, verb, grace
):
    oid = close_ticket(triaged, verb, hours_ago=grace + 0.5)
    result = triaged.run(MANAGER, "triage-and-assign")
    row = triaged.stores.workbook.find("Assignments", oid)
    assert (row["Status"], row["Assigned Agent"]) == ("ASSIGNED", SARAH)
    assert result.data["reopened"] == [oid] and result.data["counts"]["reopened"] == 1
    (ticket,) = [t for a in result.data["agents"] for t in a["tickets"] if t["order_id"] == oid]
    assert ticket["reopened"]
    assert "reopened 1" in to_text(present("triage-and-assign", result.data))


@pytest.mark.parametrize(("verb", "grace"), [("resolve", 2), ("escalate", 24)])
def test_a_closed_ticket_within_its_grace_is_left_with_the_field(triaged, verb, grace):
    oid = close_ticket(triaged, verb, hours_ago=grace - 1)
    result = triaged.run(MANAGER, "triage-and-assign")
    assert triaged.stores.workbook.find("Assignments", oid)["Status"] != "ASSIGNED"
    assert result.data["reopened"] == []


def test_a_manager_reopens_a_resolved_ticket_by_assigning_it_once_confirmed(triaged):
    """Within the field's grace (2 h after a resolve) a reassignment reopens the ticket only
    when the manager confirms: a reassign racing the agent's resolve never undoes it."""
    oid = close_ticket(triaged, "resolve", hours_ago=0)
    with pytest.raises(NeedsConfirmation, match=f"{oid} was resolved by @sarah.ops 0 min ago"):
        triaged.run(MANAGER, "assign-tickets", order_id=oid, agent=SARAH, reason="still stuck")
    assert triaged.stores.workbook.find("Assignments", oid)["Status"] == "RESOLVED"
    result = triaged.run(
        MANAGER,
        "assign-tickets",
        order_id=oid,
        agent=SARAH,
        reason="customer says still stuck",
        confirm=True,
    )
    row = triaged.stores.workbook.find("Assignments", oid)
    assert (row["Status"], row["Assigned Agent"]) == ("ASSIGNED", SARAH)
    assert result.data["reopened_from"] == "RESOLVED"
    assert "reopened from RESOLVED" in to_text(present("assign-tickets", result.data))
    assert triaged.stores.state.audit_entries(oid)[-1]["action"] == "reopen"
