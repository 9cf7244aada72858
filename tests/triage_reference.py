"""The straightforward triage computations, as they were before triage was tuned: ``strptime``
parsing, band interpolation that rebuilds its lists per call, a full ``Score`` (with its
explanation) per order, a candidate scan per ticket and the summary built from the lot. The
equivalence tests (tests/test_triage_equivalence.py) check that the tuned code gives exactly
these scores, plans and summaries. Keep it simple and slow: it is the reference."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_ts(text: object) -> datetime:
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=UTC)
    return datetime.strptime(str(text)[:19].replace("T", " "), TS_FORMAT).replace(tzinfo=UTC)


def hours_between(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)


@dataclass(frozen=True)
class Score:
    priority: str
    score: float
    why: str
    amount_base: float
    sla_ratio: float


def _interpolate(bands: list[list[float]], x: float) -> float:
    xs = [b[0] for b in bands]
    if x <= xs[0]:
        return float(bands[0][1])
    if x >= xs[-1]:
        return float(bands[-1][1])
    i = bisect_right(xs, x) - 1
    (x0, y0), (x1, y1) = bands[i], bands[i + 1]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


class Scorer:
    def __init__(self, config: dict):
        self.rates = config["rates_to_base"]
        self.base = config["base_currency"]
        self.w_time = float(config["weights"]["time"])
        self.w_amount = float(config["weights"]["amount"])
        self.time_bands = config["time_bands"]
        self.amount_bands = config["amount_bands"]
        self.thresholds = [(p, float(config["priorities"][p])) for p in PRIORITIES[:-1]]

    def priority_of(self, score: float) -> str:
        for priority, minimum in self.thresholds:
            if score >= minimum:
                return priority
        return PRIORITIES[-1]

    def score(self, hours: float, sla_hours: float, amount: float, currency: str) -> Score:
        ratio = max(0.0, hours) / max(float(sla_hours), 0.1)
        base = float(amount) * float(self.rates[currency])
        value = round(
            self.w_time * _interpolate(self.time_bands, ratio)
            + self.w_amount * _interpolate(self.amount_bands, base),
            2,
        )
        state = "over SLA" if ratio >= 1 else "within SLA"
        why = (
            f"{hours:.0f}h stuck vs {sla_hours:g}h SLA ({ratio:.1f}×, {state}); "
            f"{base:,.0f} {self.base}"
        )
        return Score(self.priority_of(value), value, why, round(base, 2), round(ratio, 3))


@dataclass(frozen=True)
class Ticket:
    order_id: str
    priority: str
    score: float
    team: str


@dataclass
class Plan:
    assigned: dict[str, str] = field(default_factory=dict)
    kept: set[str] = field(default_factory=set)
    moved: set[str] = field(default_factory=set)
    new: set[str] = field(default_factory=set)
    unassigned: list[str] = field(default_factory=list)


def plan_assignments(tickets, agents, current: dict[str, str], weights: dict) -> Plan:
    pool = {a.email: a for a in agents if a.active and a.capacity > 0}
    load = {e: 0.0 for e in pool}
    count = {e: 0 for e in pool}
    plan = Plan()
    ordered = sorted(tickets, key=lambda t: (t.priority, -t.score, t.order_id))
    for t in ordered:
        email = current.get(t.order_id)
        agent = pool.get(email) if email else None
        if email and agent and t.team in agent.specializations and count[email] < agent.capacity:
            plan.assigned[t.order_id] = email
            plan.kept.add(t.order_id)
            load[email] += weights.get(t.priority, 1)
            count[email] += 1
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


DEFAULT_REASON = {"team": "ops", "sla_hours": 24, "actions": [], "escalate_to": "ECM manager"}


def triage_reference(
    pending: list[dict],
    reasons: dict,
    scoring: dict,
    agents: list,
    current: dict[str, str],
    moment: datetime,
) -> dict:
    """Scores, plan and the summary's per-agent tickets and unassigned list for ``pending``
    (no field-owned rows, no conflicts), computed the straightforward way."""
    scorer = Scorer(scoring)
    orders, tickets = {}, []
    for o in pending:
        reason = reasons.get(o["stuck_reason"]) or DEFAULT_REASON
        hours = hours_between(parse_ts(o["stuck_since"]), moment)
        s = scorer.score(hours, reason["sla_hours"], o["amount"], o["currency"])
        orders[o["order_id"]] = (o, reason, round(hours, 1), s)
        tickets.append(Ticket(o["order_id"], s.priority, s.score, reason["team"]))
    plan = plan_assignments(tickets, agents, current, scoring["priority_weights"])
    per_agent: dict[str, list[dict]] = {}
    for oid, email in plan.assigned.items():
        o, reason, hours, s = orders[oid]
        per_agent.setdefault(email, []).append(
            {
                "order_id": oid,
                "priority": s.priority,
                "score": s.score,
                "why": s.why,
                "amount": o["amount"],
                "currency": o["currency"],
                "hours": hours,
                "reason": o["stuck_reason"],
                "actions": reason.get("actions", []),
            }
        )
    agents_out = []
    for email in sorted(per_agent, key=lambda e: (-len(per_agent[e]), e)):
        ts = sorted(per_agent[email], key=lambda t: (t["priority"], -t["score"], t["order_id"]))
        agents_out.append(
            {
                "agent": email,
                "tickets": ts,
                "by_priority": dict(sorted(Counter(t["priority"] for t in ts).items())),
            }
        )
    unassigned = [
        {
            "order_id": oid,
            "priority": orders[oid][3].priority,
            "reason": orders[oid][0]["stuck_reason"],
            "team": orders[oid][1]["team"],
            "amount": orders[oid][0]["amount"],
            "currency": orders[oid][0]["currency"],
            "hours": round(orders[oid][2], 1),
        }
        for oid in plan.unassigned
    ]
    limit = float(scoring.get("escalate_p1_after_hours", 24))
    escalated = [
        {"order_id": oid, "reason": f"P1 stuck {h:.0f}h (> {limit:g}h): {s.why}"}
        for oid, (_o, _r, h, s) in orders.items()
        if s.priority == "P1" and h > limit
    ]
    return {
        "scores": {oid: v[3] for oid, v in orders.items()},
        "plan": plan,
        "agents": agents_out,
        "unassigned": unassigned,
        "escalated": escalated,
    }
