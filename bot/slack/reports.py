"""Follow-ups of the manager's reports (registered in ``bot.slack.delivery.FOLLOW_UPS``): the
charts uploaded where the reply went, and the daily flow's two deliveries — its triage step
posted to the triage channel like any triage, its digest sent to the manager's DM."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.present import present_result
from bot.runtime.executor import SkillResult
from bot.runtime.roster import Member, Roster
from bot.slack.app_state import SlackContext
from bot.slack.posting import (
    NO_UNFURL,
    post_result,
    post_triage,
    post_triage_escalations,
    slack_ids,
    upload_figures,
    workflow_step,
)
from bot.stores.slack_messages import SlackMessages

if TYPE_CHECKING:
    from bot.slack.delivery import ReplyTarget


def _where(sc: SlackContext, target: ReplyTarget, caller: Member) -> tuple[str, str | None]:
    """The conversation (and thread) a reply went to; a private reply (ephemeral, /ecm, a
    closed modal) has none a file can follow, so the caller's DM."""
    if target.kind == "thread":
        return target.channel, target.thread_ts
    if target.kind == "channel":
        return target.channel, None
    return sc.open_dm(target.user or caller.slack_id), None


def upload_charts(sc: SlackContext, result: SkillResult, caller: Member, target: ReplyTarget):
    """The result's charts as PNG files where its reply went (files_upload_v2)."""
    channel, thread_ts = _where(sc, target, caller)
    upload_figures(sc.client, channel, present_result(result), thread_ts)


def step_result(sc: SlackContext, result: SkillResult, step: str) -> SkillResult | None:
    """A workflow's step (``data["steps"][step]`` names its skill) as that skill's result,
    with that skill's output config."""
    return workflow_step(sc.registry, result, step)


def post_daily_triage(sc: SlackContext, result: SkillResult, caller: Member, target: ReplyTarget):
    """The daily flow's triage in the triage channel (else the caller's DM), as any triage
    is posted: one summary, a thread per agent whose queue changed, recorded to edit later,
    and triage's own escalations in the escalation channel, one post each."""
    triage = step_result(sc, result, "triage")
    if triage is None:
        return
    channel = sc.settings.triage_channel or sc.open_dm(caller.slack_id or target.user)
    stores = sc.stores()
    roster, refs = Roster.load(stores.workbook), SlackMessages(stores.db)
    post_triage(sc.client, channel, triage, roster, refs)
    escalations = sc.settings.escalation_channel
    post_triage_escalations(sc.client, escalations, triage, roster, refs, sc.channels)


def dm_digest(sc: SlackContext, result: SkillResult, caller: Member, target: ReplyTarget):
    """The digest and its chart in the caller's DM; asked elsewhere, a line there says where
    the summary and the digest went."""
    from bot.slack.delivery import send  # delivery registers this module's follow-ups

    dm = sc.open_dm(caller.slack_id or target.user)
    ids = slack_ids(Roster.load(sc.stores().workbook))
    post_result(
        lambda **message: sc.client.chat_postMessage(channel=dm, **message, **NO_UNFURL),
        result,
        ids,
    )
    upload_figures(sc.client, dm, present_result(result))
    if target.kind == "none":
        return
    if target.kind in ("channel", "dm") and _where(sc, target, caller)[0] == dm:
        return  # asked in this DM: the digest is the answer
    where = f"<#{sc.settings.triage_channel}>" if sc.settings.triage_channel else "your DM"
    send(
        sc,
        target,
        text=f"✅ Daily flow done: the triage summary is in {where}, the digest in your DM.",
    )
