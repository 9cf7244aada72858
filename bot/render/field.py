"""Text renderers for the field skills' results."""

from __future__ import annotations

from typing import Any

from bot.render import actions_line, money, renderer

TIMELINE_LINES = 8


def _hours(value: Any) -> str:
    try:
        return f"{float(value):.0f}h"
    except (TypeError, ValueError):
        return "?h"


def ticket_line(t: dict) -> str:
    """P1 | AE136ABC00 | 721 AED | 14h | LULU_NOT_CONFIRMED → 1) Check Checkout 2) ..."""
    hours = _hours(t["hours"]) + (" (at triage)" if t.get("hours_source") == "triage" else "")
    line = (
        f"{t['priority']} | {t['order_id']} | {money(t['amount'], t['currency'])} | "
        f"{hours} | {t['reason']}"
    )
    if t.get("actions"):
        line += f" → {actions_line(t['actions'])}"
    if t.get("note"):
        line += f" ⚠️ {t['note']}"
    return line


@renderer
def render_my_tickets(data: dict) -> str:
    if not data["tickets"]:
        return "🎉 No open tickets — nice work."
    counts = ", ".join(f"{n} {p}" for p, n in data["by_priority"].items())
    lines = [f"📋 Your queue — {data['count']} open ({counts})"]
    if data.get("live_error"):
        lines.append(f"⚠️ {data['live_error']}.")
    for t in data["tickets"]:
        lines.append(ticket_line(t))
        if t.get("diagnosis"):
            lines.append(f"   ↳ {t['diagnosis']}")
    lines.append("Open one with: order ORDER_ID")
    return "\n".join(lines)


def _header(data: dict) -> list[str]:
    r = data["reason"]
    stuck = (
        f"{_hours(data['hours_stuck'])} stuck"
        if data["hours_stuck"] is not None
        else (f"{_hours(data['hours_at_triage'])} stuck at triage")
    )
    if r.get("sla_hours") is not None:
        sla = f"SLA {r['sla_hours']}h"
        if data.get("sla_breached") is not None:
            sla += ", breached" if data["sla_breached"] else ", within"
        stuck += f" ({sla})"
    parts = [p for p in (data.get("priority"), data["status"]) if p]
    lines = [f"🔎 {data['order_id']} — {' · '.join(parts + [stuck])}"]
    o = data.get("order")
    if o:
        second = [money(o["amount"], o["currency"])]
        if o.get("receive_amount") is not None and o.get("receive_currency"):
            second[0] += f" → {money(o['receive_amount'], o['receive_currency'])}"
        second += [
            f"corridor {o['corridor']}" if o.get("corridor") else "",
            f"partner {o['payout_partner']}" if o.get("payout_partner") else "",
            str(o.get("payment_method") or ""),
            r["code"],
        ]
        lines.append(" · ".join(p for p in second if p))
        if o.get("status") and o["status"] != "STUCK":
            lines.append(f"⚠️ The warehouse shows this order {o['status']} — resolve it.")
    else:
        lines.append(f"{money(data['amount'], data['currency'])} · {r['code']}")
        lines.append("⚠️ The order was not found in the warehouse.")
    if r.get("title"):
        lines.append(f"{r['code']}: {r['title']}")
    return lines


@renderer
def render_order_details(data: dict) -> str:
    lines = _header(data)
    events = data["timeline"]
    if events:
        shown = events[-TIMELINE_LINES:]
        more = f" of {len(events)}" if len(events) > len(shown) else ""
        lines.append(f"Timeline (latest {len(shown)}{more}):")
        for e in shown:
            lines.append(
                f" {str(e['event_at'])[5:16]} {e['event_type']} ({e['system']})"
                + (f" — {e['detail']}" if e.get("detail") else "")
            )
    else:
        lines.append("Timeline: no events recorded.")
    if data.get("diagnosis"):
        lines.append(f"Diagnosis: {data['diagnosis']}")
    if data.get("checks"):
        lines.append("Checks: " + actions_line(data["checks"]))
    r = data["reason"]
    if data.get("runbook"):
        lines += [f"Runbook — {r['code']}:", data["runbook"].rstrip()]
    else:
        lines.append(
            f"No runbook ({data.get('runbook_missing') or 'missing'}); steps: "
            + (actions_line(r["actions"]) or "ask an ECM manager")
        )
    if r.get("escalate_to"):
        lines.append(f"Escalates to: {r['escalate_to']}")
    oid = data["order_id"]
    lines.append(f"Next: resolve {oid} NOTES · escalate {oid} REASON")
    return "\n".join(lines)


@renderer
def render_resolve(data: dict) -> str:
    if data["sla_met"] is None:
        sla = "SLA UNKNOWN (order not found in the warehouse)"
    elif data["sla_met"]:
        sla = "SLA MET"
    else:
        sla = f"SLA MISSED ({_hours(data['hours_stuck'])} vs {data['sla_hours']}h)"
    took = data["time_to_resolve"] or "unknown time"
    return f"✅ Resolved in {took} | {sla} | {data['remaining']} remaining"


@renderer
def render_escalate(data: dict) -> str:
    return (
        f"🚨 Escalated {data['order_id']} to {data['target']}. "
        f"ESCALATED · {data['remaining']} remaining in your queue."
    )
