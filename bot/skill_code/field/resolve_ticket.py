"""resolve-ticket: close one of the caller's own open tickets as RESOLVED with a required note,
record a Resolutions row (time to resolve, SLA met) and say how many open tickets remain."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.clock import hours_between, parse_ts, ts
from bot.ids import free_text
from bot.skill_code.field.tickets import open_count, own_ticket, require_open, set_status

if TYPE_CHECKING:
    from datetime import datetime

    from bot.runtime.skill_run import SkillContext

MAX_NOTES = 2000
USAGE = (
    "Please add a resolution note: what you did and the partner reference, e.g. "
    "`resolve ORDER_ID replayed LuLu webhook, UTR 123456`."
)


def check_notes(notes: object) -> str:
    """The notes as given (untrusted text, stored verbatim), or InputError."""
    return free_text(notes, limit=MAX_NOTES, usage=USAGE, what="note")


def duration(minutes: float) -> str:
    """'6 min' under an hour, else '2h 05m'."""
    total = max(0, int(round(minutes)))
    if total < 60:
        return f"{total} min"
    return f"{total // 60}h {total % 60:02d}m"


def time_to_resolve(assigned_at: object, moment: datetime) -> str:
    try:
        start = parse_ts(assigned_at)
    except (TypeError, ValueError):
        return ""
    return duration(hours_between(start, moment) * 60)


def breached_before_assignment(order: dict | None, sla: object, assigned_at: object):
    """Whether the SLA (counted from when the order got stuck) had already run out when the
    ticket was assigned (None when either time or the SLA is unknown)."""
    try:
        stuck = parse_ts((order or {})["stuck_since"])
        assigned = parse_ts(assigned_at)
        return hours_between(stuck, assigned) > float(str(sla))
    except (KeyError, TypeError, ValueError):
        return None


def run(ctx: SkillContext, order_id: object = None, notes: object = None, **_: object) -> dict:
    oid = ctx.order_id(order_id)
    text = check_notes(notes)
    ctx.tool("read_config")
    row = own_ticket(ctx, oid)
    status = require_open(ctx, oid, row, "resolve")

    found = ctx.query("ecm-order-detail-v2", order_id=oid)
    order = found[0] if found else None
    code = str(row.get("Stuck Reason") or (order or {}).get("stuck_reason") or "").strip()
    sla = (ctx.resources.stuck_reasons().get(code) or {}).get("sla_hours")
    hours = None
    if order and order.get("stuck_since"):
        end = parse_ts(order["cleared_at"]) if order.get("cleared_at") else ctx.at
        hours = round(hours_between(parse_ts(order["stuck_since"]), min(end, ctx.at)), 1)
    sla_met = hours <= float(sla) if hours is not None and sla is not None else None
    late = breached_before_assignment(order, sla, row.get("Assigned At"))
    ttr = time_to_resolve(row.get("Assigned At"), ctx.at)
    stamp = ts(ctx.at)

    for tool in ("update_my_ticket", "write_resolution"):  # both declared before any write
        ctx.tool(tool)
    resolution = {
        "Order ID": oid,
        "Agent": ctx.caller.email,
        "Resolved At": stamp,
        "Notes": text,
        "Time To Resolve": ttr,
        "SLA Met": "" if sla_met is None else ("TRUE" if sla_met else "FALSE"),
    }
    with ctx.transaction():  # status, Resolutions row and audit row: all or nothing
        set_status(ctx, row, "RESOLVED", status, "resolving")
        ctx.workbook.append("Resolutions", [resolution])
        ctx.audit(
            "resolve_ticket",
            f"order:{oid}",
            {"Status": status},
            {
                "Status": "RESOLVED",
                "Updated At": stamp,
                "Time To Resolve": ttr,
                "SLA Met": resolution["SLA Met"],
            },
        )
    if sla_met is not None:
        ctx.metrics["sla_met_rate"] = 1.0 if sla_met else 0.0

    return {
        "order_id": oid,
        "status": "RESOLVED",
        "previous_status": status,
        "resolved_at": stamp,
        "time_to_resolve": ttr,
        "hours_stuck": hours,
        "sla_hours": sla,
        "sla_met": sla_met,
        "breached_before_assignment": late,
        "remaining": open_count(ctx),
    }
