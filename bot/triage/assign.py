"""Load-balanced, deterministic assignment of scored orders to field agents.

Orders are taken highest priority first (then score, then order id). Each goes to the active
field agent, among those whose specializations include the reason's team and who still have
capacity, with the least priority-weighted load relative to capacity; ties go to the agent whose
email sorts first. Existing assignments are kept unless their agent is inactive, no longer fits,
or is over capacity (the lowest-priority tickets move first). Pinned tickets (a manager's
assignment) are placed first, with their agent, even over capacity or outside the agent's
specializations, and count toward that agent's load; the rest fill what room is left, going
to agents on shift (inside their working hours) before agents off shift, who take a ticket
only when no agent on shift has room. An agent marked away keeps their current and pinned
tickets but gets no new ones. The same input always gives the same result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol


@dataclass(frozen=True)
class Agent:
    email: str
    specializations: frozenset[str]
    capacity: int
    active: bool
    on_shift: bool = True  # inside their working hours at triage time
    away: bool = False  # marked away (bot/stores/away.py): keeps what it has, gets nothing new


class Placeable(Protocol):
    """What the planner reads of a ticket (``Ticket``, or triage's scored order)."""

    @property
    def order_id(self) -> str: ...
    @property
    def priority(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def team(self) -> str: ...


class Ticket(NamedTuple):
    """One scored order to place (a named tuple: triage makes one per pending order)."""

    order_id: str
    priority: str
    score: float
    team: str


@dataclass
class Plan:
    """Where every ticket goes: agent email, or unassigned."""

    assigned: dict[str, str] = field(default_factory=dict)
    kept: set[str] = field(default_factory=set)
    moved: set[str] = field(default_factory=set)
    new: set[str] = field(default_factory=set)
    unassigned: list[str] = field(default_factory=list)
    pinned: set[str] = field(default_factory=set)
    """The tickets placed by their pin (each also in kept, moved or new)."""


def _order_key(t: Placeable) -> tuple:
    return (t.priority, -t.score, t.order_id)


def plan_assignments(
    tickets: Sequence[Placeable],
    agents: list[Agent],
    current: dict[str, str],
    weights: dict[str, float],
    pinned: dict[str, str] | None = None,
) -> Plan:
    """Assign ``tickets`` given ``current`` (order id → agent email) assignments and
    ``pinned`` ones (order id → agent email: placed with that agent whatever its room or
    specializations, as long as the agent is active).

    Counts only grow while planning, so once no agent of a team has room, the team stays
    full: its remaining tickets are unassigned without looking at the agents again."""
    pool = {a.email: a for a in agents if a.active and a.capacity > 0}
    load = {e: 0.0 for e in pool}
    count = {e: 0 for e in pool}
    plan = Plan()
    ordered = sorted(tickets, key=_order_key)
    assigned = plan.assigned

    # 0. pinned tickets stay with their agent; they use up that agent's room first
    if pinned:
        active = {a.email for a in agents if a.active}
        for t in ordered:
            email = pinned.get(t.order_id)
            if not email or email not in active:
                continue
            assigned[t.order_id] = email
            plan.pinned.add(t.order_id)
            was = current.get(t.order_id)
            (plan.kept if was == email else plan.moved if was else plan.new).add(t.order_id)
            if email in pool:
                load[email] += weights.get(t.priority, 1)
                count[email] += 1

    # 1. keep current assignments that still fit, highest priority first, within capacity
    if current:
        for t in ordered:
            if t.order_id in assigned:
                continue
            email = current.get(t.order_id)
            agent = pool.get(email) if email else None
            if agent and t.team in agent.specializations and count[agent.email] < agent.capacity:
                assigned[t.order_id] = agent.email
                plan.kept.add(t.order_id)
                load[agent.email] += weights.get(t.priority, 1)
                count[agent.email] += 1

    # 2. place everything else with the least relative load
    covering: dict[str, list[Agent]] = {}  # team -> its agents, in pool order
    full: set[str] = set()  # teams with no room left
    unassigned = plan.unassigned
    for t in ordered:
        if t.order_id in assigned:
            continue
        if t.team in full:
            unassigned.append(t.order_id)
            continue
        team = covering.get(t.team)
        if team is None:
            team = covering[t.team] = [
                a for a in pool.values() if t.team in a.specializations and not a.away
            ]
        candidates = [a for a in team if count[a.email] < a.capacity]
        if not candidates:
            full.add(t.team)
            unassigned.append(t.order_id)
            continue
        best = min(candidates, key=lambda a: (not a.on_shift, load[a.email] / a.capacity, a.email))
        assigned[t.order_id] = best.email
        load[best.email] += weights.get(t.priority, 1)
        count[best.email] += 1
        (plan.moved if t.order_id in current else plan.new).add(t.order_id)
    return plan
