"""The manager skills' views: the triage summary (one thread per agent, then the unassigned
and escalated orders), a reassignment, the dashboard, patterns and the daily digest."""

from __future__ import annotations

from bot.present import counts, presenter
from bot.present.model import (
    Action,
    Actions,
    Element,
    Heading,
    Mention,
    Note,
    Text,
    View,
    code,
    handle,
    line,
)
from bot.present.ticket import thread_item
from bot.present.unowned import unowned_list


def triage_summary(data: dict) -> list[Element]:
    """The summary's elements: headline, one line per agent, counts, and the next steps."""
    c = data["counts"]
    title = f"🎯 ECM Triage — {c['assigned']} tickets assigned"
    elements: list[Element] = [Heading(title + (" (dry run)" if data.get("dry_run") else ""))]
    if data.get("dry_run"):
        elements.append(Note((line("🧪 Dry run — nothing was written to the sheet."),)))
    agents = tuple(
        line(
            "👤 ",
            Mention(a["agent"]),
            f" — {len(a['tickets'])} tickets ({counts(a['by_priority'])})",
        )
        for a in data["agents"]
    ) or (line("Nobody was assigned a ticket."),)
    changed = c.get("skipped_changed_during_triage")
    tally = (
        f"New {c['new']} · kept {c['kept']} · moved {c['moved']} · closed {c['closed']}"
        + (f" · 🔁 reopened {c['reopened']}" if c.get("reopened") else "")
        + (f" · left alone (changed during triage) {changed}" if changed else "")
    )
    elements += [
        Text(agents, more="agents (see the dashboard)"),
        Note(
            (
                line(f"⚠️ Unassigned: {c['unassigned']} · 🚨 Escalated: {c['escalated']}"),
                line(tally),
            )
        ),
        Actions(
            "triage_actions",
            (
                Action("View Dashboard", "dashboard_view", "dashboard", command="dashboard"),
                Action(
                    "Override Assignment",
                    "override_open",
                    str(data.get("run_id") or ""),
                    command="assign ORDER_ID @AGENT REASON",
                ),
            ),
        ),
    ]
    return elements


def agent_thread(agent: dict) -> View:
    """One agent's thread reply: a mention, then each ticket with a Reassign… menu."""
    head = line(
        Mention(agent["agent"]), f" — your {len(agent['tickets'])} tickets from this triage"
    )
    return View([Text((head,)), *(thread_item(t) for t in agent["tickets"])])


CHANGE_TITLES = {"new": "🆕 New", "moved": "↪️ Moved in", "reopened": "🔁 Reopened"}


def agent_changes(agent: dict, moved_out: list[dict], closed: list[str]) -> View | None:
    """An agent's thread reply listing only what this triage changed in their queue (new,
    moved in, reopened, moved out, closed); None when nothing did. A queue that is all new
    (a first triage) is the whole queue, as ``agent_thread``."""
    tickets = agent["tickets"]
    changed = [t for t in tickets if t.get("change", "new") != "kept"]
    if not changed and not moved_out and not closed:
        return None
    first = all(t.get("change", "new") == "new" for t in tickets)
    if first and not moved_out and not closed:
        view = agent_thread(agent)
        view.key = "agent:" + agent["agent"]
        return view
    tally = [
        f"{sum(t.get('change') == kind for t in changed)} {title.split(' ', 1)[1].lower()}"
        for kind, title in CHANGE_TITLES.items()
        if any(t.get("change") == kind for t in changed)
    ]
    tally += [f"{len(moved_out)} moved out"] if moved_out else []
    tally += [f"{len(closed)} closed"] if closed else []
    head = line(
        Mention(agent["agent"]),
        f" — your queue changed: {' · '.join(tally)} (now {len(tickets)} tickets)",
    )
    elements: list[Element] = [Text((head,))]
    for kind, title in CHANGE_TITLES.items():
        group = [t for t in changed if t.get("change") == kind]
        if group:
            elements += [Text((line(f"{title}:"),)), *(thread_item(t) for t in group)]
    if moved_out:
        rows = [
            line("↩️ Moved out: ", code(m["order_id"]), " → ", Mention(m["to"])) for m in moved_out
        ]
        elements.append(Text(tuple(rows)))
    if closed:
        elements.append(Text((line("✔️ Closed (no longer stuck): " + ", ".join(closed)),)))
    return View(elements, key="agent:" + agent["agent"])


def changed_threads(data: dict) -> list[View]:
    """One thread per agent whose queue this triage changed, in the summary's order (agents
    left with no tickets after it last)."""
    moved_out: dict[str, list[dict]] = {}
    for a in data["agents"]:
        for t in a["tickets"]:
            if t.get("change") == "moved" and t.get("from"):
                moved_out.setdefault(t["from"], []).append(
                    {"order_id": t["order_id"], "to": a["agent"]}
                )
    closed: dict[str, list[str]] = {}
    for c in data.get("closed") or []:
        if c.get("agent"):
            closed.setdefault(c["agent"], []).append(c["order_id"])
    agents = list(data["agents"])
    named = {a["agent"] for a in agents}
    agents += [
        {"agent": e, "tickets": [], "by_priority": {}}
        for e in sorted((set(moved_out) | set(closed)) - named)
    ]
    views = (
        agent_changes(a, moved_out.get(a["agent"], []), closed.get(a["agent"], [])) for a in agents
    )
    return [v for v in views if v is not None]


@presenter
def triage(data: dict) -> View:
    """The summary as one message, with a thread per agent whose queue changed (listing only
    the changes), then the unassigned and escalated orders: the top ones with Take and
    Assign…, the next ones with the command to type, and how many more."""
    view = View(triage_summary(data), one_message=True, key="summary")
    view.threads += changed_threads(data)
    c = data.get("counts") or {}
    if data["unassigned"]:
        n = max(int(c.get("unassigned") or 0), len(data["unassigned"]))
        title = f"⚠️ Unassigned — {n} (no active agent with the skill and capacity):"
        elements = unowned_list(title, data["unassigned"], n, {}, "unassigned")
        view.threads.append(View(elements, key="unassigned"))
    if data["escalated"]:
        n = max(int(c.get("escalated") or 0), len(data["escalated"]))
        title = f"🚨 Escalated — {n} (P1 stuck over 24h):"
        owners = {str(e["order_id"]): str(e.get("agent") or "") for e in data["escalated"]}
        elements = unowned_list(title, data["escalated"], n, owners, "escalated")
        view.threads.append(View(elements, key="escalated"))
    return view


@presenter
def acknowledge(data: dict) -> View:
    """👍 Acknowledged the escalation of `AE…` (to TEAM)."""
    to = f" (to {data['target']})" if data.get("target") else ""
    text = line("👍 Acknowledged the escalation of ", code(data["order_id"]), f"{to}.")
    return View([Text((text,))])


@presenter
def assign(data: dict) -> View:
    """🔁 AE… (P1, REASON) is now @james's (was sarah). Reason: … (📌 pinned); 📌 kept with its
    owner, pinned (assigned to the agent who holds it); or 📌 unpinned."""
    if data.get("unpinned"):
        return View([Text((unpinned_line(data),))])
    if data.get("kept"):
        return View([Text((kept_line(data),))])
    was = f" (was {handle(data['from'])})" if data["from"] else ""
    if data.get("reopened_from"):
        was += f", reopened from {data['reopened_from']}"
    text = line(
        "🔁 ",
        code(data["order_id"]),
        f" ({data['priority']}, {data['stuck_reason']}) is now ",
        Mention(data["to"]),
        f"'s{was}. Reason: {data['reason']}",
    )
    oid = data["order_id"]
    if not data.get("pinned"):
        return View([Text((text,))])
    pin = line("📌 Pinned: triage keeps it with them until you say ", code(f"unpin {oid}"))
    return View([Text((text, pin))])


def kept_line(data: dict):
    """📌 AE… (P1, REASON) stays @sarah's, now pinned: triage keeps it with them until you
    say `unpin AE…`. Reason: …"""
    oid = data["order_id"]
    return line(
        "📌 ", code(oid), f" ({data['priority']}, {data['stuck_reason']}) stays ",
        Mention(data["to"]), "'s, now pinned: triage keeps it with them until you say ",
        code(f"unpin {oid}"), f". Reason: {data['reason']}",
    )  # fmt: skip


def unpinned_line(data: dict):
    """📌 AE… is no longer pinned to @james; the next triage places it like any other."""
    return line(
        "📌 ", code(data["order_id"]), " is no longer pinned to ", Mention(data["agent"]),
        "; the next triage places it like any other.",
    )  # fmt: skip


def _counts(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"


@presenter
def dashboard(data: dict) -> View:
    """Open tickets by status, priority, reason and agent; SLA breaches; today's resolutions."""
    med = data["median_minutes_to_resolve"]
    rows = [
        f"📊 ECM dashboard — {data['open']} open tickets",
        f"By status: {_counts(data['by_status'])}",
        f"By priority: {_counts(data['by_priority'])}",
        "By reason: " + _counts(dict(list(data["by_reason"].items())[:8])),
        "By agent: " + _counts({handle(k): v for k, v in data["by_agent"].items()}),
        f"⏱️ SLA breaches: {len(data['sla_breaches'])}",
    ]
    rows += [
        f"  {b['priority']} | {b['order_id']} | {b['hours']:.0f}h vs {b['sla_hours']}h SLA | "
        f"{b['reason']} | @{handle(b['agent'] or '-')}"
        + (" | ⏳ waiting" if b.get("status") == "WAITING" else "")
        for b in data["sla_breaches"][:10]
    ]
    if len(data["sla_breaches"]) > 10:
        rows.append(f"  … and {len(data['sla_breaches']) - 10} more")
    rows.append(
        f"✅ Resolved today: {data['resolved_today']}"
        + (
            f" · median {med:.0f} min from assignment to resolution"
            " (the SLA counts from when the order got stuck)"
            if med is not None
            else ""
        )
    )
    rows.append(
        f"Warehouse: {data['stuck_in_warehouse']} stuck orders, "
        f"{data['not_on_sheet']} not yet on the sheet"
    )
    if away_text(data):
        rows.append(away_text(data))
    return View([Text(tuple(line(r) for r in rows))])


HANDOVER_WORDS = {"moved": "handed over", "pinned": "pinned, to decide", "no_room": "no room"}


def away_text(data: dict) -> str:
    """🌴 Away: @sarah.ops until 2026-12-03 05:00 UTC · Handovers today: 3 handed over, 1 no
    room (empty when nobody is away and nothing was handed over today)."""
    parts = []
    if data.get("away"):
        parts.append(
            "🌴 Away: "
            + ", ".join(f"@{handle(a['agent'])} until {a['until'][:16]} UTC" for a in data["away"])
        )
    if data.get("handovers_today"):
        done = data["handovers_today"]
        parts.append(
            "Handovers today: "
            + ", ".join(f"{n} {HANDOVER_WORDS.get(k, k)}" for k, n in sorted(done.items()))
        )
    return " · ".join(parts)


def _pattern_lines(data: dict) -> tuple:
    rows = [
        f"🔎 Patterns — last {data['window_hours']}h vs the previous "
        f"{data['baseline_days']} days ({data['rule']})"
    ]
    if not data["anomalies"]:
        rows.append("No anomalies: every reason, corridor and partner is within its baseline.")
    rows += [
        f"  {a['dimension']} {a['value']}: {a['observed']} stuck vs {a['baseline']} "
        f"expected ({a['ratio']}×, p={a['p_value']:.1e})"
        for a in data["anomalies"]
    ]
    return tuple(line(r) for r in rows)


@presenter
def patterns(data: dict) -> View:
    """Anomalies of the last window against the baseline, by reason, corridor and partner."""
    return View([Text(_pattern_lines(data))])


@presenter
def daily(data: dict) -> View:
    """The digest: highlights, the triage summary and the patterns."""
    highlights = Text((line("🗞️ ECM daily digest"), *(line(f"• {h}") for h in data["highlights"])))
    return View(
        [highlights, *triage_summary(data["triage"]), Text(_pattern_lines(data["patterns"]))]
    )
