"""assign-tickets: a manager assigns or reassigns one order to a field agent, with a reason.
Assigning a RESOLVED, ESCALATED or CLOSED ticket reopens it (status ASSIGNED, audited as a
reopen), so a ticket that came back is never left without an owner."""

from __future__ import annotations

from bot.clock import ts
from bot.errors import Conflict, InputError, NotFound
from bot.ids import free_text
from bot.runtime.roster import Roster
from bot.runtime.skill_run import SkillContext
from bot.stores.workbook import OPEN_STATUSES, RowUpdate

MAX_REASON = 500
USAGE = (
    "Please give a reason for the reassignment, e.g. `assign AE136ABC00 @sarah.ops KYC backlog`."
)


def run(
    ctx: SkillContext, order_id: str = "", agent: str = "", reason: str = "", **_: object
) -> dict:
    """Point ``order_id``'s Assignments row at ``agent``; refuse unknown or inactive agents."""
    for tool in ("assign_orders", "write_assignments", "read_roster"):
        ctx.tool(tool)
    oid = ctx.order_id(order_id)
    reason = free_text(reason, limit=MAX_REASON, usage=USAGE, what="reason").strip()
    roster = Roster.load(ctx.workbook)
    member = roster.resolve_agent(agent)
    if "field" not in member.roles:
        raise InputError(f"{member.email} is not a field agent, so they can't take tickets.")
    if not member.active:
        raise InputError(f"{member.email} is inactive on the roster; pick an active field agent.")
    found = ctx.workbook.read("Assignments", {"Order ID": oid})
    row = found[0] if found else None
    if row is None:
        raise NotFound(f"{oid} is not on the Assignments tab. Run triage first, or check the ID.")
    reopening = row["Status"] not in OPEN_STATUSES
    if row["Assigned Agent"] == member.email and not reopening:
        raise Conflict(f"{oid} is already assigned to {member.email}.")
    stamp = ts(ctx.at)
    changes = {
        "Assigned Agent": member.email,
        "Assigned At": stamp,
        "Status": "ASSIGNED",
        "Updated At": stamp,
    }
    before = {"Assigned Agent": row["Assigned Agent"], "Status": row["Status"]}
    with ctx.transaction():  # the move and its audit row, together
        conflicts = ctx.workbook.update(
            "Assignments",
            [
                RowUpdate(
                    oid, changes, {"Status": row["Status"], "Assigned Agent": row["Assigned Agent"]}
                )
            ],
        )
        if conflicts:
            raise Conflict(
                f"{oid} changed while you were reassigning it (someone resolved, escalated or "
                "moved it a moment ago), so nothing was changed. Look again and retry."
            )
        ctx.audit("reopen" if reopening else "assign", oid, before, {**changes, "reason": reason})
    ctx.metrics["reassignments"] = 1
    return {
        "order_id": oid,
        "from": row["Assigned Agent"] or None,
        "to": member.email,
        "to_slack_id": member.slack_id,
        "reopened_from": row["Status"] if reopening else None,
        "reason": reason,
        "priority": row["Priority"],
        "stuck_reason": row["Stuck Reason"],
    }
