"""Handing an away agent's tickets to others, by the planner's own rules.

``plan_handover`` asks ``bot.triage.assign.plan_assignments`` where the leaving agent's open,
unpinned tickets go: everyone else's open tickets stay where they are (given to the planner as
held with their owner, so they count toward capacity and none of them moves), the
leaving agent and anyone away take nothing new, agents on shift come before agents off shift,
and a ticket goes only to an agent whose specializations cover its team. Pinned tickets (a
manager's assignment) stay and go to the managers to decide; so do tickets nobody fitting has
room for. ``apply_handover`` writes the moves (each a conditional update), the handover rows
and one audit row per ticket inside the caller's transaction. ``notes`` is the one DM per
person concerned. The priorities and scores are the stored ones: nothing is scored here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import ts
from bot.paths import CONFIG_DIR
from bot.resources import load_yaml
from bot.runtime.roster import Member, Roster
from bot.sla.away_time import local_text
from bot.stores.away import Away, AwayStore, Handover
from bot.stores.factory import Stores
from bot.stores.pins import Pins
from bot.stores.workbook import OPEN_STATUSES, RowUpdate
from bot.triage.assign import Agent, Ticket, plan_assignments

ACTOR = "handover"


@dataclass
class HandoverPlan:
    leaving: str
    moved: dict[str, str] = field(default_factory=dict)  # order id -> new owner
    pinned: list[str] = field(default_factory=list)  # a manager's pin: the managers decide
    no_room: list[str] = field(default_factory=list)  # nobody fitting has room
    rows: dict[str, dict] = field(default_factory=dict)  # order id -> its Assignments row


def _score(value: object) -> float:
    try:
        return float(str(value).replace(",", ""))
    except (TypeError, ValueError):
        return 0.0


def _config() -> tuple[dict, dict]:
    reasons = load_yaml(CONFIG_DIR / "stuck-reasons.yaml")["reasons"]
    weights = load_yaml(CONFIG_DIR / "scoring.yaml")["priority_weights"]
    return reasons, weights


def team_of(row: dict, reasons: dict) -> str:
    code = str(row.get("Stuck Reason") or "").strip()
    return str((reasons.get(code) or {}).get("team") or "").strip().lower()


def agents_for(roster: Roster, away: Iterable[str], moment: datetime) -> list[Agent]:
    """The planner's agents: the roster's field agents, those in ``away`` marked away."""
    out = {a.lower() for a in away}
    return [
        Agent(m.email, m.specializations, m.capacity, m.active, m.on_shift(moment), m.email in out)
        for m in roster.field_agents()
    ]


def uncovered_teams(
    member: Member, roster: Roster, away: Iterable[str], moment: datetime
) -> list[str]:
    """The teams ``member`` covers that nobody else would, on shift, if they left now (only
    when ``member`` is on shift: someone off shift leaves no one short)."""
    if not member.on_shift(moment):
        return []
    out = {a.lower() for a in away} | {member.email}
    others = [
        m
        for m in roster.field_agents()
        if m.active and m.capacity > 0 and m.email not in out and m.on_shift(moment)
    ]
    covered = set().union(*(m.specializations for m in others)) if others else set()
    return sorted(member.specializations - covered)


def plan_handover(
    stores: Stores, leaving: str, moment: datetime, away: Iterable[str] = ()
) -> HandoverPlan:
    """Where ``leaving``'s open tickets go (nothing is written)."""
    reasons, weights = _config()
    leaving = leaving.lower()
    roster = Roster.load(stores.workbook)
    rows = [
        r
        for r in stores.workbook.read("Assignments", {"Status": OPEN_STATUSES})
        if r.get("Status") in OPEN_STATUSES and r.get("Assigned Agent")
    ]
    pins = Pins(stores.db).all()
    plan = HandoverPlan(leaving)
    agents = agents_for(roster, {*away, leaving}, moment)
    working = {a.email for a in agents if a.active}
    tickets, held = [], {}
    for r in rows:
        oid, owner = str(r["Order ID"]), str(r["Assigned Agent"]).lower()
        if owner == leaving:
            plan.rows[oid] = r
            pin = pins.get(oid)
            if pin is not None and pin.holds(r):
                plan.pinned.append(oid)
                continue
        elif owner in working:
            held[oid] = owner  # stays where it is, and counts toward its owner's load
        else:
            continue  # nobody's load: it takes no one's room
        priority = str(r.get("Priority") or "P5")
        tickets.append(Ticket(oid, priority, _score(r.get("Score")), team_of(r, reasons)))
    # everyone else's open tickets are placed first with their owner (the planner's pinned
    # step: nothing of theirs moves, over capacity or not); the leaving agent's fill what
    # room is left, on shift first, never to anyone away
    placed = plan_assignments(tickets, agents, {}, weights, held)
    for oid in sorted(plan.rows):
        if oid in plan.pinned:
            continue
        to = placed.assigned.get(oid)
        if to and to != leaving:
            plan.moved[oid] = to
        else:
            plan.no_room.append(oid)
    return plan


def apply_handover(
    stores: Stores, plan: HandoverPlan, away: Away, moment: datetime
) -> list[Handover]:
    """Inside the caller's transaction: move each planned ticket (only if it is still the
    leaving agent's with the same status), record every handover and audit each ticket."""
    stamp = ts(moment)
    done: list[Handover] = []
    for oid, to in sorted(plan.moved.items()):
        row = plan.rows[oid]
        changes = {
            "Assigned Agent": to,
            "Assigned At": stamp,
            "Status": "ASSIGNED",
            "Updated At": stamp,
        }
        before = {"Assigned Agent": row["Assigned Agent"], "Status": row["Status"]}
        if stores.workbook.update("Assignments", [RowUpdate(oid, changes, before)]):
            plan.no_room.append(oid)  # it changed a moment ago: the managers see it listed
            continue
        done.append(Handover(oid, plan.leaving, to, stamp, "moved"))
        _audit(stores, oid, before, {**changes, "handover_from": plan.leaving}, "handover")
    for kind, oids in (("pinned", plan.pinned), ("no_room", plan.no_room)):
        for oid in sorted(oids):
            done.append(Handover(oid, plan.leaving, "", stamp, kind))
            _audit(stores, oid, None, {"agent": plan.leaving, "kind": kind}, "handover_to_managers")
    plan.moved = {h.order_id: h.to_agent for h in done if h.kind == "moved"}
    AwayStore(stores.db).record(done, away.since)
    return done


def _audit(stores: Stores, oid: str, before: object, after: dict, action: str) -> None:
    link = stores.state.workflow_for_order(oid)
    stores.state.audit(
        actor=ACTOR,
        action=action,
        target=f"order:{oid}",
        before=before,
        after=after,
        workflow_id=link[0] if link else None,
    )


def _ticket_line(oid: str, row: dict) -> str:
    return f"`{oid}` ({row.get('Priority') or 'P?'}, {row.get('Stuck Reason') or '?'})"


def notes(plan: HandoverPlan, roster: Roster, until: str, by: str = "") -> list[dict]:
    """One DM per person concerned: the leaving agent (what moved, what stayed), each new
    owner (what they got), and the managers (pinned and unplaced tickets to decide)."""
    leaving = roster.by_email(plan.leaving)
    who = "@" + plan.leaving.split("@")[0]
    when = f"until {until[:16]} UTC"
    set_by = f" (set by @{by.split('@')[0]})" if by and by.lower() != plan.leaving else ""
    out: list[dict] = []
    got: dict[str, list[str]] = {}
    for oid, to in sorted(plan.moved.items()):
        got.setdefault(to, []).append(oid)
    if leaving is not None:
        mine = f"until {local_text(leaving, until)}"
        lines = [f"🌴 You are away {mine}{set_by}: you get no new tickets until then."]
        for to, oids in sorted(got.items()):
            lines.append(
                f"↪️ To @{to.split('@')[0]}: "
                + ", ".join(_ticket_line(o, plan.rows[o]) for o in oids)
            )
        kept = sorted(plan.pinned + plan.no_room)
        if kept:
            lines.append(
                "📌 Still yours, the managers decide: "
                + ", ".join(_ticket_line(o, plan.rows[o]) for o in kept)
            )
        if not plan.rows:
            lines.append("You had no open tickets to hand over.")
        out.append({"email": leaving.email, "slack_id": leaving.slack_id, "text": "\n".join(lines)})
    for to, oids in sorted(got.items()):
        member = roster.by_email(to)
        if member is None:
            continue
        listed = ", ".join(_ticket_line(o, plan.rows[o]) for o in oids)
        out.append(
            {
                "email": member.email,
                "slack_id": member.slack_id,
                "text": f"📥 {who} is away {when}; their ticket(s) {listed} are yours now. "
                "Say `my tickets` to see your queue.",
            }
        )
    if plan.pinned or plan.no_room:
        parts = []
        if plan.pinned:
            parts.append(
                "pinned by a manager: "
                + ", ".join(_ticket_line(o, plan.rows[o]) for o in sorted(plan.pinned))
            )
        if plan.no_room:
            parts.append(
                "nobody fitting has room: "
                + ", ".join(_ticket_line(o, plan.rows[o]) for o in sorted(plan.no_room))
            )
        text = (
            f"🌴 {who} is away {when}. These stay with them until you decide "
            f"(`assign ORDER_ID @agent REASON`): " + "; ".join(parts) + "."
        )
        out += manager_notes(roster, text)
    return merged(out)


def merged(dms: list[dict]) -> list[dict]:
    """One DM per person: someone concerned twice (a manager who also got tickets) gets both
    parts in one message."""
    by: dict[str, dict] = {}
    for dm in dms:
        if dm["email"] in by:
            by[dm["email"]]["text"] += "\n\n" + dm["text"]
        else:
            by[dm["email"]] = dict(dm)
    return list(by.values())


def manager_notes(roster: Roster, text: str) -> list[dict]:
    return [
        {"email": m.email, "slack_id": m.slack_id, "text": text}
        for m in roster.members
        if "manager" in m.roles and m.active
    ]
