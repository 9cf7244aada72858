"""assign-tickets: a manager assigns or reassigns one order to a field agent, with a reason.

The assignment is pinned (``bot.stores.pins``): re-triage keeps it with that agent until the
manager unpins it (``unpin ORDER_ID``) or the ticket ends. An agent outside the reason's
team, or at or over capacity, is refused with ``NeedsConfirmation`` until the manager
confirms (the word ``confirm`` before the reason in chat; ``confirm=True`` from a form).
Assigning a RESOLVED, ESCALATED or CLOSED ticket reopens it (status ASSIGNED, audited as a
reopen), so a ticket that came back is never left without an owner. Assigning an open ticket to
the agent who holds it pins it there (``keep``): confirming the owner is an override too."""

from __future__ import annotations

from bot.clock import hours_between, parse_ts, ts
from bot.errors import Conflict, InputError, NeedsConfirmation, NotFound
from bot.ids import clean_text, free_text
from bot.runtime.roster import Member, Roster
from bot.runtime.skill_run import SkillContext
from bot.skill_code.manager.triage_and_assign import FIELD_OWNED, REOPEN_AFTER_HOURS
from bot.stores.pins import Pins
from bot.stores.workbook import OPEN_STATUSES, RowUpdate

MAX_REASON = 500
USAGE = (
    "Please give a reason for the reassignment, e.g. `assign AE136ABC00 @sarah.ops KYC backlog`."
)
CONFIRM_WORDS = ("1", "true", "yes", "y", "confirm", "confirmed")


def run(
    ctx: SkillContext,
    order_id: str = "",
    agent: str = "",
    reason: str = "",
    confirmed_reason: str = "",
    unpin_order_id: str = "",
    confirm: object = False,
    expect_status: str = "",
    expect_agent: str | None = None,
    **_: object,
) -> dict:
    """Point ``order_id``'s Assignments row at ``agent`` and pin it there; refuse unknown or
    inactive agents, and ask to confirm an agent who doesn't fit. ``confirmed_reason`` is the
    reason of a chat message that said ``confirm``; ``unpin_order_id`` unpins instead. A
    confirmation step passes back the ticket's status and owner it asked about
    (``expect_status``, ``expect_agent``): if the ticket changed since, nothing is written."""
    for tool in ("assign_orders", "write_assignments", "read_roster"):
        ctx.tool(tool)
    if unpin_order_id:
        return unpin(ctx, unpin_order_id, reason)
    if confirmed_reason:
        reason, confirm = confirmed_reason, True
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
    seen = {"expect_status": row["Status"] or "", "expect_agent": row["Assigned Agent"] or ""}
    if expect_status and (expect_status, expect_agent or "") != tuple(seen.values()):
        raise Conflict(
            f"{oid} changed since you were asked to confirm (it is {row['Status'] or 'blank'} "
            f"with {row['Assigned Agent'] or 'nobody'} now), so nothing was changed. Look "
            "again and retry."
        )
    reopening = row["Status"] not in OPEN_STATUSES
    if row["Assigned Agent"] == member.email and not reopening:
        return keep(ctx, oid, row, member, roster, reason)
    stamp = ts(ctx.at)
    changes = {
        "Assigned Agent": member.email,
        "Assigned At": stamp,
        "Status": "ASSIGNED",
        "Updated At": stamp,
    }
    before = {"Assigned Agent": row["Assigned Agent"], "Status": row["Status"]}
    # the move, its pin and its audit row, together; an agent who doesn't fit is judged
    # inside it (their load as it is now) and, unconfirmed, rolls it all back
    with ctx.transaction():
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
        warnings = reopen_warnings(ctx, oid, row) + fit_warnings(ctx, oid, row, member)
        if warnings and not _confirmed(confirm):
            raise NeedsConfirmation(
                f"{' and '.join(warnings)}, so nothing was changed. To assign {oid} to them "
                f"anyway, say `assign {oid} @{member.handle} confirm {reason}`.",
                warnings=tuple(warnings),
                seen=seen,
            )
        Pins(ctx.stores.db).pin(oid, member.email, by=ctx.caller.email, reason=reason, at=stamp)
        ctx.audit(
            "reopen" if reopening else "assign",
            oid,
            before,
            {**changes, "reason": reason, "pinned": True, "confirmed": warnings},
        )
    ctx.metrics["reassignments"] = 1
    previous = roster.by_email(row["Assigned Agent"] or "")
    return {
        "order_id": oid,
        "from": row["Assigned Agent"] or None,
        "from_slack_id": previous.slack_id if previous else "",
        "to": member.email,
        "to_slack_id": member.slack_id,
        "reopened_from": row["Status"] if reopening else None,
        "reason": reason,
        "priority": row["Priority"],
        "stuck_reason": row["Stuck Reason"],
        "pinned": True,
        "confirmed": warnings,
    }


def keep(
    ctx: SkillContext, oid: str, row: dict, member: Member, roster: Roster, reason: str
) -> dict:
    """A manager assigning a ticket to the agent who holds it confirms that owner: an override
    too, so the ticket is pinned to them (nothing moves, no fit is judged: their load is the
    same). The pin and its audit row go together, on the row as read: if it changed
    meanwhile, nothing is written. Already pinned to them: refused, nothing to do."""
    pins = Pins(ctx.stores.db)
    pin = pins.get(oid)
    if pin is not None and pin.holds(row) and pin.agent == member.email:
        raise Conflict(
            f"{oid} is already assigned and pinned to {member.email}, so nothing was changed. "
            f"Say `unpin {oid}` to let triage place it again."
        )
    stamp = ts(ctx.at)
    with ctx.transaction():
        now_rows = ctx.workbook.read("Assignments", {"Order ID": oid})
        now_row = now_rows[0] if now_rows else {}
        if (now_row.get("Status"), now_row.get("Assigned Agent")) != (
            row["Status"],
            row["Assigned Agent"],
        ):
            raise Conflict(
                f"{oid} changed while you were pinning it (it is {now_row.get('Status') or 'gone'} "
                f"with {now_row.get('Assigned Agent') or 'nobody'} now), so nothing was changed."
            )
        pins.pin(oid, member.email, by=ctx.caller.email, reason=reason, at=stamp)
        ctx.audit(
            "pin",
            oid,
            {"pinned_to": pin.agent if pin else None},
            {"pinned_to": member.email, "reason": reason, "kept_owner": True},
        )
    return {
        "order_id": oid,
        "from": member.email,
        "from_slack_id": member.slack_id,
        "to": member.email,
        "to_slack_id": member.slack_id,
        "reopened_from": None,
        "reason": reason,
        "priority": row["Priority"],
        "stuck_reason": row["Stuck Reason"],
        "pinned": True,
        "kept": True,
        "confirmed": [],
    }


def reopen_warnings(ctx: SkillContext, oid: str, row: dict) -> list[str]:
    """A ticket a field agent resolved or escalated within its grace (the hours triage, too,
    leaves it with the field) is reopened only on confirmation: a manager who saw it open a
    moment ago must not undo the agent's close without knowing it happened."""
    status = str(row.get("Status") or "")
    grace = {**REOPEN_AFTER_HOURS, **(ctx.resources.scoring().get("reopen_after_hours") or {})}
    if status not in FIELD_OWNED or not row.get("Updated At"):
        return []
    try:
        since = hours_between(parse_ts(row["Updated At"]), ctx.at)
    except ValueError:
        return []
    if since >= float(grace[status]):
        return []
    who = str(row.get("Assigned Agent") or "a field agent").split("@")[0]
    ago = f"{since * 60:.0f} min" if since < 1 else f"{since:.1f} h"
    return [f"{oid} was {status.lower()} by @{who} {ago} ago"]


def fit_warnings(ctx: SkillContext, oid: str, row: dict, member: Member) -> list[str]:
    """Why ``member`` is an unusual owner of the order: outside their specializations, at or
    over their capacity (their open tickets, this one aside). Empty when they fit."""
    warnings = []
    code = str(row.get("Stuck Reason") or "")
    team = str((ctx.resources.stuck_reasons().get(code) or {}).get("team") or "").lower()
    if team and team not in member.specializations:
        covers = ", ".join(sorted(member.specializations)) or "no team"
        warnings.append(
            f"@{member.handle} works {covers}, not {team} ({oid} is {code or 'a ticket'})"
        )
    mine = ctx.workbook.read(
        "Assignments", {"Assigned Agent": member.email, "Status": OPEN_STATUSES}
    )
    held = sum(1 for r in mine if r.get("Status") in OPEN_STATUSES and r["Order ID"] != oid)
    if held >= member.capacity:
        warnings.append(
            f"@{member.handle} already has {held} open tickets (capacity {member.capacity})"
        )
    return warnings


def unpin(ctx: SkillContext, order_id: str, reason: str = "") -> dict:
    """Let re-triage place ``order_id`` again: remove its pin, with an audit row."""
    oid = ctx.order_id(order_id)
    reason = clean_text(reason or "").strip()[:MAX_REASON]
    found = ctx.workbook.read("Assignments", {"Order ID": oid})
    row = found[0] if found else None
    if row is None:
        raise NotFound(f"{oid} is not on the Assignments tab. Check the ID, or run triage first.")
    pins = Pins(ctx.stores.db)
    pin = pins.get(oid)
    if pin is None:
        raise NotFound(
            f"{oid} isn't pinned, so there is nothing to unpin: triage already places it. "
            f"A ticket is pinned when you assign it, e.g. `assign {oid} @james.ops REASON`."
        )
    if not pin.holds(row):  # its ticket ended or moved: the next triage removes it
        raise NotFound(
            f"{oid} isn't pinned any more: it is {row['Status'] or 'not open'} with "
            f"{row['Assigned Agent'] or 'nobody'} now, so there is nothing to unpin."
        )
    with ctx.transaction():  # the pin goes with its audit row
        if not pins.unpin(oid, pin.agent):
            raise Conflict(f"{oid} was unpinned a moment ago by someone else; nothing changed.")
        ctx.audit(
            "unpin",
            oid,
            {"pinned_to": pin.agent, "pinned_by": pin.pinned_by, "reason": pin.reason},
            {"reason": reason},
        )
    owner = Roster.load(ctx.workbook).by_email(pin.agent)
    return {
        "order_id": oid,
        "unpinned": True,
        "agent": pin.agent,
        "agent_slack_id": owner.slack_id if owner else "",
        "pinned_by": pin.pinned_by,
        "reason": reason,
        "priority": row["Priority"],
        "stuck_reason": row["Stuck Reason"],
    }


def _confirmed(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in CONFIRM_WORDS
