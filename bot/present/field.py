"""The field skills' views: an agent's queue, one order's details (facts, timeline, diagnosis,
runbook, Resolve / Escalate), and what a resolve or an escalation did."""

from __future__ import annotations

from bot.present import counts, hours, money, presenter, steps
from bot.present.model import (
    Actions,
    Document,
    Line,
    Note,
    Text,
    View,
    bold,
    code,
    line,
)
from bot.present.ticket import queue_item, work_actions

TIMELINE_LINES = 8
EMPTY_QUEUE = "🎉 No open tickets — nice work."


@presenter
def my_tickets(data: dict) -> View:
    """The queue: a heading, each ticket with its diagnosis and buttons, how to open one."""
    if not data.get("tickets"):
        return View([Text((line(EMPTY_QUEUE),))])
    total = data.get("count", len(data["tickets"]))
    view = View(
        [
            Text(
                (
                    line(
                        "📋 ",
                        bold("Your queue"),
                        f" — {total} open ({counts(data.get('by_priority') or {})})",
                    ),
                )
            )
        ]
    )
    if data.get("live_error"):
        view.add(Note((line(f"⚠️ {data['live_error']}."),)))
    view.add(*(queue_item(t) for t in data["tickets"]))
    return view.add(Note((line("Open one with ", code("order ORDER_ID"), "."),)))


def _stuck(data: dict) -> str:
    r = data["reason"]
    if data.get("hours_stuck") is not None:
        stuck = f"{hours(data['hours_stuck'])} stuck"
    else:
        stuck = f"{hours(data.get('hours_at_triage'))} stuck at triage"
    if r.get("sla_hours") is not None:
        sla = f"SLA {r['sla_hours']}h"
        if data.get("sla_breached") is not None:
            sla += ", breached" if data["sla_breached"] else ", within"
        stuck += f" ({sla})"
    return stuck


def _facts(data: dict) -> list[Line]:
    r, o = data["reason"], data.get("order")
    parts = [str(p) for p in (data.get("priority"), data.get("status")) if p]
    lines = [line("🔎 ", code(data["order_id"]), " — " + " · ".join([*parts, _stuck(data)]))]
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
        lines.append(line(" · ".join(f for f in facts if f)))
        if o.get("status") and o["status"] != "STUCK":
            lines.append(line(f"⚠️ The warehouse shows this order {o['status']} — resolve it."))
    else:
        lines.append(line(f"{money(data.get('amount'), data.get('currency') or '')} · {r['code']}"))
        lines.append(line("⚠️ The order was not found in the warehouse."))
    if r.get("title"):
        lines.append(line(bold(r["code"]), f": {r['title']}"))
    return lines


def _timeline(events: list[dict]) -> tuple[Line, ...]:
    if not events:
        return (line("Timeline: no events recorded."),)
    shown = events[-TIMELINE_LINES:]
    more = f" of {len(events)}" if len(events) > len(shown) else ""
    lines = [line(bold("Timeline"), f" (latest {len(shown)}{more}):")]
    for e in shown:
        detail = f" — {e['detail']}" if e.get("detail") else ""
        lines.append(
            line(
                code(str(e.get("event_at"))[5:16]),
                f" {e.get('event_type')} ({e.get('system')})" + detail,
            )
        )
    return tuple(lines)


@presenter
def order_details(data: dict) -> View:
    """Facts, timeline, diagnosis and checks, the runbook (or the reason's steps), where it
    escalates to, and Resolve / Escalate."""
    oid, r = str(data["order_id"]), data["reason"]
    view = View([Text(tuple(_facts(data))), Note(_timeline(data["timeline"]))])
    found = []
    if data.get("diagnosis"):
        found.append(line(bold("Diagnosis:"), f" {data['diagnosis']}"))
    if data.get("checks"):
        found.append(line(bold("Checks:"), " " + steps([str(c) for c in data["checks"]])))
    if found:
        view.add(Text(tuple(found)))
    if data.get("runbook"):
        view.add(Text((line("📘 ", bold(f"Runbook — {r['code']}")),)))
        view.add(Document(str(data["runbook"])))
    else:
        todo = steps([str(a) for a in r.get("actions") or []]) or "ask an ECM manager"
        missing = data.get("runbook_missing") or "missing"
        view.add(Text((line(f"No runbook ({missing}); steps: {todo}"),)))
    if r.get("escalate_to"):
        view.add(Note((line(f"Escalates to: {r['escalate_to']}"),)))
    return view.add(Actions(oid, work_actions(oid)))


@presenter
def resolve(data: dict) -> View:
    """✅ Resolved in 2h 10m | SLA MET | 4 remaining."""
    if data["sla_met"] is None:
        sla = "SLA UNKNOWN (order not found in the warehouse)"
    elif data["sla_met"]:
        sla = "SLA MET"
    else:
        sla = f"SLA MISSED ({hours(data['hours_stuck'])} vs {data['sla_hours']}h)"
    took = data["time_to_resolve"] or "unknown time"
    return View([Text((line(f"✅ Resolved in {took} | {sla} | {data['remaining']} remaining"),))])


@presenter
def escalate(data: dict) -> View:
    """🚨 Escalated AE… to TEAM."""
    return View(
        [
            Text(
                (
                    line(
                        "🚨 Escalated ",
                        code(data["order_id"]),
                        f" to {data['target']}. ESCALATED · {data['remaining']} remaining "
                        "in your queue.",
                    ),
                )
            )
        ]
    )
