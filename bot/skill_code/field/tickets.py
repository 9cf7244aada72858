"""Helpers the field skills share: the caller's own ticket (one refusal for someone else's
order and an unknown one alike), requiring it to be open, and a guarded status change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.clock import ts
from bot.errors import Conflict
from bot.stores.workbook import OPEN_STATUSES, RowUpdate

if TYPE_CHECKING:
    from bot.runtime.skill_run import SkillContext


def _find(ctx: SkillContext, oid: str) -> dict | None:
    """The caller's Assignments row for ``oid`` (one indexed read; the row rules apply)."""
    rows = ctx.workbook.read("Assignments", {"Order ID": oid})
    return rows[0] if rows else None


def own_ticket(ctx: SkillContext, oid: str) -> dict:
    """The caller's Assignments row for ``oid``; refuse (AccessDenied) if there is none, which
    covers another agent's ticket and an unknown order alike, so nothing leaks."""
    ctx.tool("read_my_queue")
    row = _find(ctx, oid)
    if row is None:
        ctx.guard.deny(
            f"sheet:Assignments:{oid}",
            "a field agent opens only their own tickets",
            message=f"Sorry, {oid} is not in your queue. Ask an ECM manager if it should be yours.",
        )
    return row


def resolved_at(ctx: SkillContext, oid: str, row: dict) -> str:
    """When the ticket was resolved: its latest Resolutions row, else the row's Updated At."""
    done = ctx.workbook.read("Resolutions", {"Order ID": oid})
    return str((done[-1].get("Resolved At") if done else None) or row.get("Updated At") or "?")


def require_open(ctx: SkillContext, oid: str, row: dict, verb: str) -> str:
    """The row's status if it is open (ASSIGNED/IN_PROGRESS); otherwise Conflict saying why."""
    status = str(row.get("Status") or "").strip().upper()
    if status in OPEN_STATUSES:
        return status
    when = str(row.get("Updated At") or "?")
    if status == "RESOLVED":
        raise Conflict(
            f"{oid} is already resolved at {resolved_at(ctx, oid, row)} UTC, so "
            f"there is nothing to {verb}. If it is stuck again, ask an ECM manager "
            "to reopen it."
        )
    if status == "ESCALATED":
        raise Conflict(
            f"{oid} was already escalated at {when} UTC and is with the escalation "
            f"team now, so you can't {verb} it. Ask an ECM manager to hand it back "
            "if you can finish it."
        )
    if status == "CLOSED":
        raise Conflict(
            f"{oid} was closed at {when} UTC because the order is no longer stuck in "
            f"the warehouse, so there is nothing to {verb}."
        )
    raise Conflict(
        f"{oid} has status '{status or 'blank'}', which is not open, so you can't "
        f"{verb} it. Ask an ECM manager to check the Assignments row."
    )


def open_count(ctx: SkillContext) -> int:
    """The caller's open tickets (the scoped read holds only their rows)."""
    mine = ctx.workbook.read(
        "Assignments", {"Assigned Agent": ctx.caller.email, "Status": OPEN_STATUSES}
    )
    return sum(1 for r in mine if r.get("Status") in OPEN_STATUSES)


def current_status(ctx: SkillContext, oid: str) -> str:
    """The ticket's status now, or 'no longer yours' when it was moved to someone else."""
    row = ctx.stores.workbook.find("Assignments", oid)
    if row is None:
        return "gone"
    if str(row.get("Assigned Agent") or "").lower() != ctx.caller.email.lower():
        return "reassigned to someone else"
    return str(row.get("Status") or "blank")


def set_status(ctx: SkillContext, row: dict, new: str, expected: str, verb: str) -> str:
    """Inside the caller's transaction: move the caller's row from ``expected`` to ``new``,
    only if it is still theirs and still ``expected`` (one conditional UPDATE on both), else
    Conflict and nothing written. Returns the timestamp written."""
    oid = str(row["Order ID"])
    stamp = ts(ctx.at)
    conflicts = ctx.workbook.update(
        "Assignments",
        [
            RowUpdate(
                oid,
                {"Status": new, "Updated At": stamp},
                {"Status": expected, "Assigned Agent": row.get("Assigned Agent")},
            )
        ],
    )
    if conflicts:
        raise Conflict(
            f"{oid} changed while you were {verb} it (it is now {current_status(ctx, oid)}), "
            f"so nothing was written. Open it with `order {oid}` to see where it stands."
        )
    return stamp
