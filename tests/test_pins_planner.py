"""The planner with pins: a manager's assignment is placed first with its agent, whatever
their room or specializations, counts toward their capacity, and the rest fill what is left."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from test_assignment import WEIGHTS, agent, scenario, ticket

from bot.triage.assign import plan_assignments


def plan_of(tickets, agents, current=None, pinned=None):
    return plan_assignments(tickets, agents, current or {}, WEIGHTS, pinned)


def test_a_pinned_ticket_stays_with_its_agent_outside_their_specializations():
    tickets = [ticket("PAY1", team="payments")]
    agents = [agent("james@x", teams=("ops",)), agent("priya@x", teams=("payments",))]
    plan = plan_of(tickets, agents, {"PAY1": "james@x"}, {"PAY1": "james@x"})
    assert plan.assigned == {"PAY1": "james@x"}
    assert plan.pinned == {"PAY1"} and plan.kept == {"PAY1"}


def test_a_pinned_ticket_stays_with_an_agent_already_at_capacity_and_counts_toward_it():
    tickets = [ticket(f"K{i}", "P2") for i in range(3)] + [ticket("PIN", "P5")]
    agents = [agent("a@x", capacity=2), agent("b@x", capacity=5)]
    current = {"K0": "a@x", "K1": "a@x", "K2": "b@x", "PIN": "a@x"}
    plan = plan_of(tickets, agents, current, {"PIN": "a@x"})
    assert plan.assigned["PIN"] == "a@x"  # the lowest priority, yet placed first
    load = Counter(plan.assigned.values())
    assert load["a@x"] == 2  # the pin took one of her two places: one of her others moved
    assert plan.kept == {"PIN", "K0", "K2"} and plan.moved == {"K1"}
    assert plan.assigned["K1"] == "b@x"


def test_pins_over_capacity_leave_the_agent_nothing_else():
    tickets = [ticket("P1A", "P1"), ticket("PIN1", "P5"), ticket("PIN2", "P5")]
    agents = [agent("a@x", capacity=1)]
    plan = plan_of(tickets, agents, {}, {"PIN1": "a@x", "PIN2": "a@x"})
    assert plan.assigned == {"PIN1": "a@x", "PIN2": "a@x"}  # two pins, capacity one
    assert plan.unassigned == ["P1A"]
    assert plan.new == {"PIN1", "PIN2"}


def test_a_pin_to_an_inactive_agent_is_not_honoured():
    tickets = [ticket("K1")]
    agents = [agent("gone@x", active=False), agent("b@x")]
    plan = plan_of(tickets, agents, {"K1": "gone@x"}, {"K1": "gone@x"})
    assert plan.assigned == {"K1": "b@x"} and not plan.pinned and plan.moved == {"K1"}


def test_a_pin_to_an_agent_with_no_capacity_at_all_is_still_honoured():
    tickets = [ticket("K1"), ticket("K2")]
    agents = [agent("zero@x", capacity=0), agent("b@x")]
    plan = plan_of(tickets, agents, {}, {"K1": "zero@x"})
    assert plan.assigned == {"K1": "zero@x", "K2": "b@x"}


def test_a_pin_moves_a_ticket_its_current_agent_held():
    plan = plan_of([ticket("K1")], [agent("a@x"), agent("b@x")], {"K1": "a@x"}, {"K1": "b@x"})
    assert plan.assigned == {"K1": "b@x"} and plan.moved == {"K1"} and plan.pinned == {"K1"}


def test_pins_of_orders_not_being_planned_change_nothing():
    tickets = [ticket("K1")]
    agents = [agent("a@x")]
    assert plan_of(tickets, agents, {}, {"GONE1": "a@x"}).assigned == {"K1": "a@x"}


@st.composite
def pinned_scenario(draw):
    tickets, agents, current = draw(scenario())
    emails = [a.email for a in agents] or ["nobody@x"]
    picks = draw(
        st.lists(st.integers(0, 2 * len(emails)), min_size=len(tickets), max_size=len(tickets))
    )
    pinned = {t.order_id: emails[p] for t, p in zip(tickets, picks, strict=True) if p < len(emails)}
    return tickets, agents, current, pinned


@settings(max_examples=200)
@given(pinned_scenario())
def test_pins_hold_and_everything_else_fits_in_the_room_they_leave(case):
    tickets, agents, current, pinned = case
    plan = plan_of(tickets, agents, current, pinned)
    active = {a.email for a in agents if a.active}
    honoured = {oid for oid, email in pinned.items() if email in active}
    assert plan.pinned == honoured
    for oid in honoured:
        assert plan.assigned[oid] == pinned[oid]
    ids = {t.order_id for t in tickets}
    assert set(plan.assigned) | set(plan.unassigned) == ids
    assert set(plan.assigned).isdisjoint(plan.unassigned)
    assert plan.kept | plan.moved | plan.new == set(plan.assigned)
    assert len(plan.kept) + len(plan.moved) + len(plan.new) == len(plan.assigned)
    by_email = {a.email: a for a in agents}
    team = {t.order_id: t.team for t in tickets}
    pins_of = Counter(pinned[oid] for oid in honoured)
    others = Counter(e for oid, e in plan.assigned.items() if oid not in honoured)
    for email, n in others.items():  # unpinned tickets fit, in the room the pins left
        a = by_email[email]
        assert a.active and all(
            team[oid] in a.specializations
            for oid, e in plan.assigned.items()
            if e == email and oid not in honoured
        )
        assert n <= max(0, a.capacity - pins_of[email])


@settings(max_examples=100)
@given(pinned_scenario(), st.randoms(use_true_random=False))
def test_the_same_pins_in_any_order_give_the_identical_plan(case, rnd):
    tickets, agents, current, pinned = case
    first = plan_of(tickets, agents, current, pinned)
    shuffled = list(tickets)
    rnd.shuffle(shuffled)
    again = plan_of(shuffled, list(reversed(agents)), current, dict(reversed(pinned.items())))
    assert (again.assigned, again.unassigned, again.pinned) == (
        first.assigned,
        first.unassigned,
        first.pinned,
    )
