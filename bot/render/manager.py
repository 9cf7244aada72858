"""Text renderers for the manager skills' results."""

from __future__ import annotations

from bot.render import actions_line, money, renderer


def triage_summary(data: dict) -> str:
    c = data["counts"]
    head = "🎯 ECM Triage" + (" (dry run, nothing written)" if data.get("dry_run") else "")
    lines = [f"{head} — {c['assigned']} tickets assigned"]
    for a in data["agents"]:
        counts = ", ".join(f"{n} {p}" for p, n in a["by_priority"].items())
        lines.append(f"👤 @{a['agent'].split('@')[0]} — {len(a['tickets'])} tickets ({counts})")
    lines.append(f"⚠️ Unassigned: {c['unassigned']} · 🚨 Escalated: {c['escalated']}")
    lines.append(
        f"New {c['new']} · kept {c['kept']} · moved {c['moved']} · closed {c['closed']}"
        + (f" · 🔁 reopened {c['reopened']}" if c.get("reopened") else "")
        + (
            f" · left alone (changed during triage) {c['skipped_changed_during_triage']}"
            if c["skipped_changed_during_triage"]
            else ""
        )
    )
    return "\n".join(lines)


def agent_thread(agent: dict) -> str:
    lines = [f"@{agent['agent'].split('@')[0]} — your tickets from this triage:"]
    for t in agent["tickets"]:
        lines.append(
            f"{t['priority']} | {t['order_id']} | {money(t['amount'], t['currency'])} | "
            f"{t['hours']:.0f}h | {t['reason']} → {actions_line(t['actions'])}"
            + (" | 🔁 reopened: still stuck" if t.get("reopened") else "")
        )
    return "\n".join(lines)


@renderer
def render_triage(data: dict) -> str:
    parts = [triage_summary(data)]
    parts += ["\n🧵 " + agent_thread(a) for a in data["agents"]]
    if data["unassigned"]:
        parts.append("\n⚠️ Unassigned (no active agent with the skill and capacity):")
        parts += [
            f"  {u['priority']} | {u['order_id']} | {u['reason']} (needs {u['team']})"
            for u in data["unassigned"]
        ]
    if data["escalated"]:
        parts.append("\n🚨 Escalated (P1 stuck over 24h):")
        parts += [f"  {e['order_id']} → {e['target']}" for e in data["escalated"]]
    return "\n".join(parts)


@renderer
def render_assign(data: dict) -> str:
    was = f" (was {data['from'].split('@')[0]})" if data["from"] else ""
    if data.get("reopened_from"):
        was += f", reopened from {data['reopened_from']}"
    return (
        f"🔁 {data['order_id']} ({data['priority']}, {data['stuck_reason']}) is now "
        f"@{data['to'].split('@')[0]}'s{was}. Reason: {data['reason']}"
    )


@renderer
def render_dashboard(data: dict) -> str:
    def counts(d: dict) -> str:
        return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"

    med = data["median_minutes_to_resolve"]
    lines = [
        f"📊 ECM dashboard — {data['open']} open tickets",
        f"By status: {counts(data['by_status'])}",
        f"By priority: {counts(data['by_priority'])}",
        "By reason: " + counts(dict(list(data["by_reason"].items())[:8])),
        "By agent: " + counts({k.split("@")[0]: v for k, v in data["by_agent"].items()}),
        f"⏱️ SLA breaches: {len(data['sla_breaches'])}",
    ]
    lines += [
        f"  {b['priority']} | {b['order_id']} | {b['hours']:.0f}h vs {b['sla_hours']}h SLA | "
        f"{b['reason']} | @{(b['agent'] or '-').split('@')[0]}"
        for b in data["sla_breaches"][:10]
    ]
    if len(data["sla_breaches"]) > 10:
        lines.append(f"  … and {len(data['sla_breaches']) - 10} more")
    lines.append(
        f"✅ Resolved today: {data['resolved_today']}"
        + (f" · median {med:.0f} min to resolve" if med is not None else "")
    )
    lines.append(
        f"Warehouse: {data['stuck_in_warehouse']} stuck orders, "
        f"{data['not_on_sheet']} not yet on the sheet"
    )
    return "\n".join(lines)


@renderer
def render_patterns(data: dict) -> str:
    lines = [
        f"🔎 Patterns — last {data['window_hours']}h vs the previous "
        f"{data['baseline_days']} days ({data['rule']})"
    ]
    if not data["anomalies"]:
        lines.append("No anomalies: every reason, corridor and partner is within its baseline.")
    for a in data["anomalies"]:
        lines.append(
            f"  {a['dimension']} {a['value']}: {a['observed']} stuck vs {a['baseline']} "
            f"expected ({a['ratio']}×, p={a['p_value']:.1e})"
        )
    return "\n".join(lines)


@renderer
def render_daily(data: dict) -> str:
    return "\n".join(
        [
            "🗞️ ECM daily digest",
            *[f"• {h}" for h in data["highlights"]],
            "",
            triage_summary(data["triage"]),
            "",
            render_patterns(data["patterns"]),
        ]
    )
