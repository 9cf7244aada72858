"""One ticket as an item, shared by the field queue and the triage threads: its line
(priority, order, amount, hours, reason, steps), a reopened mark and any note;
a snoozed ticket its ⏳ until-time and note, or ⏰ when it is back."""

from __future__ import annotations

from bot.present import hours, money, steps
from bot.present.model import Action, Item, Line, Mention, Part, bold, code, line


def ticket_line(t: dict) -> Line:
    """P1 | AE136ABC00 | 721 AED | 14h | LULU_NOT_CONFIRMED → 1) Check Checkout 2) ..."""
    age = hours(t.get("hours")) + (" (at triage)" if t.get("hours_source") == "triage" else "")
    parts: list[str | Part] = [
        bold(t.get("priority") or "?"),
        " | ",
        code(t.get("order_id") or ""),
        f" | {money(t.get('amount'), t.get('currency') or '')} | {age} | {t.get('reason')}",
    ]
    if t.get("actions"):
        parts.append(" → " + steps([str(a) for a in t["actions"]]))
    return line(*parts)


FLAGS = {
    "ESCALATED": "🚨 escalated",
    "IN_PROGRESS": "🔧 in progress",
    "WAITING": "⏳ waiting",
}
"""A ticket's status as a flag after its line (ASSIGNED, the usual, has none)."""


def ticket_lines(t: dict) -> tuple[Line, ...]:
    """The ticket's line (with its status flag), then a reopened mark and its note when it
    has them."""
    first = ticket_line(t)
    flag = FLAGS.get(str(t.get("status") or "").upper())
    if flag and t.get("waiting_until"):
        flag += f" until {str(t['waiting_until'])[:16]} UTC"
    lines = [(*first, *line(f" · {flag}")) if flag else first]
    if t.get("waiting_note"):
        lines.append(line(f"⏳ Snoozed: {t['waiting_note']}"))
    if t.get("handed_from"):
        lines.append(line(f"↪️ Handed over from @{str(t['handed_from']).split('@')[0]} (away)"))
    if t.get("back"):
        lines.append(line(f"⏰ Back from snooze: {t.get('back_note') or 'the wait is over'}"))
    if t.get("reopened"):
        lines.append(line("🔁 Reopened: it was closed, but the order is still stuck."))
    if t.get("note"):
        lines.append(line(f"⚠️ {t['note']}"))
    return tuple(lines)


def ticket_actions(order_id: str, details: bool = True) -> tuple[Action, ...]:
    """Details / Resolve / Escalate for one order, with the commands that do the same."""
    first = Action(
        "Details",
        "ticket_details",
        order_id,
        command=f"order {order_id}",
        accessibility_label=f"Details of order {order_id}",
    )
    return (first, *work_actions(order_id)) if details else work_actions(order_id)


def work_actions(order_id: str, resolve_value: str | None = None) -> tuple[Action, ...]:
    """Resolve (the one primary button) and Escalate (plain: the form it opens is the
    confirmation) for one order. ``resolve_value``: what the Resolve button carries, by
    default the order id."""
    return (
        Action(
            "Resolve",
            "ticket_resolve",
            resolve_value or order_id,
            "primary",
            f"resolve {order_id} NOTES",
            f"Resolve order {order_id}",
        ),
        Action(
            "Escalate",
            "ticket_escalate",
            order_id,
            None,
            f"escalate {order_id} REASON",
            f"Escalate order {order_id}",
        ),
    )


def snooze_action(order_id: str) -> Action:
    """Snooze: park the ticket while waiting on someone (a form asks how long and why)."""
    return Action(
        "Snooze",
        "ticket_snooze",
        order_id,
        None,
        f"snooze {order_id} 2h NOTE",
        f"Snooze order {order_id}",
    )


def queue_item(t: dict) -> Item:
    """A ticket in a field agent's queue: its lines, the diagnosis, and its buttons (Snooze
    too, unless it is waiting already)."""
    oid = str(t.get("order_id") or "")
    detail = (line(str(t["diagnosis"])),) if t.get("diagnosis") else ()
    actions = ticket_actions(oid) if oid else ()
    if oid and str(t.get("status") or "").upper() != "WAITING":
        actions = (*actions, snooze_action(oid))
    return Item(oid, ticket_lines(t), detail, actions)


def thread_item(t: dict) -> Item:
    """A ticket in a triage thread: its lines and a Reassign… menu for the manager."""
    oid = str(t.get("order_id") or "")
    menu = (Action("Reassign…", "ticket_overflow", f"reassign:{oid}"),) if oid else ()
    return Item(oid, ticket_lines(t), menu=menu)


def row_ticket(row: dict) -> dict:
    """An Assignments row as the ticket dict the items take (hours as at triage)."""
    return {
        "order_id": row.get("Order ID") or "",
        "priority": row.get("Priority"),
        "amount": row.get("Amount"),
        "currency": row.get("Currency") or "",
        "hours": row.get("Hours Stuck at triage"),
        "hours_source": "triage",
        "reason": row.get("Stuck Reason") or "",
        "status": row.get("Status") or "",
    }


def moved_in_item(row: dict, was: str) -> Item:
    """A ticket a manager moved into an agent's queue after triage, added to their thread
    reply: "📥 Moved in from @sarah", its lines, and the Reassign… menu."""
    t = row_ticket(row)
    came = line("📥 Moved in from ", Mention(was)) if was else line("📥 Moved in")
    item = thread_item(t)
    return Item(item.key, (came, *item.lines), menu=item.menu)
