"""Helpers the field skills share: the caller's own ticket (one refusal for someone else's
order and an unknown one alike), requiring it to be open, and a guarded status change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.clock import ts
from bot.errors import Conflict
from bot.stores.workbook import OPEN_STATUSES, RowUpdate

if TYPE_CHECKING:
    from bot.runtime.context import SkillContext


def _find(ctx: SkillContext, oid: str) -> dict | None:
    return next(
        (
            r
            for r in ctx.workbook.read("Assignments")
            if str(r.get("Order ID") or "").strip().upper() == oid
        ),
        None,
    )


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
    done = [
        r
        for r in ctx.workbook.read("Resolutions")
        if str(r.get("Order ID") or "").strip().upper() == oid
    ]
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
    return sum(1 for r in ctx.workbook.read("Assignments") if r.get("Status") in OPEN_STATUSES)


def current_status(ctx: SkillContext, oid: str) -> str:
    row = _find(ctx, oid)
    return str(row.get("Status") or "") if row else "gone"


def set_status(ctx: SkillContext, oid: str, new: str, expected: str, verb: str) -> str:
    """Move the caller's row from ``expected`` to ``new``; Conflict (nothing written) if it
    changed meanwhile. Returns the timestamp written."""
    stamp = ts(ctx.at)
    conflicts = ctx.workbook.update(
        "Assignments", [RowUpdate(oid, {"Status": new, "Updated At": stamp}, {"Status": expected})]
    )
    if conflicts:
        raise Conflict(
            f"{oid} changed while you were {verb} it (it is now {current_status(ctx, oid)}), "
            f"so nothing was written. Open it with `order {oid}` and try again."
        )
    return stamp
