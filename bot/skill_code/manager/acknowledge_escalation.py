"""acknowledge-escalation: record, once, which manager acknowledged an order's latest
escalation (an INSERT that only the first acknowledgement makes), with its audit row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.clock import ts
from bot.errors import Conflict, NotFound
from bot.stores.escalation_acks import EscalationAcks

if TYPE_CHECKING:
    from bot.runtime.skill_run import SkillContext


def latest_escalation(ctx: SkillContext, oid: str) -> dict | None:
    """The order's newest Escalations row (by At, then position), or None."""
    rows = ctx.workbook.read("Escalations", {"Order ID": oid})
    return max(reversed(rows), key=lambda r: str(r.get("At") or ""), default=None)


def run(ctx: SkillContext, order_id: object = None, **_: object) -> dict:
    oid = ctx.order_id(order_id)
    ctx.tool("write_escalations")
    escalation = latest_escalation(ctx, oid)
    if escalation is None:
        raise NotFound(f"{oid} has no escalation to acknowledge.")
    at = str(escalation.get("At") or "")
    acks = EscalationAcks(ctx.stores.db)
    stamp = ts(ctx.at)
    with ctx.transaction():  # the acknowledgement and its audit row: both or neither
        won = acks.claim(oid, at, ctx.caller.email, stamp)
        if won is not None:
            ctx.audit(
                "acknowledge_escalation",
                f"order:{oid}",
                None,
                {"Escalated At": at, "Acknowledged By": ctx.caller.email, "At": stamp},
            )
    if won is None:
        first = acks.of(oid, at)
        who = "@" + (first.by.split("@")[0] if first else "someone")
        when = f" at {first.at} UTC" if first else ""
        raise Conflict(
            f"The escalation of {oid} was already acknowledged by {who}{when}, so nothing "
            "was changed."
        )
    ctx.metrics["acknowledgements"] = 1
    return {
        "order_id": oid,
        "escalated_at": at,
        "target": str(escalation.get("Target") or ""),
        "from": str(escalation.get("From") or ""),
        "acknowledged_by": ctx.caller.email,
        "acknowledged_at": stamp,
    }
