"""One ticket as Block Kit: its line (priority, order, amount, hours, reason, steps, notes) and
its Details / Resolve / Escalate buttons, shared by the triage threads and the field queue."""

from __future__ import annotations

from bot.render import actions_line, money
from bot.slack.blocks.kit import actions, button, escape, hours


def ticket_text(t: dict) -> str:
    """*P1* `AE136ABC00` · 721 AED · 14h · REASON, then → the action steps and any note."""
    age = hours(t.get("hours")) + (" (at triage)" if t.get("hours_source") == "triage" else "")
    text = (
        f"*{escape(t.get('priority'))}* `{escape(t.get('order_id'))}` · "
        f"{escape(money(t.get('amount'), t.get('currency') or ''))} · {age} · "
        f"{escape(t.get('reason'))}"
    )
    if t.get("actions"):
        text += "\n→ " + escape(actions_line([str(a) for a in t["actions"]]))
    if t.get("reopened"):
        text += "\n🔁 Reopened: it was closed, but the order is still stuck."
    if t.get("note"):
        text += f"\n⚠️ {escape(t['note'])}"
    return text


def ticket_buttons(order_id: str, block_id: str, details: bool = True) -> dict:
    buttons = [button("Details", "ticket_details", order_id)] if details else []
    buttons += [
        button("Resolve", "ticket_resolve", order_id, "primary"),
        button("Escalate", "ticket_escalate", order_id, "danger"),
    ]
    return actions(block_id, *buttons)
