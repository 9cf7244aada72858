"""The field skills' views: an agent's queue, one order's details (facts, timeline, diagnosis,
runbook, Resolve / Escalate), and what a resolve or an escalation did."""

from __future__ import annotations

import json

from bot.present import counts, hours, money, presenter, steps
from bot.present.model import (
    Action,
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
from bot.present.ticket import queue_item, snooze_action, work_actions

TIMELINE_LINES = 8
PAGE = 10
"""A queue shows this many tickets, most urgent first, then Show more."""
EMPTY_QUEUE = "🎉 No open tickets — nice work."


@presenter
def my_tickets(data: dict) -> View:
    """The queue: a heading, a page of PAGE tickets (from ``offset``) each with its
    diagnosis and buttons, then Show more when there are more, and how to open one."""
    notes = _away_lines(data)
    if not data.get("tickets"):
        empty = View([Text((line(EMPTY_QUEUE),))])
        return empty.add(Note(notes)) if notes else empty
    tickets = data["tickets"]
    total = data.get("count", len(tickets))
    start = min(int(data.get("offset") or 0), max(0, len(tickets) - 1))
    page = tickets[start : start + PAGE]
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
    if notes:
        view.add(Note(notes))
    view.add(*(queue_item(t) for t in page))
    end = start + len(page)
    if start or end < len(tickets):
        view.add(Note((line(f"Showing {start + 1}–{end} of {len(tickets)}, most urgent first."),)))
    if end < len(tickets):
        more = Action(
            f"Show more ({len(tickets) - end})",
            "tickets_more",
            str(end + 1),
            command=f"my tickets from {end + 1}",
            accessibility_label=f"Show tickets {end + 1} to {min(end + PAGE, len(tickets))}",
        )
        view.add(Actions("tickets_more", (more,)))
    return view.add(Note((line("Open one with ", code("order ORDER_ID"), "."),)))


def _away_lines(data: dict) -> tuple[Line, ...]:
    """🌴 you are away until …; 🌙 a teammate's shift ended with N open."""
    found = []
    if data.get("away_until"):
        until = str(data["away_until"])[:16]
        found.append(
            line(f"🌴 You are away until {until} UTC: no new tickets. Say `back` to return.")
        )
    for n in data.get("shift_notes") or []:
        who = str(n["agent"]).split("@")[0]
        found.append(
            line(
                f"🌙 @{who}'s shift ended at {str(n['shift_end'])[11:16]} UTC with {n['open']} "
                "open on your teams; ask an ECM manager to move one to you if it can't wait."
            )
        )
    return tuple(found)


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
    """A short summary (the facts) and Resolve / Escalate / Snooze first; then the diagnosis and
    checks, where it escalates to, the timeline, and the runbook (or the reason's steps).
    The Resolve button carries the runbook's resolution-note template to pre-fill the form."""
    oid, r = str(data["order_id"]), data["reason"]
    template = str(data.get("note_template") or "")
    value = json.dumps({"order_id": oid, "note": template}) if template else None
    acts = work_actions(oid, value)
    if str(data.get("status") or "").upper() != "WAITING":  # the queue's Snooze, same form
        acts = (*acts, snooze_action(oid))
    view = View([Text(tuple(_facts(data))), Actions(oid, acts)])
    found = []
    if data.get("diagnosis"):
        found.append(line(bold("Diagnosis:"), f" {data['diagnosis']}"))
    if data.get("checks"):
        found.append(line(bold("Checks:"), " " + steps([str(c) for c in data["checks"]])))
    if found:
        view.add(Text(tuple(found)))
    if r.get("escalate_to"):
        view.add(Note((line(f"Escalates to: {r['escalate_to']}"),)))
    view.add(Note(_timeline(data["timeline"])))
    if data.get("runbook"):
        view.add(Text((line("📘 ", bold(f"Runbook — {r['code']}")),)))
        view.add(Document(str(data["runbook"])))
    else:
        todo = steps([str(a) for a in r.get("actions") or []]) or "ask an ECM manager"
        missing = data.get("runbook_missing") or "missing"
        view.add(Text((line(f"No runbook ({missing}); steps: {todo}"),)))
    return view


def _sla(data: dict) -> str:
    """stuck 27h (SLA 6h, breached before it was assigned): both counted from when the
    order got stuck."""
    if data.get("hours_stuck") is None:
        return "time stuck unknown (the order is not in the warehouse)"
    stuck = f"stuck {hours(data['hours_stuck'])}"
    if data.get("sla_hours") is None or data.get("sla_met") is None:
        return stuck
    if data["sla_met"]:
        verdict = "met"
    elif data.get("breached_before_assignment"):
        verdict = "breached before it was assigned"
    else:
        verdict = "breached"
    return f"{stuck} (SLA {data['sla_hours']}h, {verdict})"


@presenter
def resolve(data: dict) -> View:
    """✅ `EU880NYY24` resolved — 6 min after assignment · stuck 27h (SLA 6h, breached before
    it was assigned) · 4 left in your queue."""
    took = data.get("time_to_resolve")
    after = f"{took} after assignment" if took else "time since assignment unknown"
    left = f"{data['remaining']} left in your queue"
    return View(
        [
            Text(
                (
                    line(
                        "✅ ",
                        code(data["order_id"]),
                        f" resolved — {after} · {_sla(data)} · {left}",
                    ),
                )
            )
        ]
    )


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


@presenter
def take(data: dict) -> View:
    """🙋 `AE…` is yours now: REASON (team) · 721 AED · stuck 30h, and what to do next."""
    oid = data["order_id"]
    facts = f"{data['reason_code']} ({data['team']}) · {money(data['amount'], data['currency'])}"
    head = line("🙋 ", code(oid), f" is yours now: {facts} · stuck {hours(data.get('hours'))}.")
    queue = f"{data['status']} · {data['open']} of {data['capacity']} open in your queue."
    details = Action(
        "Details",
        "ticket_details",
        oid,
        "primary",
        f"order {oid}",
        f"Details of order {oid}",
    )
    return View([Text((head, line(queue))), Actions("take_next", (details,))])


@presenter
def snooze(data: dict) -> View:
    """⏳ `AE…` is waiting until 2026-12-02 09:00 UTC: NOTE. The SLA keeps running; it comes
    back to the top of your queue with a DM then."""
    head = line(
        "⏳ ",
        code(data["order_id"]),
        f" is waiting until {str(data['until'])[:16]} UTC: {data['note']}",
    )
    after = (
        f"The SLA keeps running. It comes back to the top of your queue as "
        f"{data['resume_status']} with a DM then · {data['open']} open in your queue."
    )
    return View([Text((head, line(after)))])


@presenter
def away(data: dict) -> View:
    """🌴 You are away until … (or @agent is, set by a manager), what was handed over and what
    stays; 👋 back; 🙅 refused (the last one on shift for a team: the managers were told)."""
    you = data.get("self_service", True) and data.get("set_by") == data.get("agent")
    who, them = ("You are", "you") if you else (f"@{data['handle']} is", "them")
    if data.get("back"):
        head = "👋 Welcome back" if you else f"👋 @{data['handle']} is back"
        text = f"{head}: new tickets go to {them} again, and Take works."
        return View([Text((line(text),))])
    if data.get("refused"):
        teams = ", ".join(data.get("uncovered") or [])
        text = f"🙅 You are the last agent on shift for {teams}, so nothing moved: "
        return View([Text((line(text + "I've told the ECM managers."),))])
    local, utc = str(data["until_local"]), str(data["until"])[:16] + " UTC"
    when = local if local == utc else f"{local} ({utc})"
    lines = [line(f"🌴 {who} away until {when}. No new tickets till then.")]
    if data.get("moved"):
        parts = ", ".join(
            f"{t['order_id']} ({t['priority']}, {t['reason_code']}) to @{t['to'].split('@')[0]}"
            for t in data["moved"]
        )
        lines.append(line(f"↪️ Handed over: {parts}"))
    if data.get("kept"):
        why = {"pinned": "pinned by a manager", "no_room": "nobody fitting has room"}
        parts = ", ".join(
            f"{t['order_id']} ({t['priority']}, {why.get(t['why'], t['why'])})"
            for t in data["kept"]
        )
        lines.append(line(f"📌 Stays with {them}, the managers decide: {parts}"))
    if not data.get("moved") and not data.get("kept"):
        lines.append(line("No open tickets to hand over."))
    if data.get("uncovered") and not you:
        lines.append(line(f"⚠️ Nobody else is on shift for {', '.join(data['uncovered'])} now."))
    return View([Text(tuple(lines))])
