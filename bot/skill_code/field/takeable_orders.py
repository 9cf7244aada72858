"""takeable-orders: of the orders the latest triage offered to everyone (its unassigned and
escalated lists, passed in as ``order_ids``, most urgent first), those the caller can take now:
still stuck, their team one of the caller's specializations, nobody working them, and room in
the caller's queue. Reads only; never computes a priority (DEC-011); Take is take-ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.clock import hours_between, parse_ts
from bot.errors import InputError
from bot.ids import order_id as valid_order_id
from bot.skill_code.field.take_ticket import owner_of
from bot.skill_code.field.tickets import open_count

if TYPE_CHECKING:
    from bot.runtime.skill_run import SkillContext

OFFERED = 50
"""At most this many offered orders are checked (a triage list lists 50)."""
SHOWN = 5


def _ids(value: object) -> list[str]:
    raw = value if isinstance(value, (list, tuple)) else str(value or "").replace(",", " ").split()
    ids: list[str] = []
    for item in raw[:OFFERED]:
        try:
            ids.append(valid_order_id(item))
        except InputError:
            continue  # not an order id: nothing to offer
    return list(dict.fromkeys(ids))


def run(ctx: SkillContext, order_ids: object = (), **_: object) -> dict:
    for tool in ("read_my_queue", "run_query", "read_config"):
        ctx.tool(tool)
    held, capacity = open_count(ctx), ctx.caller.capacity
    teams = sorted(ctx.caller.specializations)
    base = {"held": held, "capacity": capacity, "teams": teams, "orders": [], "more": 0}
    ids = _ids(order_ids)
    if not ids or held >= capacity:
        return {**base, "full": held >= capacity}
    ctx.order_ids = ids
    live = {str(o["order_id"]): o for o in ctx.query("ecm-orders-live-status", order_ids=ids)}
    reasons = ctx.resources.stuck_reasons()
    rows = {r["Order ID"]: r for r in ctx.workbook.read("Assignments", {"Order ID": ids})}
    found = []
    for oid in ids:
        order = live.get(oid)
        if order is None or str(order.get("status") or "") != "STUCK":
            continue
        code = str(order.get("stuck_reason") or "")
        team = str((reasons.get(code) or {}).get("team") or "").lower()
        if team not in ctx.caller.specializations or owner_of(ctx, rows.get(oid)):
            continue
        hours = None
        if order.get("stuck_since"):
            hours = round(hours_between(parse_ts(order["stuck_since"]), ctx.at), 1)
        found.append(
            {
                "order_id": oid,
                "reason_code": code,
                "team": team,
                "amount": order.get("amount"),
                "currency": order.get("currency") or "",
                "hours": hours,
            }
        )
    return {**base, "full": False, "orders": found[:SHOWN], "more": max(0, len(found) - SHOWN)}
