"""Block Kit renderings of skill results for the Slack app: raw dicts from pure functions.

The content mirrors the text renderers in bot.render. Every text that comes from data is escaped
(escape), long text is split into sections of at most MAX_SECTION characters, and long content is
paged into messages of at most MAX_BLOCKS blocks (MAX_VIEW_BLOCKS for modals and App Home)."""

from __future__ import annotations

import re
from typing import Any

from bot.render import actions_line, money

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_VALUE = 2000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_ID = 255
MAX_TITLE = 24
MAX_METADATA = 3000
MAX_INPUT = 3000
TIMELINE_LINES = 8

_SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,30}")


# ---------------------------------------------------------------- text helpers


def escape(text: object) -> str:
    """Text safe inside mrkdwn: & < > become entities, so <!channel>, <@U1>, links are inert."""
    if text is None:
        return ""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _entity_safe_cut(text: str, cut: int) -> int:
    """Move an (escaped) text's cut point back so it never falls inside &amp; &lt; &gt;."""
    amp = text.rfind("&", max(0, cut - 4), cut)
    return amp if amp != -1 and ";" not in text[amp:cut] else cut


def _clip(text: str, limit: int) -> str:
    """Escaped text cut to at most limit characters, ending with … when cut."""
    if len(text) <= limit:
        return text
    return text[: _entity_safe_cut(text, limit - 1)] + "…"


def _hard_split(text: str, limit: int) -> list[str]:
    pieces = []
    while len(text) > limit:
        cut = _entity_safe_cut(text, limit)
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text]


def _pack(lines: list[str], limit: int = MAX_SECTION) -> list[list[str]]:
    """Already-escaped lines packed into groups whose newline-joined text fits limit."""
    groups: list[list[str]] = []
    size = 0
    for line in lines:
        for piece in _hard_split(line, limit):
            if groups and size + 1 + len(piece) <= limit:
                groups[-1].append(piece)
                size += 1 + len(piece)
            else:
                groups.append([piece])
                size = len(piece)
    return groups


def _chunks(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Escape text and split it on line boundaries into non-blank chunks of at most limit."""
    chunks = ["\n".join(g).strip("\n") for g in _pack(escape(text).split("\n"), limit)]
    return [c for c in chunks if c.strip()]


def _markdown_to_mrkdwn(text: str) -> str:
    """The little of Markdown runbooks use: # headings and **bold** become *bold*."""
    text = re.sub(r"^#{1,6}\s+(.+?)\s*$", r"*\1*", text, flags=re.MULTILINE)
    return re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)


def _hours(value: Any) -> str:
    try:
        return f"{float(value):.0f}h"
    except (TypeError, ValueError):
        return "?h"


def _handle(email: object) -> str:
    return str(email or "").split("@")[0]


def _mention(email: object, slack_id: str | None) -> str:
    """<@U…> for a well-formed Slack user ID, otherwise the escaped @handle."""
    if slack_id and _SLACK_ID.fullmatch(str(slack_id)):
        return f"<@{slack_id}>"
    return "@" + escape(_handle(email))


def _counts(by_priority: dict) -> str:
    return ", ".join(f"{n} {p}" for p, n in by_priority.items())


# ---------------------------------------------------------------- block helpers


def plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def section(text: str, block_id: str | None = None, accessory: dict | None = None) -> dict:
    block: dict = {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, MAX_SECTION)}}
    if block_id:
        block["block_id"] = _block_id(block_id)
    if accessory:
        block["accessory"] = accessory
    return block


def context(*texts: str) -> dict:
    elements = [{"type": "mrkdwn", "text": _clip(t, MAX_SECTION)} for t in texts if t][:10]
    return {"type": "context", "elements": elements}


def header(text: str) -> dict:
    return {"type": "header", "text": plain(text, MAX_HEADER)}


def _block_id(*parts: object) -> str:
    return ":".join(str(p) for p in parts)[:MAX_ID]


def button(text: str, action_id: str, value: object = None, style: str | None = None) -> dict:
    button: dict = {"type": "button", "text": plain(text, MAX_BUTTON_TEXT), "action_id": action_id}
    if value not in (None, ""):
        button["value"] = str(value)[:MAX_VALUE]
    if style:
        button["style"] = style
    return button


def actions(block_id: str, *buttons: dict) -> dict:
    return {"type": "actions", "block_id": _block_id(block_id), "elements": list(buttons)}


def _ticket_buttons(order_id: str, block_id: str, details: bool = True) -> dict:
    buttons = [button("Details", "ticket_details", order_id)] if details else []
    buttons += [
        button("Resolve", "ticket_resolve", order_id, "primary"),
        button("Escalate", "ticket_escalate", order_id, "danger"),
    ]
    return actions(block_id, *buttons)


def paginate(blocks: list[dict], limit: int = MAX_BLOCKS) -> list[list[dict]]:
    """Blocks split into messages of at most limit blocks (no messages for no blocks)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return [blocks[i : i + limit] for i in range(0, len(blocks), limit)]


def _paginate_groups(groups: list[list[dict]], limit: int = MAX_BLOCKS) -> list[list[dict]]:
    """Like paginate, but a group of blocks (one ticket) stays in one message when it fits."""
    pages: list[list[dict]] = []
    for group in groups:
        if pages and len(pages[-1]) + len(group) <= limit:
            pages[-1].extend(group)
        else:
            pages.extend(paginate(list(group), limit))
    return pages


def text_messages(text: str) -> list[list[dict]]:
    """Already-rendered plain text (a dashboard, a digest) as escaped mrkdwn sections, paged."""
    return paginate([section(c) for c in _chunks(text or "")])


# ---------------------------------------------------------------- manager: triage


def triage_summary(data: dict, slack_ids: dict[str, str]) -> list[dict]:
    """The triage channel post: headline, one line per agent, counts, and two buttons."""
    c = data["counts"]
    title = f"🎯 ECM Triage — {c['assigned']} tickets assigned"
    head = [header(title + (" (dry run)" if data.get("dry_run") else ""))]
    if data.get("dry_run"):
        head.append(context("🧪 Dry run — nothing was written to the sheet."))
    lines = [
        f"👤 {_mention(a['agent'], _slack_id(slack_ids, a['agent']))} — "
        f"{len(a['tickets'])} tickets ({escape(_counts(a['by_priority']))})"
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
    groups = _pack(lines)
    budget = MAX_BLOCKS - len(head) - len(tail)
    if len(groups) > budget:
        groups = groups[: budget - 1]
        more = len(lines) - sum(len(g) for g in groups)
        groups.append([f"… and {more} more agents (see the dashboard)"])
    return [*head, *(section("\n".join(g)) for g in groups), *tail]


def _slack_id(slack_ids: dict[str, str], email: object) -> str | None:
    key = str(email or "")
    return slack_ids.get(key) or slack_ids.get(key.lower())


def _ticket_text(t: dict) -> str:
    """*P1* `AE136ABC00` · 721 AED · 14h · REASON, then → the action steps and any note."""
    hours = _hours(t.get("hours")) + (" (at triage)" if t.get("hours_source") == "triage" else "")
    text = (
        f"*{escape(t.get('priority'))}* `{escape(t.get('order_id'))}` · "
        f"{escape(money(t.get('amount'), t.get('currency') or ''))} · {hours} · "
        f"{escape(t.get('reason'))}"
    )
    if t.get("actions"):
        text += "\n→ " + escape(actions_line([str(a) for a in t["actions"]]))
    if t.get("reopened"):
        text += "\n🔁 Reopened: it was closed, but the order is still stuck."
    if t.get("note"):
        text += f"\n⚠️ {escape(t['note'])}"
    return text


def agent_thread(agent: dict, slack_id: str | None) -> list[list[dict]]:
    """The thread reply for one agent: a mention, then one section per ticket with a menu."""
    tickets = agent["tickets"]
    blocks = [
        section(
            f"{_mention(agent['agent'], slack_id)} — your {len(tickets)} tickets from this triage"
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
        blocks.append(section(_ticket_text(t), _block_id("thread", i, oid), menu if oid else None))
    return paginate(blocks)


# ---------------------------------------------------------------- field: queue and order


def queue_groups(data: dict) -> tuple[list[dict], list[list[dict]]]:
    """The queue's heading blocks and one group of blocks per ticket."""
    head = [
        section(
            f"📋 *Your queue* — {data.get('count', len(data['tickets']))} open "
            f"({escape(_counts(data.get('by_priority') or {}))})"
        )
    ]
    if data.get("live_error"):
        head.append(context(f"⚠️ {escape(data['live_error'])}."))
    groups = []
    for i, t in enumerate(data["tickets"]):
        oid = str(t.get("order_id") or "")
        group = [section(_ticket_text(t), _block_id("ticket", i, oid))]
        if t.get("diagnosis"):
            group.append(context(f"↳ {escape(t['diagnosis'])}"))
        if oid:
            group.append(_ticket_buttons(oid, _block_id("ticket_actions", i, oid)))
        groups.append(group)
    return head, groups


EMPTY_QUEUE = "🎉 No open tickets — nice work."


def queue(data: dict) -> list[list[dict]]:
    """A field agent's my-tickets result: a heading, then each ticket with its buttons."""
    if not data.get("tickets"):
        return [[section(EMPTY_QUEUE)]]
    head, groups = queue_groups(data)
    footer = [context("Open one with *Details*, or say `order ORDER_ID`.")]
    return _paginate_groups([head, *groups, footer])


def _order_header(data: dict) -> list[str]:
    r = data["reason"]
    if data.get("hours_stuck") is not None:
        stuck = f"{_hours(data['hours_stuck'])} stuck"
    else:
        stuck = f"{_hours(data.get('hours_at_triage'))} stuck at triage"
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
        blocks += [section(c) for c in _chunks(_markdown_to_mrkdwn(str(data["runbook"])))]
    else:
        steps = actions_line([str(a) for a in r.get("actions") or []]) or "ask an ECM manager"
        missing = data.get("runbook_missing") or "missing"
        blocks.append(section(escape(f"No runbook ({missing}); steps: {steps}")))
    if r.get("escalate_to"):
        blocks.append(context(f"Escalates to: {escape(r['escalate_to'])}"))
    blocks.append(_ticket_buttons(oid, _block_id("order_actions", oid), details=False))
    return paginate(blocks)


# ---------------------------------------------------------------- modals and App Home
