"""triage-and-assign: score every stuck order, load-balance it onto field agents, and write the
Assignments tab per order (never clearing it, never overwriting a field agent's status). A
manager's pinned assignment (``bot.stores.pins``) stays with its agent; a pin whose ticket
ended or moved is removed with the run's writes."""

from __future__ import annotations

import time
from collections import Counter

from bot.bulk import collector_paused
from bot.canary import shadow
from bot.canary.diff import Placement
from bot.canary.shadow import TriageInput
from bot.clock import hours_between, parse_ts, ts
from bot.runtime.roster import Roster
from bot.runtime.skill_run import SkillContext
from bot.stores.away import AwayStore
from bot.stores.pins import Pins
from bot.stores.workbook import OPEN_STATUSES, WAITING, RowUpdate
from bot.triage.assign import Agent, plan_assignments
from bot.triage.pending import Scored, score_pending
from bot.triage.scoring import Score, Scorer

FIELD_OWNED = ("RESOLVED", "ESCALATED")  # statuses a field agent set; left alone in their grace
REOPEN_AFTER_HOURS = {"RESOLVED": 2.0, "ESCALATED": 24.0}
LOCK = "triage"
LISTED = 50
"""The result lists the top this many unassigned and escalated orders (with their counts);
``full_lists`` (``ecm-bot triage --json``) lists them all."""


def run(
    ctx: SkillContext,
    dry_run: bool = False,
    full_lists: bool = False,
    shadow_input: TriageInput | None = None,
    **_: object,
) -> dict:
    """Run triage under a lock, so a second concurrent triage is refused. A real run whose
    skill has a shadow candidate then runs it on the same input (``bot.canary.shadow``), once
    the live run's execution is recorded (``ctx.after``: its duration excludes the shadow's);
    a candidate's shadow run (``shadow_input``) is a dry run on that input, with its plan."""
    for tool in ("read_pending_list", "score_orders", "assign_orders", "read_roster"):
        ctx.tool(tool)
    if shadow_input is not None:
        plan: dict[str, Placement] = {}
        summary = triage(ctx, True, None, shadow_input, plan)
        return {**summary, "plan": plan}
    shadowed = shadow.wanted(ctx, dry_run)
    state = ctx.stores.state
    ttl = ctx.skill.config.runtime.timeout * 2
    taken = state.acquire_lock(LOCK, ctx.caller.email, ttl)
    if taken.took_over:
        state.fail_unfinished_runs(taken.took_over)
    state.start_triage_run(ctx.execution_id, ctx.workflow_id, ctx.caller.email, dry_run)
    given: TriageInput | None = None
    placements: dict[str, Placement] | None = None
    try:
        with collector_paused():  # hundreds of thousands of rows and scores, no cycles
            if shadowed:
                given, placements = read_input(ctx), {}
            summary = triage(ctx, dry_run, None if full_lists else LISTED, given, placements)
        if taken.took_over:
            summary["recovered"] = f"Took over: {taken.took_over}."
        state.finish_triage_run(ctx.execution_id, "done", summary["counts"])
    except BaseException:
        state.finish_triage_run(ctx.execution_id, "failed", {})
        raise
    finally:
        state.release_lock(LOCK, ctx.caller.email)
    if given is not None and placements is not None:  # the live run has committed
        live_input, plan = given, placements

        def shadow_run() -> None:
            summary["canary"] = shadow.after_live(ctx, live_input, plan)

        ctx.after.append(shadow_run)
    return summary


def read_input(ctx: SkillContext) -> TriageInput:
    """What a triage reads: the pending list, the tabs and the pins (one request each)."""
    return TriageInput(
        ctx.query("ecm-pending-list"),
        ctx.workbook.read_many(["Agents", "Assignments", "Escalations"]),
        Pins(ctx.stores.db).all(),
    )


def triage(
    ctx: SkillContext,
    dry_run: bool,
    listed: int | None = LISTED,
    given: TriageInput | None = None,
    placements: dict[str, Placement] | None = None,
) -> dict:
    """One triage, on ``given`` input when it was read already (a shadow run gets its live
    run's); ``placements`` is filled with the plan: every order's agent and priority."""
    steps = _Steps()
    moment = ctx.at
    pending = ctx.query("ecm-pending-list") if given is None else given.pending
    steps.done("read_pending")
    reasons = ctx.resources.stuck_reasons()
    scoring = ctx.resources.scoring()
    scorer = Scorer(scoring)
    if given is None:
        tabs = ctx.workbook.read_many(["Agents", "Assignments", "Escalations"])  # one request
    else:
        tabs = given.tabs
    roster = Roster(tabs["Agents"])
    away = AwayStore(ctx.stores.db).away_at(moment)  # they get no new tickets
    agents = [
        Agent(m.email, m.specializations, m.capacity, m.active, m.on_shift(moment), m.email in away)
        for m in roster.field_agents()
    ]
    rows = {r["Order ID"]: r for r in tabs["Assignments"]}
    escalated_before = {r["Order ID"] for r in tabs["Escalations"]}
    pins = Pins(ctx.stores.db).all() if given is None else given.pins
    steps.done("read_tabs")

    reopen_after = {**REOPEN_AFTER_HOURS, **(scoring.get("reopen_after_hours") or {})}
    scored = score_pending(pending, reasons, scorer, moment)
    steps.done("score")
    orders: dict[str, Scored] = {}  # order id -> order, reason, hours and score
    tickets: list[Scored] = []
    current: dict[str, str] = {}
    skipped_field: list[str] = []
    reopened: set[str] = set()
    pinned: dict[str, str] = {}  # order id -> the agent a manager pinned it to
    held: set[str] = set()  # the pins that still hold
    waiting: set[str] = set()  # snoozed by their owner: kept with them, like a pin
    pinnable = {a.email for a in agents if a.active}
    for entry in scored:
        oid = entry.order_id
        row = rows.get(oid)
        if row is not None:
            status = row["Status"]
            if status in FIELD_OWNED:
                if _hours_since(row.get("Updated At"), moment) < float(reopen_after[status]):
                    skipped_field.append(oid)
                    continue
                reopened.add(oid)  # closed by the field, yet still stuck: nobody owns it
                if row["Assigned Agent"]:
                    current[oid] = row["Assigned Agent"].lower()  # back to the same agent
            elif status in OPEN_STATUSES and row["Assigned Agent"]:
                current[oid] = row["Assigned Agent"].lower()
        pin = pins.get(oid)
        if pin is not None and pin.agent in pinnable and pin.holds(row):
            pinned[oid] = pin.agent
            held.add(oid)
        owner = current.get(oid)
        if row is not None and row["Status"] == WAITING and owner in pinnable:
            pinned[oid] = owner  # its owner is waiting on someone: it stays theirs, WAITING
            waiting.add(oid)
        orders[oid] = entry
        tickets.append(entry)  # a scored order is the planner's ticket

    stale_pins = sorted(set(pins) - held)  # ended, moved, or their agent is gone
    plan = plan_assignments(tickets, agents, current, scoring["priority_weights"], pinned)
    steps.done("plan")
    explained = _Explained(scorer, orders)
    if placements is not None:
        placements.update(_placements(plan, orders, explained))
    stamp, appends, updates, escalations = ts(moment), [], [], []
    for oid, email in plan.assigned.items():
        info, row = orders[oid], rows.get(oid)
        s, o = explained[oid], info.order
        values = {
            "Priority": s.priority,
            "Score": s.score,
            "Why": s.why,
            "Hours Stuck at triage": round(info.hours, 1),
            "Updated At": stamp,
            "Triage Run": ctx.execution_id,
        }
        if row is None:
            appends.append(
                {
                    "Order ID": oid,
                    **values,
                    "Stuck Reason": o["stuck_reason"],
                    "Amount": o["amount"],
                    "Currency": o["currency"],
                    "Assigned Agent": email,
                    "Assigned At": stamp,
                    "Status": "ASSIGNED",
                }
            )
            continue
        expect = {"Status": row["Status"], "Assigned Agent": row["Assigned Agent"]}
        if oid not in plan.kept or oid in reopened:  # moved, or reopened
            values.update({"Assigned Agent": email, "Assigned At": stamp, "Status": "ASSIGNED"})
        updates.append(RowUpdate(oid, values, expect))
    pending_ids = {o["order_id"] for o in pending}
    closed = [
        oid for oid, r in rows.items() if r["Status"] in OPEN_STATUSES and oid not in pending_ids
    ]
    updates += [
        RowUpdate(oid, {"Status": "CLOSED", "Updated At": stamp}, {"Status": rows[oid]["Status"]})
        for oid in closed
    ]
    limit = float(scoring.get("escalate_p1_after_hours", 24))
    for oid, info in orders.items():
        hours = round(info.hours, 1)
        if info.priority == "P1" and hours > limit and oid not in escalated_before:
            escalations.append(
                {
                    "Order ID": oid,
                    "From": "triage",
                    "Reason": f"P1 stuck {hours:.0f}h (> {limit:g}h): {explained[oid].why}",
                    "At": stamp,
                    "Target": info.reason["escalate_to"],
                }
            )

    conflicts: list[str] = []
    steps.done("diff")
    if not dry_run:
        ctx.tool("write_assignments")
        if escalations:
            ctx.tool("write_escalations")
        ctx.stores.state.heartbeat(LOCK, ctx.caller.email, ctx.skill.config.runtime.timeout * 2)
        with ctx.transaction():  # every row of this triage and its audit row, or none
            if appends:
                ctx.workbook.append("Assignments", appends)
            if updates:
                conflicts = ctx.workbook.update("Assignments", updates)
            if escalations:
                ctx.workbook.append("Escalations", escalations)
            if stale_pins:
                Pins(ctx.stores.db).drop(stale_pins)
            ctx.audit(
                "triage",
                f"triage:{ctx.execution_id}",
                None,
                {
                    "appended": len(appends),
                    "updated": len(updates) - len(conflicts),
                    "closed": len(closed),
                    "escalated": len(escalations),
                    "conflicts": conflicts,
                    "pinned": len(plan.pinned),
                    "unpinned": stale_pins,
                },
            )

    steps.done("write")
    summary = _summary(
        ctx,
        plan,
        orders,
        explained,
        closed,
        escalations,
        conflicts,
        skipped_field,
        dry_run,
        len(pending),
        listed,
    )
    done = set(conflicts)
    summary["reopened"] = sorted(
        oid for oid in reopened if oid in plan.assigned and oid not in done
    )
    summary["counts"]["reopened"] = len(summary["reopened"])
    for agent in summary["agents"]:
        for ticket in agent["tickets"]:
            ticket["reopened"] = ticket["order_id"] in reopened
            if ticket["order_id"] in waiting:  # snoozed: kept with them, shown as waiting
                ticket["status"] = WAITING
            elif ticket["order_id"] in plan.pinned:  # a manager's pin kept it with them
                ticket["pinned"] = True
            ticket.update(_change(ticket["order_id"], plan, reopened, current))
    summary["closed"] = [  # per-ticket change kinds (for Slack's changes-only threads)
        {"order_id": oid, "agent": (rows[oid]["Assigned Agent"] or "").lower()} for oid in closed
    ]
    steps.done("summary")
    summary["work"] = {
        "seconds": steps.total(),
        "steps": steps.seconds,
        "orders_scored": len(pending),
        "rows_written": 0 if dry_run else len(appends) + len(updates) + len(escalations),
    }
    return summary


def _placements(plan, orders: dict[str, Scored], explained) -> dict[str, Placement]:
    """Every scored order's place in ``plan``: its agent ("" unassigned) and priority."""
    out = {oid: Placement("", info.priority, info.score) for oid, info in orders.items()}
    for oid, email in plan.assigned.items():
        out[oid] = Placement(email, out[oid].priority, out[oid].score, explained[oid].why)
    return out


class _Steps:
    """How long each step of a triage took, in seconds (the result's ``work``)."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def done(self, step: str) -> None:
        moment = time.perf_counter()
        self.seconds[step] = round(moment - self.last, 4)
        self.last = moment

    def total(self) -> float:
        return round(time.perf_counter() - self.started, 4)


class _Explained(dict):
    """Each order's full ``Score`` (with its explanation), made the first time it is asked
    for: only assigned and escalated orders need one."""

    def __init__(self, scorer: Scorer, orders: dict[str, Scored]):
        super().__init__()
        self.scorer, self.orders = scorer, orders

    def __missing__(self, oid: str) -> Score:
        info = self.orders[oid]
        o = info.order
        self[oid] = found = self.scorer.score(
            info.hours, info.reason["sla_hours"], o["amount"], o["currency"]
        )
        return found


def _change(oid: str, plan, reopened: set[str], current: dict[str, str]) -> dict:
    """How a ticket came to its agent in this run: new, kept, moved (``from`` whom), reopened."""
    if oid in reopened:
        return {"change": "reopened"}
    if oid in plan.new:
        return {"change": "new"}
    if oid in plan.moved:
        return {"change": "moved", "from": current.get(oid, "")}
    return {"change": "kept"}


def _hours_since(stamp: object, moment) -> float:
    """Hours from a row's timestamp text to ``moment``; a missing or bad one counts as long ago."""
    try:
        return hours_between(parse_ts(stamp), moment)
    except (TypeError, ValueError):
        return float("inf")


def _summary(
    ctx,
    plan,
    orders,
    explained,
    closed,
    escalations,
    conflicts,
    skipped_field,
    dry_run,
    n_pending,
    listed,
) -> dict:
    """The result: per-agent tickets in full, the first ``listed`` (None: all) unassigned and
    escalated orders, and every count."""
    conflict_set = set(conflicts)
    per_agent: dict[str, list[dict]] = {}
    for oid, email in plan.assigned.items():
        if oid in conflict_set:
            continue
        info = orders[oid]
        o, s = info.order, explained[oid]
        per_agent.setdefault(email, []).append(
            {
                "order_id": oid,
                "priority": s.priority,
                "score": s.score,
                "why": s.why,
                "amount": o["amount"],
                "currency": o["currency"],
                "hours": round(info.hours, 1),
                "reason": o["stuck_reason"],
                "actions": info.reason.get("actions", []),
            }
        )
    agents = []
    for email in sorted(per_agent, key=lambda e: (-len(per_agent[e]), e)):
        tickets = sorted(
            per_agent[email], key=lambda t: (t["priority"], -t["score"], t["order_id"])
        )
        agents.append(
            {
                "agent": email,
                "tickets": tickets,
                "by_priority": dict(sorted(Counter(t["priority"] for t in tickets).items())),
            }
        )
    unassigned = [
        {
            "order_id": info.order_id,
            "priority": info.priority,
            "reason": info.order["stuck_reason"],
            "team": info.reason["team"],
            "amount": info.order["amount"],
            "currency": info.order["currency"],
            "hours": round(info.hours, 1),
        }
        for info in map(orders.__getitem__, plan.unassigned[:listed])
    ]
    assigned = sum(len(a["tickets"]) for a in agents)
    ctx.order_ids = sorted(oid for oid in plan.assigned if oid not in conflict_set)
    fitting = assigned
    ctx.metrics.update(
        {
            "orders_triaged": n_pending,
            "assignment_accuracy": round(fitting / n_pending, 4) if n_pending else 1.0,
        }
    )
    return {
        "run_id": ctx.execution_id,
        "workflow_id": ctx.workflow_id,
        "dry_run": dry_run,
        "agents": agents,
        "unassigned": unassigned,
        "escalated": [
            {
                "order_id": e["Order ID"],
                "target": e["Target"],
                "reason": e["Reason"],
                "at": e["At"],
                "priority": orders[e["Order ID"]].priority,
                "reason_code": orders[e["Order ID"]].order["stuck_reason"],
                "team": orders[e["Order ID"]].reason["team"],
                "amount": orders[e["Order ID"]].order["amount"],
                "currency": orders[e["Order ID"]].order["currency"],
                "hours": round(orders[e["Order ID"]].hours, 1),
                "agent": plan.assigned.get(e["Order ID"], ""),
            }
            for e in escalations[:listed]
        ],
        "counts": {
            "pending": n_pending,
            "assigned": assigned,
            "new": len(plan.new - conflict_set),
            "kept": len(plan.kept - conflict_set),
            "moved": len(plan.moved - conflict_set),
            "closed": len(closed),
            "unassigned": len(plan.unassigned),
            "escalated": len(escalations),
            "left_with_field_status": len(skipped_field),
            "pinned": len(plan.pinned - conflict_set),
            "skipped_changed_during_triage": len(conflicts),
        },
    }
