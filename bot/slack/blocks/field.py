"""Field views: an agent's queue (each ticket with Details / Resolve / Escalate) and one order's
details (facts, timeline, diagnosis, runbook)."""

from __future__ import annotations

from bot.render import actions_line, money
from bot.slack.blocks.kit import (
    chunks,
    context,
    counts,
    escape,
    hours,
    join_id,
    markdown_to_mrkdwn,
    paginate,
    paginate_groups,
    section,
)
from bot.slack.blocks.ticket import ticket_buttons, ticket_text

TIMELINE_LINES = 8


def queue_groups(data: dict) -> tuple[list[dict], list[list[dict]]]:
    """The queue's heading blocks and one group of blocks per ticket."""
    head = [
        section(
            f"📋 *Your queue* — {data.get('count', len(data['tickets']))} open "
            f"({escape(counts(data.get('by_priority') or {}))})"
        )
    ]
    if data.get("live_error"):
        head.append(context(f"⚠️ {escape(data['live_error'])}."))
    groups = []
    for i, t in enumerate(data["tickets"]):
        oid = str(t.get("order_id") or "")
        group = [section(ticket_text(t), join_id("ticket", i, oid))]
        if t.get("diagnosis"):
            group.append(context(f"↳ {escape(t['diagnosis'])}"))
        if oid:
            group.append(ticket_buttons(oid, join_id("ticket_actions", i, oid)))
        groups.append(group)
    return head, groups


EMPTY_QUEUE = "🎉 No open tickets — nice work."


def queue(data: dict) -> list[list[dict]]:
    """A field agent's my-tickets result: a heading, then each ticket with its buttons."""
    if not data.get("tickets"):
        return [[section(EMPTY_QUEUE)]]
    head, groups = queue_groups(data)
    footer = [context("Open one with *Details*, or say `order ORDER_ID`.")]
    return paginate_groups([head, *groups, footer])


def _order_header(data: dict) -> list[str]:
    r = data["reason"]
    if data.get("hours_stuck") is not None:
        stuck = f"{hours(data['hours_stuck'])} stuck"
    else:
        stuck = f"{hours(data.get('hours_at_triage'))} stuck at triage"
    if r.get("sla_hours") is not None:
        sla = f"SLA {escape(r['sla_hours'])}h"
        if data.get("sla_breached") is not None:
            sla += ", breached" if data["sla_breached"] else ", within"
        stuck += f" ({sla})"
    parts = [escape(p) for p in (data.get("priority"), data.get("status")) if p]
    lines = [f"🔎 *`{escape(data['order_id'])}`* — {' · '.join([*parts, stuck])}"]
    o = data.get("order")
    if o:
        amount = money(o.get("amount"), o.get("currency") or "")
        if o.get("receive_amount") is not None and o.get("receive_currency"):
            amount += f" → {money(o['receive_amount'], o['receive_currency'])}"
        facts = [
            amount,
            f"corridor {o['corridor']}" if o.get("corridor") else "",
            f"partner {o['payout_partner']}" if o.get("payout_partner") else "",
            str(o.get("payment_method") or ""),
            str(r.get("code") or ""),
        ]
        lines.append(escape(" · ".join(f for f in facts if f)))
        if o.get("status") and o["status"] != "STUCK":
            lines.append(f"⚠️ The warehouse shows this order {escape(o['status'])} — resolve it.")
    else:
        lines.append(
            escape(f"{money(data.get('amount'), data.get('currency') or '')} · {r['code']}")
        )
        lines.append("⚠️ The order was not found in the warehouse.")
    if r.get("title"):
        lines.append(f"*{escape(r['code'])}*: {escape(r['title'])}")
    return lines


def _timeline(events: list[dict]) -> str:
    if not events:
        return "Timeline: no events recorded."
    shown = events[-TIMELINE_LINES:]
    more = f" of {len(events)}" if len(events) > len(shown) else ""
    lines = [f"*Timeline* (latest {len(shown)}{more}):"]
    for e in shown:
        detail = f" — {e['detail']}" if e.get("detail") else ""
        lines.append(
            f"`{escape(str(e.get('event_at'))[5:16])}` "
            + escape(f"{e.get('event_type')} ({e.get('system')}){detail}")
        )
    return "\n".join(lines)


def order_details(data: dict) -> list[list[dict]]:
    """The order-details result: facts, timeline, diagnosis, the runbook, Resolve/Escalate."""
    oid, r = str(data["order_id"]), data["reason"]
    blocks = [section("\n".join(_order_header(data))), context(_timeline(data["timeline"]))]
    found = []
    if data.get("diagnosis"):
        found.append(f"*Diagnosis:* {escape(data['diagnosis'])}")
    if data.get("checks"):
        found.append(f"*Checks:* {escape(actions_line([str(c) for c in data['checks']]))}")
    if found:
        blocks.append(section("\n".join(found)))
    if data.get("runbook"):
        blocks.append(section(f"📘 *Runbook — {escape(r['code'])}*"))
        blocks += [section(c) for c in chunks(markdown_to_mrkdwn(str(data["runbook"])))]
    else:
        steps = actions_line([str(a) for a in r.get("actions") or []]) or "ask an ECM manager"
        missing = data.get("runbook_missing") or "missing"
        blocks.append(section(escape(f"No runbook ({missing}); steps: {steps}")))
    if r.get("escalate_to"):
        blocks.append(context(f"Escalates to: {escape(r['escalate_to'])}"))
    blocks.append(ticket_buttons(oid, join_id("order_actions", oid), details=False))
    return paginate(blocks)
