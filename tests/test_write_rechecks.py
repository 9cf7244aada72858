"""Every write re-reads the caller's roster row inside its transaction: a member who was made
inactive, removed or moved to the other role since their request began (an identity held by
an open modal, a cached lookup, a proposal) writes nothing."""

from __future__ import annotations

import pytest
from conftest import MANAGER, SARAH

from bot.errors import AccessDenied, NotOnRoster
from bot.runtime.dispatch import confirm
from bot.runtime.executor import execute
from bot.runtime.roster import Roster
from bot.stores.workbook import RowUpdate


def snapshot(demo):
    tabs = {t: demo.rows(t) for t in ("Assignments", "Resolutions", "Escalations")}
    return tabs, len(demo.stores.state.audit_entries())


def member(demo, email):
    return Roster.load(demo.stores.workbook).resolve(email)


def change_roster(demo, email, **cells):
    demo.stores.workbook.update("Agents", [RowUpdate(email, cells)])


@pytest.mark.parametrize(
    ("skill", "args"),
    [
        ("resolve-ticket", {"notes": "replayed the webhook"}),
        ("escalate-ticket", {"reason": "partner portal down"}),
        ("order-details", {}),
    ],
)
def test_a_field_agent_made_inactive_mid_request_writes_nothing(triaged, skill, args):
    sarah = member(triaged, SARAH)  # who the request was resolved to, before the change
    oid = triaged.tickets_of(SARAH, statuses=("ASSIGNED",))[0]["Order ID"]
    change_roster(triaged, SARAH, active="FALSE")
    before = snapshot(triaged)
    with pytest.raises(NotOnRoster, match="no longer an active member"):
        execute(triaged.registry, triaged.stores, skill, sarah, {"order_id": oid, **args})
    assert snapshot(triaged) == before


def test_a_manager_demoted_to_field_mid_request_cannot_reassign_and_is_recorded(triaged):
    maya = member(triaged, MANAGER)
    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    change_roster(triaged, MANAGER, role="field")
    before = snapshot(triaged)
    with pytest.raises(AccessDenied, match="now on the ECM roster as field"):
        execute(
            triaged.registry,
            triaged.stores,
            "assign-tickets",
            maya,
            {"order_id": oid, "agent": "james.ops@example.com", "reason": "backlog"},
        )
    assert snapshot(triaged) == before
    denial = triaged.stores.state.denials()[-1]
    assert denial["caller"] == MANAGER and denial["skill"] == "assign-tickets"


def test_a_manager_removed_from_the_roster_mid_triage_writes_no_assignment(demo):
    maya = member(demo, MANAGER)
    demo.stores.db.execute("DELETE FROM agents WHERE email = ?", [MANAGER])
    with pytest.raises(NotOnRoster):
        execute(demo.registry, demo.stores, "triage-and-assign", maya)
    assert demo.rows("Assignments") == []


def test_a_proposal_confirmed_after_its_owner_was_deactivated_does_nothing(triaged):
    sarah = member(triaged, SARAH)
    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    triaged.stores.state.save_proposal(
        "p1", SARAH, "resolve-ticket", {"order_id": oid, "notes": "replayed the webhook"}
    )
    change_roster(triaged, SARAH, active="no")
    before = snapshot(triaged)
    with pytest.raises(NotOnRoster):
        confirm(triaged.registry, triaged.stores, sarah, "p1")
    assert snapshot(triaged) == before


def test_the_scheduler_and_the_cli_operator_still_write_without_a_roster_row(demo):
    from bot.runtime.executor import system_member

    result = execute(demo.registry, demo.stores, "triage-and-assign", system_member())
    assert result.data["counts"] and demo.rows("Assignments")
