"""After someone takes an order or acknowledges its escalation: the order's escalation post
and the triage lists that show it are edited in place (chat.update, from the blocks recorded
when they were posted). The post says who acknowledged and who took it and loses the buttons
already used; a list marks the order taken and drops its buttons. A failure is logged, never
raised: the write is done."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.clock import parse_ts
from bot.present.unowned import ACK, NOBODY, STATUS_BLOCK, TAKE
from bot.runtime.roster import Roster
from bot.slack.app_state import SlackContext
from bot.slack.blocks.kit import context, escape
from bot.slack.live import mark_ticket
from bot.slack.posting import replace_block, slack_ids
from bot.stores.escalation_acks import EscalationAcks
from bot.stores.slack_messages import Posted, SlackMessages
from bot.stores.workbook import OPEN_STATUSES

if TYPE_CHECKING:
    from bot.runtime.executor import SkillResult
    from bot.runtime.roster import Member

log = logging.getLogger(__name__)

TAKEN = "🙋 Taken by"
ACKED = "👍 Acknowledged by"


def _who(ids, email: str) -> str:
    found = ids(email)
    return f"<@{found}>" if found else "@" + escape(email.split("@")[0])


def _when(stamp: str) -> str:
    try:
        return parse_ts(stamp).strftime("%H:%M UTC")
    except (TypeError, ValueError):
        return ""


def _texts(block: dict) -> list[str]:
    return [str(e.get("text") or "") for e in block.get("elements") or []]


def escalation_blocks(
    blocks: list[dict], order_id: str, owner: str = "", acked: str = ""
) -> list[dict]:
    """An escalation post's ``blocks`` after the order was taken by ``owner`` or its
    escalation acknowledged (``acked``: the line to show), both as Slack mrkdwn: the used
    buttons gone, and one status line saying who did what."""
    out, status = [], [acked] if acked else []
    for block in blocks:
        kind, block_id = block.get("type"), str(block.get("block_id") or "")
        if block_id == STATUS_BLOCK:
            status += [t for t in _texts(block) if t.startswith(TAKEN)]  # kept as it was
            continue
        if kind == "section" and owner and NOBODY in str((block.get("text") or {}).get("text")):
            text = block["text"]["text"].replace(NOBODY, f"👤 with {owner}")
            block = {**block, "text": {**block["text"], "text": text}}
            status.append(f"{TAKEN} {owner}")
        if kind == "actions" and block_id.startswith("item_actions:"):
            used = {TAKE} if owner else set()
            used |= {ACK} if acked else set()
            kept = [e for e in block.get("elements") or [] if e.get("action_id") not in used]
            if not kept:
                continue
            block = {**block, "elements": kept}
        out.append(block)
    if not status:
        return out
    note = {**context(*dict.fromkeys(status)), "block_id": STATUS_BLOCK}
    return replace_block(out, note, STATUS_BLOCK)


def refresh_unowned(sc: SlackContext, order_id: str) -> None:
    """Edit the order's escalation posts and the triage lists showing it to match the system
    of record: its owner now, and who acknowledged its latest escalation."""
    stores = sc.stores()
    refs = SlackMessages(stores.db)
    shown = [m for m in refs.showing(order_id) if m.kind in ("escalation", "triage_list")]
    if not shown:
        return
    ids = slack_ids(Roster.load(stores.workbook))
    row = stores.workbook.find("Assignments", order_id) or {}
    status = str(row.get("Status") or "").upper()
    agent = str(row.get("Assigned Agent") or "").lower()
    owner = _who(ids, agent) if agent and status in OPEN_STATUSES else ""
    escalations = stores.workbook.read("Escalations", {"Order ID": order_id})
    latest = max(reversed(escalations), key=lambda r: str(r.get("At") or ""), default=None)
    ack = EscalationAcks(stores.db).of(order_id, str(latest.get("At") or "")) if latest else None
    acked = f"{ACKED} {_who(ids, ack.by)} · {_when(ack.at)}".rstrip(" ·") if ack else ""
    for message in shown:
        if message.kind == "escalation":
            blocks: list[dict] | None = escalation_blocks(message.blocks, order_id, owner, acked)
        elif owner and _takeable(message.blocks, order_id):
            blocks = mark_ticket(message.blocks, order_id, f"{TAKEN} {owner}")
        else:
            continue
        if blocks is not None and blocks != message.blocks:
            text = message.text.replace(NOBODY, f"👤 with {owner}") if owner else message.text
            _edit(sc, refs, message, blocks, text)


def _takeable(blocks: list[dict], order_id: str) -> bool:
    """Whether a list still offers Take on the order (not yet marked taken)."""
    for block in blocks:
        parts = str(block.get("block_id") or "").split(":")
        if block.get("type") == "actions" and parts[0] == "item_actions" and parts[-1] == order_id:
            return any(e.get("action_id") == TAKE for e in block.get("elements") or [])
    return False


def _edit(
    sc: SlackContext, refs: SlackMessages, message: Posted, blocks: list[dict], text: str
) -> None:
    try:
        sc.client.chat_update(channel=message.channel, ts=message.ts, blocks=blocks, text=text)
    except SlackApiError as exc:
        log.warning("chat.update of %s %s failed: %s", message.kind, message.ts, exc.response)
        return
    refs.edited(message.channel, message.ts, blocks, text)


def update_escalation_post(
    sc: SlackContext, result: SkillResult, caller: Member, target: object
) -> None:
    """The follow-up of a take or an acknowledgement (``output.follow_ups``)."""
    oid = str(result.data.get("order_id") or "")
    if not oid:
        return
    try:
        refresh_unowned(sc, oid)
    except Exception:  # the write is done; an edit that fails is only logged
        log.warning("escalation post of %s not updated", oid, exc_info=True)
