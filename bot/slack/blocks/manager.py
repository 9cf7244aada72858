"""Manager views: the triage channel post (headline, one line per agent, counts, Dashboard and
Override buttons) and each agent's thread reply with a Reassign… menu per ticket. The dashboard,
patterns and other manager results are rendered text (kit.text_messages)."""

from __future__ import annotations

from bot.slack.blocks.kit import (
    MAX_BLOCKS,
    MAX_OPTION_TEXT,
    MAX_OPTION_VALUE,
    actions,
    button,
    context,
    counts,
    escape,
    header,
    join_id,
    mention,
    pack,
    paginate,
    plain,
    section,
)
from bot.slack.blocks.ticket import ticket_text


def triage_summary(data: dict, slack_ids: dict[str, str]) -> list[dict]:
    """The triage channel post: headline, one line per agent, counts, and two buttons."""
    c = data["counts"]
    title = f"🎯 ECM Triage — {c['assigned']} tickets assigned"
    head = [header(title + (" (dry run)" if data.get("dry_run") else ""))]
    if data.get("dry_run"):
        head.append(context("🧪 Dry run — nothing was written to the sheet."))
    lines = [
        f"👤 {mention(a['agent'], _slack_id(slack_ids, a['agent']))} — "
        f"{len(a['tickets'])} tickets ({escape(counts(a['by_priority']))})"
        for a in data["agents"]
    ] or ["Nobody was assigned a ticket."]
    changed = c.get("skipped_changed_during_triage")
    tail = [
        context(
            f"⚠️ Unassigned: {c['unassigned']} · 🚨 Escalated: {c['escalated']}",
            f"New {c['new']} · kept {c['kept']} · moved {c['moved']} · closed {c['closed']}"
            + (f" · 🔁 reopened {c['reopened']}" if c.get("reopened") else "")
            + (f" · left alone (changed during triage) {changed}" if changed else ""),
        ),
        actions(
            "triage_actions",
            button("View Dashboard", "dashboard_view", "dashboard"),
            button("Override Assignment", "override_open", data.get("run_id")),
        ),
    ]
    groups = pack(lines)
    budget = MAX_BLOCKS - len(head) - len(tail)
    if len(groups) > budget:
        groups = groups[: budget - 1]
        more = len(lines) - sum(len(g) for g in groups)
        groups.append([f"… and {more} more agents (see the dashboard)"])
    return [*head, *(section("\n".join(g)) for g in groups), *tail]


def _slack_id(slack_ids: dict[str, str], email: object) -> str | None:
    key = str(email or "")
    return slack_ids.get(key) or slack_ids.get(key.lower())


def agent_thread(agent: dict, slack_id: str | None) -> list[list[dict]]:
    """The thread reply for one agent: a mention, then one section per ticket with a menu."""
    tickets = agent["tickets"]
    blocks = [
        section(
            f"{mention(agent['agent'], slack_id)} — your {len(tickets)} tickets from this triage"
        )
    ]
    for i, t in enumerate(tickets):
        oid = str(t.get("order_id") or "")
        menu = {
            "type": "overflow",
            "action_id": "ticket_overflow",
            "options": [
                {
                    "text": plain("Reassign…", MAX_OPTION_TEXT),
                    "value": f"reassign:{oid}"[:MAX_OPTION_VALUE],
                }
            ],
        }
        blocks.append(section(ticket_text(t), join_id("thread", i, oid), menu if oid else None))
    return paginate(blocks)
