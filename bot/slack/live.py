"""Messages that update in place. After a write to a ticket (resolve, escalate, reassign),
every recorded message that shows it (``bot.stores.slack_messages``) is edited with
chat.update: the ticket is marked done or moved and loses its buttons and menu; the summary
of its triage run shows live progress ("41 of 167 resolved"); and the App Home of the
people concerned is republished. A failure is logged, never raised: the write is done."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.clock import now
from bot.runtime.roster import Roster
from bot.slack.app_state import SlackContext
from bot.slack.blocks.kit import context, escape
from bot.slack.home_tab import publish_home
from bot.slack.posting import replace_block, slack_ids
from bot.stores.slack_messages import Posted, SlackMessages

log = logging.getLogger(__name__)

PROGRESS = "triage_progress"
"""The block id of the summary's live progress line."""
CLOSED_LABELS = {"RESOLVED": "✅ Resolved", "ESCALATED": "🚨 Escalated", "CLOSED": "✔️ Closed"}
QUEUE_KINDS = ("agent_thread", "dm_queue")
MARKS = (*CLOSED_LABELS.values(), "↪️")


def _is_item_block(block: dict, prefix: str, order_id: str) -> bool:
    parts = str(block.get("block_id") or "").split(":")
    return parts[0] == prefix and parts[-1] == order_id


def mark_ticket(blocks: list[dict], order_id: str, label: str) -> list[dict] | None:
    """``blocks`` with the item of ``order_id`` shown as ``label`` and its buttons, menu and
    detail lines gone; None when the blocks don't show it."""
    out: list[dict] = []
    found = in_item = False
    for block in blocks:
        if block.get("type") == "section" and _is_item_block(block, "item", order_id):
            first = str((block.get("text") or {}).get("text") or "").split("\n")[0]
            if first.startswith(MARKS):  # marked already
                return blocks
            text = {"type": "mrkdwn", "text": f"{label} · {first}"[:3000]}
            out.append({"type": "section", "block_id": block["block_id"], "text": text})
            found = in_item = True
            continue
        if in_item and block.get("type") == "context":
            continue  # the item's detail lines
        in_item = False
        if block.get("type") == "actions" and _is_item_block(block, "item_actions", order_id):
            continue
        out.append(block)
    return out if found else None


def progress_text(rows: list[dict]) -> str:
    """📈 41 of 167 resolved · 🚨 3 escalated · updated 14:02 UTC"""
    statuses = [r.get("Status") for r in rows]
    text = f"📈 {statuses.count('RESOLVED')} of {len(rows)} resolved"
    if statuses.count("ESCALATED"):
        text += f" · 🚨 {statuses.count('ESCALATED')} escalated"
    return text + f" · updated {now().strftime('%H:%M')} UTC"


def _update(sc: SlackContext, refs: SlackMessages, message: Posted, blocks: list[dict]) -> None:
    try:
        sc.client.chat_update(
            channel=message.channel, ts=message.ts, blocks=blocks, text=message.text
        )
    except SlackApiError as exc:
        log.warning(
            "chat.update of %s %s failed: %s", message.kind, message.ts, exc.response.get("error")
        )
        return
    refs.edited(message.channel, message.ts, blocks, message.text)


def refresh_ticket(sc: SlackContext, order_id: str, by_slack_id: str) -> set[str]:
    """Edit every recorded message showing ``order_id`` to match its row now; return the
    emails of the agents whose queues showed it (and its current agent)."""
    stores = sc.stores()
    refs = SlackMessages(stores.db)
    row = stores.workbook.find("Assignments", order_id) or {}
    status, owner = str(row.get("Status") or ""), str(row.get("Assigned Agent") or "").lower()
    ids = slack_ids(Roster.load(stores.workbook))
    by = f" by <@{by_slack_id}>" if by_slack_id else ""
    concerned = {owner} if owner else set()
    for message in refs.showing(order_id):
        if message.kind not in QUEUE_KINDS:
            continue
        concerned.add(message.agent)
        if status in CLOSED_LABELS:
            label = f"{CLOSED_LABELS[status]}{by}"
        elif owner and message.agent and owner != message.agent:
            to = ids(owner)
            label = "↪️ Moved to " + (f"<@{to}>" if to else "@" + escape(owner.split("@")[0]))
        else:
            continue  # still this agent's open ticket
        blocks = mark_ticket(message.blocks, order_id, label)
        if blocks is not None and blocks != message.blocks:
            _update(sc, refs, message, blocks)
    run_id = str(row.get("Triage Run") or "")
    if run_id:
        summaries = refs.of_run(run_id)
        if summaries:
            line = progress_text(stores.workbook.read("Assignments", {"Triage Run": run_id}))
            note = {**context(line), "block_id": PROGRESS}
            for summary in summaries:
                _update(sc, refs, summary, replace_block(summary.blocks, note, PROGRESS))
    return {c for c in concerned if c}


def refresh_homes(sc: SlackContext, slack_ids_: set[str]) -> None:
    """Republish the App Home of each person; a failure is logged."""
    for user in sorted(u for u in slack_ids_ if u):
        try:
            publish_home(sc, user)
        except SlackApiError as exc:
            log.warning("home of %s not republished: %s", user, exc.response.get("error"))
        except Exception:  # the write is done; a home tab that fails to build must not undo it
            log.warning("home of %s not republished", user, exc_info=True)
