"""Load-balanced, deterministic assignment of scored orders to field agents.

Orders are taken highest priority first (then score, then order id). Each goes to the active
field agent, among those whose specializations include the reason's team and who still have
capacity, with the least priority-weighted load relative to capacity; ties go to the agent whose
email sorts first. Existing assignments are kept unless their agent is inactive, no longer fits,
or is over capacity (the lowest-priority tickets move first). The same input always gives the
same result."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Agent:
    email: str
    specializations: frozenset[str]
    capacity: int
    active: bool


@dataclass(frozen=True)
class Ticket:
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


def _order_key(t: Ticket) -> tuple:
    return (t.priority, -t.score, t.order_id)


def plan_assignments(
    tickets: list[Ticket],
    agents: list[Agent],
    current: dict[str, str],
    weights: dict[str, float],
) -> Plan:
    """Assign ``tickets`` given ``current`` (order id → agent email) assignments."""
    pool = {a.email: a for a in agents if a.active and a.capacity > 0}
    load = {e: 0.0 for e in pool}
    count = {e: 0 for e in pool}
    plan = Plan()
    ordered = sorted(tickets, key=_order_key)

    # 1. keep current assignments that still fit, highest priority first, within capacity
    for t in ordered:
        email = current.get(t.order_id)
        agent = pool.get(email) if email else None
        if email and agent and t.team in agent.specializations and count[email] < agent.capacity:
            plan.assigned[t.order_id] = email
            plan.kept.add(t.order_id)
            load[email] += weights.get(t.priority, 1)
            count[email] += 1

    # 2. place everything else with the least relative load
    for t in ordered:
        if t.order_id in plan.assigned:
            continue
        candidates = [
            a for a in pool.values() if t.team in a.specializations and count[a.email] < a.capacity
        ]
        if not candidates:
            plan.unassigned.append(t.order_id)
            continue
        best = min(candidates, key=lambda a: (load[a.email] / a.capacity, a.email))
        plan.assigned[t.order_id] = best.email
        load[best.email] += weights.get(t.priority, 1)
        count[best.email] += 1
        (plan.moved if t.order_id in current else plan.new).add(t.order_id)
    return plan
