"""escalate-ticket: hand one of the caller's own open tickets up to its stuck reason's
escalation target, with a required reason; sets ESCALATED and records an Escalations row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.clock import ts
from bot.ids import free_text
from bot.skill_code.field.tickets import open_count, own_ticket, require_open, set_status

if TYPE_CHECKING:
    from bot.runtime.skill_run import SkillContext

MAX_REASON = 1000
DEFAULT_TARGET = "ECM manager"
USAGE = (
    "Please give a reason: `escalate ORDER_ID REASON` (what you tried, what is blocking, "
    "and any partner or provider reference)."
)


def check_reason(reason: object) -> str:
    """The reason as given (untrusted text, stored verbatim), or InputError."""
    return free_text(reason, limit=MAX_REASON, usage=USAGE, what="reason")


def run(ctx: SkillContext, order_id: object = None, reason: object = None, **_: object) -> dict:
    oid = ctx.order_id(order_id)
    text = check_reason(reason)
    ctx.tool("read_config")
    row = own_ticket(ctx, oid)
    status = require_open(ctx, oid, row, "escalate")
    code = str(row.get("Stuck Reason") or "").strip()
    entry = ctx.resources.stuck_reasons().get(code) or {}
    target = str(entry.get("escalate_to") or DEFAULT_TARGET)
    stamp = ts(ctx.at)

    for tool in ("update_my_ticket", "escalate_my_ticket"):  # both declared before any write
        ctx.tool(tool)
    with ctx.transaction():  # status, Escalations row and audit row: all or nothing
        set_status(ctx, row, "ESCALATED", status, "escalating")
        ctx.workbook.append(
            "Escalations",
            [
                {
                    "Order ID": oid,
                    "From": ctx.caller.email,
                    "Reason": text,
                    "At": stamp,
                    "Target": target,
                }
            ],
        )
        ctx.audit(
            "escalate_ticket",
            f"order:{oid}",
            {"Status": status},
            {"Status": "ESCALATED", "Updated At": stamp, "Target": target},
        )
    ctx.metrics["escalations"] = 1

    return {
        "order_id": oid,
        "status": "ESCALATED",
        "previous_status": status,
        "reason_code": code,
        "team": str(entry.get("team") or ""),
        "priority": str(row.get("Priority") or ""),
        "amount": row.get("Amount"),
        "currency": str(row.get("Currency") or ""),
        "hours": row.get("Hours Stuck at triage"),
        "target": target,
        "reason": text,
        "at": stamp,
        "remaining": open_count(ctx),
    }
