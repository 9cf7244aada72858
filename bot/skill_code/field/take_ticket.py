"""take-ticket: put a stuck order nobody is working on into the caller's own queue, when its
team is one of the caller's specializations and they have room; one conditional write and
its audit row, so of two agents taking it at once exactly one gets it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.clock import hours_between, parse_ts, ts
from bot.errors import Conflict, NotFound
from bot.runtime.roster import Roster
from bot.skill_code.field.tickets import open_count
from bot.stores.away import AwayStore
from bot.stores.workbook import OPEN_STATUSES, RowUpdate

if TYPE_CHECKING:
    from bot.runtime.skill_run import SkillContext

STATUS = "IN_PROGRESS"
"""A taken ticket is being worked (a field status: the row rules allow it)."""


def _handle(email: object) -> str:
    return "@" + str(email or "").split("@")[0]


def owner_of(ctx: SkillContext, row: dict | None) -> str:
    """Who works the order now: the row's agent while they are an active field agent and
    the ticket is open or escalated (their escalation is still theirs), else nobody."""
    if row is None:
        return ""
    return owners_of(ctx, {"": row}).get("", "")


def owners_of(ctx: SkillContext, rows: dict[str, dict]) -> dict[str, str]:
    """``owner_of`` for many rows (keyed by order ID), the agents read in one request: the
    orders someone works now, and who."""
    held = {
        oid: agent
        for oid, r in rows.items()
        if (agent := str(r.get("Assigned Agent") or "").strip().lower())
        and str(r.get("Status") or "").strip().upper() in (*OPEN_STATUSES, "ESCALATED")
    }
    if not held:
        return {}
    roster = Roster(ctx.workbook.read("Agents", {"email": sorted(set(held.values()))}))
    active = {m.email.lower() for m in roster.members if m.active and "field" in m.roles}
    return {oid: agent for oid, agent in held.items() if agent in active}


def _row(ctx: SkillContext, oid: str) -> dict | None:
    rows = ctx.workbook.read("Assignments", {"Order ID": oid})
    return rows[0] if rows else None


def _taken_first(ctx: SkillContext, oid: str) -> Conflict:
    row = _row(ctx, oid)
    who = owner_of(ctx, row) or str((row or {}).get("Assigned Agent") or "someone else")
    return Conflict(
        f"{oid} was taken by {_handle(who)} first, so nothing was changed. "
        "Say `my tickets` to see your own queue."
    )


def run(ctx: SkillContext, order_id: object = None, **_: object) -> dict:
    oid = ctx.order_id(order_id)
    for tool in ("read_config", "run_query", "read_my_queue", "update_my_ticket"):
        ctx.tool(tool)  # every tool declared before any read or write
    away = AwayStore(ctx.stores.db).current(ctx.caller.email, ctx.at)
    if away is not None:  # no new work while away: they said so themselves
        raise Conflict(
            f"You are marked away until {away.until[:16]} UTC, so {oid} stays where it is. "
            "Say `back` first if you are working again."
        )
    found = ctx.query("ecm-order-detail-v2", order_id=oid)
    order = found[0] if found else None
    if order is None:
        raise NotFound(f"I can't find order {oid}. Check the ID and try again.")
    if str(order.get("status") or "") != "STUCK":
        raise Conflict(
            f"{oid} is no longer stuck (it is {order.get('status') or 'unknown'} in the "
            "warehouse), so there is nothing to take."
        )
    code = str(order.get("stuck_reason") or "").strip()
    reason = ctx.resources.stuck_reasons().get(code) or {}
    team = str(reason.get("team") or "").strip().lower()
    mine = sorted(ctx.caller.specializations)
    if not team or team not in ctx.caller.specializations:
        raise Conflict(
            f"{oid} ({code}) needs the {team or 'unknown'} team and your specializations are "
            f"{', '.join(mine) or 'none'}, so it isn't one for you to take. An ECM manager "
            "can assign it."
        )
    row = _row(ctx, oid)
    owner = owner_of(ctx, row)
    if owner == ctx.caller.email.lower():
        raise Conflict(f"{oid} is already yours. Say `order {oid}` to open it.")
    if owner:
        raise Conflict(
            f"{oid} is {_handle(owner)}'s already, so nothing was changed. Ask an ECM manager "
            "if it should move to you."
        )
    held = open_count(ctx)
    if held >= ctx.caller.capacity:
        raise Conflict(
            f"You already have {held} open tickets, your capacity of {ctx.caller.capacity}, so "
            f"{oid} stays where it is. Resolve one first, or ask an ECM manager."
        )

    stamp = ts(ctx.at)
    hours = None
    if order.get("stuck_since"):
        hours = round(hours_between(parse_ts(order["stuck_since"]), ctx.at), 1)
    mine_now = {
        "Assigned Agent": ctx.caller.email,
        "Assigned At": stamp,
        "Status": STATUS,
        "Updated At": stamp,
    }
    before = None if row is None else {k: row.get(k) for k in ("Assigned Agent", "Status")}
    try:
        with ctx.transaction():  # the row and its audit row: both or neither
            if row is None:
                ctx.workbook.append(
                    "Assignments",
                    [
                        {
                            "Order ID": oid,
                            "Stuck Reason": code,
                            "Amount": order.get("amount"),
                            "Currency": order.get("currency"),
                            "Hours Stuck at triage": hours,
                            **mine_now,
                        }
                    ],
                )
            elif ctx.workbook.update("Assignments", [RowUpdate(oid, mine_now, dict(before or {}))]):
                raise _taken_first(ctx, oid)
            ctx.audit("take_ticket", f"order:{oid}", before, mine_now)
    except Conflict:
        raise
    except Exception:
        # a rival's row for the same order committed first (the unique order id refused
        # ours): say who has it; anything else is a real failure
        if row is None and _row(ctx, oid) is not None:
            raise _taken_first(ctx, oid) from None
        raise
    ctx.metrics["takes"] = 1
    return {
        "order_id": oid,
        "status": STATUS,
        "agent": ctx.caller.email,
        "previous_agent": str((row or {}).get("Assigned Agent") or ""),
        # the move, as a reassignment's result says it: the follow-ups redraw the taker's
        # DM queue and republish the App Home of both
        "from": str((row or {}).get("Assigned Agent") or "").lower() or None,
        "to": ctx.caller.email.lower(),
        "reason_code": code,
        "team": team,
        "amount": order.get("amount"),
        "currency": order.get("currency") or "",
        "hours": hours,
        "open": open_count(ctx),
        "capacity": ctx.caller.capacity,
    }
