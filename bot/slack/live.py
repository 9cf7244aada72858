"""Messages that update in place. After a write to a ticket (resolve, escalate, reassign),
every recorded message that shows it (``bot.stores.slack_messages``) is edited with
chat.update: the ticket is marked done or moved and loses its buttons and menu (and is added
to the new owner's thread reply under the same summary, "📥 Moved in"); the summary
of its triage run shows live progress ("41 of 167 resolved"); and the App Home of the
people concerned is republished. Writes made outside a Slack request (a Google Sheet edit, a
snooze waking up) are redrawn the same way through ``bot.slack.outside_updates``. A failure is
logged, never raised: the write is done."""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_sdk.errors import SlackApiError

from bot.clock import now
from bot.present.ticket import FLAGS, moved_in_item, snooze_action
from bot.runtime.roster import Roster
from bot.slack.app_state import SlackContext
from bot.slack.blocks.kit import MAX_BLOCKS, button, context, escape
from bot.slack.blocks.render import SlackIds, element_blocks
from bot.slack.home_tab import publish_home
from bot.slack.posting import replace_block, slack_ids
from bot.stores.slack_messages import Posted, SlackMessages
from bot.stores.snoozes import Snoozes
from bot.stores.workbook import WAITING

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
            lines = str((block.get("text") or {}).get("text") or "").split("\n")
            first = lines[_ticket_line(lines)]
            if lines[0].startswith(MARKS):  # marked already
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


def status_flag(stores, row: dict) -> tuple[str, str]:
    """The flag a ticket's line shows for its status now, as the first render does
    (``bot.present.ticket.FLAGS``: 🔧 in progress, ⏳ waiting until …), and the line under it
    (mrkdwn): a snooze's note while it waits, or "⏰ Back from snooze" once it woke and nothing
    changed since (its Updated At is the wake's, as ``my-tickets`` decides)."""
    status = str(row.get("Status") or "").upper()
    flag = FLAGS.get(status, "")
    snooze = Snoozes(stores.db).get(str(row.get("Order ID") or ""))
    if snooze is None:
        return flag, ""
    if status == WAITING and snooze.woken_at is None:
        return f"{flag} until {str(snooze.until)[:16]} UTC", f"{SNOOZED} {escape(snooze.note)}"
    if status != WAITING and snooze.woken_at and str(row.get("Updated At")) == snooze.woken_at:
        return flag, f"{BACK} {escape(snooze.note or 'the wait is over')}"
    return flag, ""


def flag_ticket(blocks: list[dict], order_id: str, flag: tuple[str, str]) -> list[dict] | None:
    """``blocks`` with the item of ``order_id`` showing ``flag`` (its status flag and the line
    under it, from ``status_flag``) in place of the ones it had, and no Snooze button while it
    waits (back, when it no longer waits, on a queue item's Resolve / Escalate buttons, as
    ``bot.present.ticket.queue_item`` draws it); None when the blocks don't show it open."""
    status, note_line = flag
    waiting = status.startswith(FLAGS[WAITING])
    out: list[dict] = []
    found = False
    for block in blocks:
        if block.get("type") == "section" and _is_item_block(block, "item", order_id):
            lines = str((block.get("text") or {}).get("text") or "").split("\n")
            if lines[0].startswith(MARKS):
                return None
            at = _ticket_line(lines)
            first = lines[at]
            for known in FLAGS.values():
                first = first.split(f" · {known}")[0]
            rest = [ln for ln in lines[at + 1 :] if not ln.startswith((SNOOZED, BACK))]
            head = [*lines[:at], f"{first} · {escape(status)}" if status else first]
            head += [note_line] if note_line else []
            text = {"type": "mrkdwn", "text": "\n".join([*head, *rest])[:3000]}
            out.append({**block, "text": text})
            found = True
            continue
        if _is_item_block(block, "item_actions", order_id):
            kept = list(block.get("elements") or [])
            has = {e.get("action_id") for e in kept}
            if waiting:
                kept = [e for e in kept if e.get("action_id") != SNOOZE]
            elif RESOLVE in has and SNOOZE not in has:  # a queue item no longer waiting
                kept.append(_snooze_button(order_id))
            block = {**block, "elements": kept}
            if not kept:
                continue
        out.append(block)
    return out if found else None


def _snooze_button(order_id: str) -> dict:
    """The queue's Snooze button, as ``bot.slack.blocks.render`` draws it."""
    a = snooze_action(order_id)
    return button(a.label, a.action_id, a.value, a.style, a.accessibility_label)


def _ticket_line(lines: list[str]) -> int:
    """Which of an item's lines is the ticket's own (after a "📥 Moved in" line)."""
    return 1 if len(lines) > 1 and lines[0].startswith(MOVED_IN) else 0


MOVED_IN = "📥"
SNOOZED = "⏳ Snoozed:"
BACK = "⏰ Back from snooze:"
SNOOZE = "ticket_snooze"
RESOLVE = "ticket_resolve"


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
    moved_from: list[Posted] = []  # the previous owners' thread replies showing it
    for message in refs.showing(order_id):
        if message.kind not in QUEUE_KINDS:
            continue
        concerned.add(message.agent)
        if status in CLOSED_LABELS:
            label = f"{CLOSED_LABELS[status]}{by}"
        elif owner and message.agent and owner != message.agent:
            to = ids(owner)
            label = "↪️ Moved to " + (f"<@{to}>" if to else "@" + escape(owner.split("@")[0]))
        else:  # still this agent's open ticket: show its status flag as it is now
            flagged = flag_ticket(message.blocks, order_id, status_flag(stores, row))
            if flagged is not None and flagged != message.blocks:
                _update(sc, refs, message, flagged)
            continue
        blocks = mark_ticket(message.blocks, order_id, label)
        if blocks is not None and blocks != message.blocks:
            _update(sc, refs, message, blocks)
        if message.kind == "agent_thread" and status not in CLOSED_LABELS and owner:
            moved_from.append(message)
    for message in moved_from:
        add_to_thread(sc, refs, message, row, ids)
    run_id = str(row.get("Triage Run") or "")
    if run_id:
        summaries = refs.of_run(run_id)
        if summaries:
            line = progress_text(stores.workbook.read("Assignments", {"Triage Run": run_id}))
            note = {**context(line), "block_id": PROGRESS}
            for summary in summaries:
                _update(sc, refs, summary, replace_block(summary.blocks, note, PROGRESS))
    return {c for c in concerned if c}


def add_to_thread(
    sc: SlackContext, refs: SlackMessages, moved: Posted, row: dict, ids: SlackIds
) -> None:
    """The new owner's thread reply under the same triage summary as ``moved`` (a previous
    owner's, showing the ticket moved away) gets the ticket as "📥 Moved in from @…", with
    the Reassign… menu, and is recorded as showing it (so a later change edits it too).
    Nothing when the new owner has no thread reply there or it would not fit."""
    oid, owner = str(row.get("Order ID") or ""), str(row.get("Assigned Agent") or "").lower()
    theirs = refs.latest("agent_thread", channel=moved.channel, agent=owner)
    if theirs is None or theirs.thread_ts != moved.thread_ts or owner == moved.agent:
        return
    if _shows_open(theirs.blocks, oid):
        return  # already listed there as theirs
    kept = mark_ticket(theirs.blocks, oid, "") or theirs.blocks  # an old mark of it
    kept = [b for b in kept if not _is_item_block(b, "item", oid)]
    added = element_blocks(moved_in_item(row, moved.agent), "in", ids)
    blocks = [*kept, *added]
    if len(blocks) > MAX_BLOCKS:
        log.info("thread reply %s is full; %s not added", theirs.ts, oid)
        return
    _update(sc, refs, theirs, blocks)
    keys = [str(b["block_id"]).split(":")[-1] for b in blocks if _is_item_section(b)]
    refs.record(replace(theirs, blocks=blocks, digest=""), keys)


def _is_item_section(block: dict) -> bool:
    return block.get("type") == "section" and str(block.get("block_id") or "").startswith("item:")


def _shows_open(blocks: list[dict], order_id: str) -> bool:
    """Whether ``blocks`` list ``order_id`` unmarked (not resolved, escalated or moved)."""
    for block in blocks:
        if block.get("type") == "section" and _is_item_block(block, "item", order_id):
            first = str((block.get("text") or {}).get("text") or "")
            return not first.startswith(MARKS)
    return False


def refresh_homes(sc: SlackContext, slack_ids_: set[str]) -> None:
    """Republish the App Home of each person; a failure is logged."""
    for user in sorted(u for u in slack_ids_ if u):
        try:
            publish_home(sc, user)
        except SlackApiError as exc:
            log.warning("home of %s not republished: %s", user, exc.response.get("error"))
        except Exception:  # the write is done; a home tab that fails to build must not undo it
            log.warning("home of %s not republished", user, exc_info=True)
