"""Assignment planning: complete, within capacity, fitting, deterministic, stable, prioritised."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.triage.assign import Agent, Plan, Ticket, plan_assignments
from bot.triage.scoring import PRIORITIES
from bot.yaml_safe import parse_yaml

WEIGHTS = parse_yaml(
    (Path(__file__).resolve().parents[1] / "shared" / "config" / "scoring.yaml").read_text()
)["priority_weights"]
TEAMS = ("kyc", "payout", "compliance")
GONE = "gone@example.com"  # an email in `current` that is not on the roster


SUBSETS = [frozenset(t for bit, t in enumerate(TEAMS) if mask >> bit & 1) for mask in range(8)]


def _decode_ticket(i: int, code: int) -> Ticket:
    code, priority = divmod(code, len(PRIORITIES))
    team, score = divmod(code, 101)  # integer scores 0..100, so ties happen
    return Ticket(f"ORD{i:03d}", PRIORITIES[priority], float(score), TEAMS[team])


def _decode_agent(i: int, code: int) -> Agent:
    code, active = divmod(code, 2)
    specializations, capacity = divmod(code, 11)  # capacity 0..10
    return Agent(f"agent{i}@example.com", SUBSETS[specializations], capacity, bool(active))


# Each ticket and agent is drawn as one integer and decoded: same coverage, a fraction of the
# generation cost of nested tuples, so 200 examples per property stay well under a second.
tickets_st = st.lists(
    st.integers(min_value=0, max_value=len(PRIORITIES) * 101 * len(TEAMS) - 1), max_size=25
).map(lambda codes: [_decode_ticket(i, c) for i, c in enumerate(codes)])
agents_st = st.lists(st.integers(min_value=0, max_value=2 * 11 * len(SUBSETS) - 1), max_size=6).map(
    lambda codes: [_decode_agent(i, c) for i, c in enumerate(codes)]
)


@st.composite
def scenario(draw) -> tuple[list[Ticket], list[Agent], dict[str, str]]:
    """Tickets, agents, and a `current` map that may point at any agent, a departed one, or
    order ids that are no longer pending."""
    tickets, agents = draw(tickets_st), draw(agents_st)
    emails = [a.email for a in agents] + [GONE]
    ids = [t.order_id for t in tickets] + ["OLD001", "OLD002"]
    # one integer per id: an index into emails, or past the end for "not currently assigned"
    picks = draw(st.lists(st.integers(0, 2 * len(emails)), min_size=len(ids), max_size=len(ids)))
    current = {o: emails[p] for o, p in zip(ids, picks, strict=True) if p < len(emails)}
    return tickets, agents, current


def plan_of(tickets, agents, current=None) -> Plan:
    return plan_assignments(tickets, agents, current or {}, WEIGHTS)


def agent(email: str, teams=("kyc",), capacity: int = 10, active: bool = True) -> Agent:
    return Agent(email, frozenset(teams), capacity, active)


def ticket(order_id: str, priority: str = "P3", score: float = 50.0, team="kyc") -> Ticket:
    return Ticket(order_id, priority, score, team)


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=200)
@given(scenario())
def test_every_ticket_is_either_assigned_or_unassigned_never_both_never_dropped(case):
    tickets, agents, current = case
    plan = plan_of(tickets, agents, current)
    ids = {t.order_id for t in tickets}
    assert len(plan.unassigned) == len(set(plan.unassigned))
    assert set(plan.assigned).isdisjoint(plan.unassigned)
    assert set(plan.assigned) | set(plan.unassigned) == ids
    # kept / moved / new split the assigned tickets exactly
    assert plan.kept | plan.moved | plan.new == set(plan.assigned)
    assert len(plan.kept) + len(plan.moved) + len(plan.new) == len(plan.assigned)


@settings(max_examples=200)
@given(scenario())
def test_no_agent_gets_more_tickets_than_their_capacity(case):
    tickets, agents, current = case
    load = Counter(plan_of(tickets, agents, current).assigned.values())
    capacity = {a.email: a.capacity for a in agents}
    for email, n in load.items():
        assert n <= capacity[email]


@settings(max_examples=200)
@given(scenario())
def test_tickets_go_only_to_active_agents_who_specialise_in_the_tickets_team(case):
    tickets, agents, current = case
    by_email = {a.email: a for a in agents}
    team = {t.order_id: t.team for t in tickets}
    for order_id, email in plan_of(tickets, agents, current).assigned.items():
        assert by_email[email].active
        assert team[order_id] in by_email[email].specializations


@settings(max_examples=200)
@given(scenario())
def test_a_ticket_is_unassigned_only_when_no_fitting_agent_has_room_left(case):
    tickets, agents, current = case
    plan = plan_of(tickets, agents, current)
    load = Counter(plan.assigned.values())
    team = {t.order_id: t.team for t in tickets}
    for order_id in plan.unassigned:
        for a in agents:
            if a.active and team[order_id] in a.specializations:
                assert load[a.email] >= a.capacity


@settings(max_examples=200)
@given(scenario(), st.randoms(use_true_random=False))
def test_same_input_in_any_order_gives_the_identical_plan(case, rnd):
    tickets, agents, current = case
    first = plan_of(tickets, agents, current)
    shuffled_tickets, shuffled_agents = list(tickets), list(agents)
    rnd.shuffle(shuffled_tickets)
    rnd.shuffle(shuffled_agents)
    shuffled_current = dict(rnd.sample(sorted(current.items()), len(current)))
    second = plan_of(shuffled_tickets, shuffled_agents, shuffled_current)
    assert second.assigned == first.assigned
    assert second.unassigned == first.unassigned
    assert (second.kept, second.moved, second.new) == (first.kept, first.moved, first.new)


@settings(max_examples=200)
@given(scenario())
def test_re_triage_of_a_plan_keeps_every_assignment_and_moves_nothing(case):
    tickets, agents, current = case
    plan = plan_of(tickets, agents, current)
    again = plan_of(tickets, agents, dict(plan.assigned))
    assert again.assigned == plan.assigned
    assert again.kept == set(plan.assigned)
    assert again.moved == set()
    assert again.new == set()
    assert again.unassigned == plan.unassigned


@settings(max_examples=200)
@given(scenario())
def test_kept_tickets_stay_with_their_agent_and_leave_inactive_or_unknown_agents(case):
    tickets, agents, current = case
    plan = plan_of(tickets, agents, current)
    for order_id in plan.kept:
        assert plan.assigned[order_id] == current[order_id]
    gone = {a.email for a in agents if not a.active} | {GONE}
    for t in tickets:
        if current.get(t.order_id) in gone:
            assert t.order_id not in plan.kept
            assert t.order_id in plan.moved or t.order_id in plan.unassigned


@settings(max_examples=200)
@given(tickets_st, st.integers(min_value=0, max_value=30))
def test_one_agent_short_of_capacity_takes_tickets_by_priority_then_score(tickets, capacity):
    solo = agent("solo@example.com", teams=TEAMS, capacity=capacity)
    plan = plan_of(tickets, [solo])
    expected = sorted(tickets, key=lambda t: (PRIORITIES.index(t.priority), -t.score, t.order_id))
    assert set(plan.assigned) == {t.order_id for t in expected[:capacity]}
    assert plan.unassigned == [t.order_id for t in expected[capacity:]]


# --- examples -----------------------------------------------------------------------------


def test_an_inactive_agents_current_tickets_move_to_an_active_colleague():
    tickets = [ticket("A1"), ticket("A2", priority="P1")]
    away = agent("away@example.com", active=False)
    here = agent("here@example.com")
    plan = plan_of(tickets, [away, here], {"A1": away.email, "A2": away.email})
    assert plan.assigned == {"A1": here.email, "A2": here.email}
    assert plan.moved == {"A1", "A2"}
    assert plan.kept == set()


def test_an_agent_who_no_longer_covers_the_team_loses_the_ticket():
    moved_on = agent("moved@example.com", teams=("payout",))
    kyc = agent("kyc@example.com", teams=("kyc",))
    plan = plan_of([ticket("K1", team="kyc")], [moved_on, kyc], {"K1": moved_on.email})
    assert plan.assigned == {"K1": kyc.email}
    assert plan.moved == {"K1"}


def test_an_over_capacity_agent_keeps_the_highest_priority_tickets_and_the_rest_move():
    full = agent("full@example.com", capacity=2)
    spare = agent("spare@example.com")
    tickets = [ticket("T3", "P3"), ticket("T1", "P1"), ticket("T5", "P5"), ticket("T2", "P2")]
    plan = plan_of(tickets, [full, spare], {t.order_id: full.email for t in tickets})
    assert plan.kept == {"T1", "T2"}
    assert {o for o, e in plan.assigned.items() if e == full.email} == {"T1", "T2"}
    assert plan.moved == {"T3", "T5"}
    assert plan.assigned["T3"] == plan.assigned["T5"] == spare.email


def test_p1_wins_the_last_slot_over_p5_even_with_a_lower_score_and_listed_second():
    one_slot = agent("one@example.com", capacity=1)
    plan = plan_of([ticket("LOW", "P5", score=99), ticket("HIGH", "P1", score=1)], [one_slot])
    assert plan.assigned == {"HIGH": one_slot.email}
    assert plan.unassigned == ["LOW"]


def test_within_a_priority_the_higher_score_wins_the_last_slot():
    one_slot = agent("one@example.com", capacity=1)
    plan = plan_of([ticket("B", "P2", score=40), ticket("A", "P2", score=80)], [one_slot])
    assert plan.assigned == {"A": one_slot.email}
    assert plan.unassigned == ["B"]


def test_two_identical_agents_split_ten_equal_tickets_five_each():
    tickets = [ticket(f"E{i}") for i in range(10)]
    plan = plan_of(tickets, [agent("a@example.com"), agent("b@example.com")])
    assert Counter(plan.assigned.values()) == {"a@example.com": 5, "b@example.com": 5}
    assert plan.new == {t.order_id for t in tickets}


def test_load_is_balanced_relative_to_capacity():
    big, small = agent("a@example.com", capacity=10), agent("b@example.com", capacity=5)
    plan = plan_of([ticket(f"E{i}") for i in range(6)], [big, small])
    assert Counter(plan.assigned.values()) == {big.email: 4, small.email: 2}


def test_existing_heavy_tickets_count_towards_an_agents_load():
    busy, free = agent("a@example.com"), agent("b@example.com")
    tickets = [ticket("URGENT", "P1")] + [ticket(f"N{i}", "P5") for i in range(4)]
    plan = plan_of(tickets, [busy, free], {"URGENT": busy.email})
    # a's P1 weighs as much as five P5s, so all four new P5s go to b first
    assert {o for o, e in plan.assigned.items() if e == free.email} == {f"N{i}" for i in range(4)}


def test_agents_with_zero_capacity_or_no_agents_leave_tickets_unassigned():
    tickets = [ticket("X1"), ticket("X2", "P1")]
    assert plan_of(tickets, [agent("zero@example.com", capacity=0)]).unassigned == ["X2", "X1"]
    assert plan_of(tickets, []).unassigned == ["X2", "X1"]
