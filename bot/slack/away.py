"""The away skills' Slack follow-up: one DM per person concerned, as the result lists them
(``bot/sla/away_flow.py``), then the queues and App Homes of those concerned shown again. A
DM or an edit that fails is logged; the handover is already done."""

from __future__ import annotations

import logging

from bot.runtime.executor import SkillResult
from bot.runtime.roster import Member
from bot.slack.app_state import SlackContext
from bot.slack.blocks.kit import escape

log = logging.getLogger(__name__)


def dm_handover(sc: SlackContext, result: SkillResult, caller: Member, target: object) -> None:
    """DM each person the away result names (not the caller about their own away: the reply
    already told them), then edit the moved tickets' owners' DM queues in place and
    republish everyone's App Home."""
    data = result.data
    dms = data.get("dms") or []
    for dm in dms:
        if not dm.get("slack_id"):
            log.warning("no Slack ID for %s: handover DM not sent", dm.get("email"))
            continue
        if dm["slack_id"] == caller.slack_id and data.get("agent") == caller.email:
            continue
        try:
            sc.dm(dm["slack_id"], escape(dm["text"]))
        except Exception:  # one DM never stops the others
            log.warning("handover DM to %s not sent", dm.get("email"), exc_info=True)
    if data.get("refused") or not data.get("moved"):
        return
    from bot.slack.delivery import refresh_queue  # delivery registers this follow-up
    from bot.slack.live import refresh_homes  # live imports what imports this module

    try:
        for email in sorted({t["to"] for t in data["moved"]} | {data["agent"]}):
            refresh_queue(sc, email)
        refresh_homes(sc, {dm["slack_id"] for dm in dms} | {caller.slack_id})
    except Exception:  # the handover is done; an edit that fails is only logged
        log.warning("queues after the handover of %s not updated", data["agent"], exc_info=True)
