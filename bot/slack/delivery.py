"""The one path from a skill's result to people in Slack.

Every surface (mention, DM, ``/ecm``, buttons, modals) builds a ``ReplyTarget`` saying where and
how its answer goes (an explicit ``ReplyKind``) and calls ``deliver``: the result is posted there
(unless the skill's follow-ups are the answer), then the follow-ups registered for the skill in
``DELIVERIES`` run — the same ones whichever way the request came in. A follow-up that fails is
logged, never raised: the skill's work is already done."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from slack_sdk.errors import SlackApiError

from bot.runtime.dispatch import Reply
from bot.runtime.executor import SkillResult, execute
from bot.runtime.roster import Member, Roster
from bot.slack.app_state import SlackContext
from bot.slack.away import dm_handover
from bot.slack.blocks.kit import escape
from bot.slack.blocks.render import SlackIds
from bot.slack.live import refresh_homes, refresh_ticket
from bot.slack.posting import (
    NO_UNFURL,
    item_keys,
    post_escalation,
    post_result,
    post_triage,
    post_triage_escalations,
    proposal_blocks,
    slack_ids,
)
from bot.slack.reports import dm_digest, post_daily_triage, upload_charts
from bot.slack.unowned import update_escalation_post
from bot.stores.slack_messages import Posted, SlackMessages

log = logging.getLogger(__name__)

ReplyKind = Literal["thread", "channel", "dm", "ephemeral", "respond", "update", "none"]
"""How an answer reaches the person who asked:

- ``thread``: chat.postMessage in ``channel`` under ``thread_ts`` (a mention);
- ``channel``: chat.postMessage in ``channel`` (a DM conversation, the channel a modal came from);
- ``dm``: a direct message to ``user`` (conversations.open, then chat.postMessage);
- ``ephemeral``: chat.postEphemeral to ``user`` in ``channel`` (a button in a message);
- ``respond``: a new ephemeral message through ``respond`` (``/ecm``, button response_url);
- ``update``: replace the message the button was in, through ``respond``;
- ``none``: nothing is posted (a modal closed on submit; its follow-ups tell people).
"""
PUBLIC_KINDS: frozenset[str] = frozenset({"thread", "channel", "dm"})


@dataclass(frozen=True)
class ReplyTarget:
    """Where an answer goes. ``channel`` is also the conversation the request came from (where
    the triage summary is posted); ``triage_thread`` is the (channel, ts) of the triage message
    a button came from, told about reassignments."""

    kind: ReplyKind
    channel: str = ""
    thread_ts: str | None = None
    user: str = ""
    respond: Callable[..., Any] | None = None
    triage_thread: tuple[str, str | None] | None = None

    @classmethod
    def thread(cls, channel: str, thread_ts: str) -> ReplyTarget:
        return cls("thread", channel=channel, thread_ts=thread_ts)

    @classmethod
    def in_channel(cls, channel: str) -> ReplyTarget:
        return cls("channel", channel=channel)

    @classmethod
    def direct(cls, user: str) -> ReplyTarget:
        return cls("dm", user=user)

    @classmethod
    def ephemeral(cls, channel: str, user: str) -> ReplyTarget:
        return cls("ephemeral", channel=channel, user=user)

    @classmethod
    def response(cls, respond: Callable[..., Any], channel: str = "") -> ReplyTarget:
        return cls("respond", channel=channel, respond=respond)

    @classmethod
    def update(cls, respond: Callable[..., Any]) -> ReplyTarget:
        return cls("update", respond=respond)

    @classmethod
    def silent(cls, triage_thread: tuple[str, str | None] | None = None) -> ReplyTarget:
        return cls("none", triage_thread=triage_thread)


def send(sc: SlackContext, target: ReplyTarget, *, text: str, blocks: list | None = None):
    """Post one message to ``target``; return its ts when Slack gives one."""
    message: dict[str, Any] = {"text": text}
    if blocks is not None:
        message["blocks"] = blocks
    kind = target.kind
    if kind in PUBLIC_KINDS:
        channel = sc.open_dm(target.user) if kind == "dm" else target.channel
        thread_ts = target.thread_ts if kind == "thread" else None
        posted = sc.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, **message, **NO_UNFURL
        )
        return posted.get("ts")
    if kind == "ephemeral":
        sc.client.chat_postEphemeral(channel=target.channel, user=target.user, **message)
    elif kind in ("respond", "update"):
        if target.respond is None:
            raise ValueError(f"a {kind!r} reply needs a respond function")
        if kind == "respond":
            target.respond(response_type="ephemeral", replace_original=False, **message)
        else:
            target.respond(replace_original=True, **message)
    return None


def roster_ids(sc: SlackContext) -> SlackIds:
    """Slack IDs for mentions, read from the roster only if a result mentions someone, and
    channel ids by ``#name`` for links."""
    loaded: list[SlackIds] = []

    def lookup(email: str) -> str | None:
        if str(email or "").startswith("#"):
            return sc.channels(email)  # a channel name, to link
        if not loaded:
            loaded.append(slack_ids(Roster.load(sc.stores().workbook)))
        return loaded[0](email)

    return lookup


def say(sc: SlackContext, target: ReplyTarget) -> Callable[[str], None]:
    """A text-only reply to ``target`` (for refusals, help and apologies)."""

    def reply(text: str) -> None:
        send(sc, target, text=text)

    return reply


# ---------------------------------------------------------------- follow-ups, per skill

FollowUp = Callable[[SlackContext, SkillResult, Member, ReplyTarget], None]


def post_triage_summary(
    sc: SlackContext, result: SkillResult, caller: Member, target: ReplyTarget
) -> None:
    """The summary in the conversation the request came from, one thread reply per agent; a
    private answer (``/ecm``, a button) says where it went."""
    channel = target.channel or sc.open_dm(target.user or caller.slack_id)
    stores = sc.stores()
    refs = SlackMessages(stores.db)
    ts = post_triage(sc.client, channel, result, Roster.load(stores.workbook), refs)
    if target.kind not in PUBLIC_KINDS and target.kind != "none":
        send(sc, target, text=f"✅ Triage posted in <#{channel}> (message {ts}).")
    escalations = sc.settings.escalation_channel  # triage's own escalations, one post each
    roster = Roster.load(stores.workbook)
    post_triage_escalations(sc.client, escalations, result, roster, refs, sc.channels)


def assigned_note(result: SkillResult, by: Member) -> str:
    d = result.data
    if d.get("kept"):  # the manager confirmed them as the owner
        return (
            f"📌 <@{by.slack_id}> pinned `{escape(d['order_id'])}` "
            f"({escape(d['priority'])}, {escape(d['stuck_reason'])}) to you: it stays yours and "
            f"triage won't move it. Reason: {escape(d['reason'])}. "
            f"Say `order {d['order_id']}` here to open it."
        )
    pinned = " It's pinned to you: triage won't move it." if d.get("pinned") else ""
    return (
        f"📥 <@{by.slack_id}> assigned you `{escape(d['order_id'])}` "
        f"({escape(d['priority'])}, {escape(d['stuck_reason'])}). "
        f"Reason: {escape(d['reason'])}.{pinned} Say `order {d['order_id']}` here to open it."
    )


def dm_new_assignee(
    sc: SlackContext, result: SkillResult, caller: Member, target: ReplyTarget
) -> None:
    if result.data.get("unpinned"):
        return  # an unpin moves nothing
    sc.dm(result.data.get("to_slack_id") or "", assigned_note(result, caller))


def moved_away_note(result: SkillResult, by: Member) -> str:
    d = result.data
    to = f"<@{d['to_slack_id']}>" if d.get("to_slack_id") else "@" + escape(d["to"].split("@")[0])
    return (
        f"↪️ <@{by.slack_id}> moved `{escape(d['order_id'])}` "
        f"({escape(d['priority'])}, {escape(d['stuck_reason'])}) from your queue to {to}. "
        f"Reason: {escape(d['reason'])}. You don't need to work it any more."
    )


def dm_previous_owner(
    sc: SlackContext, result: SkillResult, caller: Member, target: ReplyTarget
) -> None:
    """Tell the agent a reassignment took an open ticket from (not after a reopen: the
    ticket had already left their queue)."""
    d = result.data
    if d.get("unpinned") or d.get("reopened_from") or not d.get("from"):
        return
    if str(d["from"]).lower() == str(d.get("to") or "").lower():
        return
    sc.dm(d.get("from_slack_id") or "", moved_away_note(result, caller))


def announce_in_triage_thread(
    sc: SlackContext, result: SkillResult, caller: Member, target: ReplyTarget
) -> None:
    """Tell the triage thread a reassignment came from (the Override / Reassign… forms)."""
    if not target.triage_thread or not target.triage_thread[0] or result.data.get("unpinned"):
        return
    channel, thread_ts = target.triage_thread
    d = result.data
    did = "pinned" if d.get("kept") else "moved"  # kept: confirmed with its owner
    sc.client.chat_postMessage(
        channel=channel,
        thread_ts=thread_ts,
        text=(
            f"{'📌' if d.get('kept') else '🔁'} <@{caller.slack_id}> {did} "
            f"`{escape(d['order_id'])}` to <@{d['to_slack_id']}>. Reason: {escape(d['reason'])}"
        ),
        **NO_UNFURL,
    )


def post_to_escalation_channel(
    sc: SlackContext, result: SkillResult, caller: Member, target: ReplyTarget
) -> None:
    """The escalation post: amount, age, priority, reason, target and Acknowledge."""
    refs = SlackMessages(sc.stores().db)
    data = {**result.data, "agent": caller.email}  # still the escalating agent's ticket
    channel = sc.settings.escalation_channel
    post_escalation(sc.client, channel, data, caller.email, roster_ids(sc), refs)


def update_ticket_messages(
    sc: SlackContext, result: SkillResult, caller: Member, target: ReplyTarget
) -> None:
    """Edit in place every message that shows the ticket (its triage thread, the run's
    summary counts, DM queues; a reassignment also the new owner's DM queue) and republish
    the App Home of the people concerned."""
    oid = str(result.data.get("order_id") or "")
    if not oid or result.data.get("unpinned"):  # an unpin changes no message
        return
    try:
        agents = refresh_ticket(sc, oid, caller.slack_id)
        was, to = (str(result.data.get(k) or "").lower() for k in ("from", "to"))
        agents |= {was} - {""}
        if to and to != was:
            refresh_queue(sc, to)
        roster = Roster.load(sc.stores().workbook)
        people = {m.slack_id for m in roster.members if m.email.lower() in agents}
        refresh_homes(sc, {caller.slack_id, *people})
    except Exception:  # the write is done; an edit that fails is only logged
        log.warning("messages showing %s not updated", oid, exc_info=True)


def refresh_queue(sc: SlackContext, email: str) -> None:
    """Edit ``email``'s latest DM queue in place to show their queue now (a ticket moved in):
    nothing when they have none, when their latest DM listing tickets is something else (an
    order's details), or when the queue no longer fits one message."""
    stores = sc.stores()
    refs = SlackMessages(stores.db)
    last = refs.latest("dm_queue", agent=email)
    skill = sc.registry.home("field")
    roster = Roster.load(stores.workbook)
    member = roster.by_email(email)
    if last is None or skill is None or member is None or not member.active:
        return
    queue = execute(sc.registry, stores, skill.name, member, trigger="slack")
    pages = post_result(lambda **message: None, queue, slack_ids(roster))
    if len(pages) != 1:
        return
    _, blocks, text, view = pages[0]
    if text.split(" — ")[0] != last.text.split(" — ")[0]:  # not the same kind of message
        return
    sc.client.chat_update(channel=last.channel, ts=last.ts, blocks=blocks, text=text)
    refs.record(
        Posted(last.channel, last.ts, "dm_queue", agent=email, text=text, blocks=blocks),
        item_keys(view),
    )


FOLLOW_UPS: dict[str, FollowUp] = {
    f.__name__: f
    for f in (
        post_triage_summary,
        announce_in_triage_thread,
        dm_new_assignee,
        dm_previous_owner,
        post_to_escalation_channel,
        update_ticket_messages,
        update_escalation_post,  # bot.slack.unowned: after a take or an acknowledgement
        upload_charts,  # bot.slack.reports: the manager's reports
        post_daily_triage,
        dm_digest,
        dm_handover,  # bot.slack.away: the away skills' one DM per person
    )
}
"""The follow-ups a skill's config may name (``output.follow_ups``), by name."""


# ---------------------------------------------------------------- the entry points


def deliver(sc: SlackContext, result: SkillResult, caller: Member, target: ReplyTarget) -> None:
    """Post ``result`` to ``target`` and run the skill's follow-ups."""
    plan = result.output  # the skill's config: reply or not, then its follow-ups by name
    if plan.reply and target.kind != "none":
        sent = post_result(lambda **message: send(sc, target, **message), result, roster_ids(sc))
        _record_queue(sc, target, caller, sent)
    for follow_up in (FOLLOW_UPS[name] for name in plan.follow_ups):
        try:
            follow_up(sc, result, caller, target)
        except SlackApiError as exc:
            log.warning(
                "%s follow-up %s failed: %s",
                result.skill,
                getattr(follow_up, "__name__", follow_up),
                exc.response.get("error"),
            )


def _record_queue(sc: SlackContext, target: ReplyTarget, caller: Member, sent: list) -> None:
    """Remember a reply in a DM that lists tickets (an agent's queue, an order), so a later
    change to one of them edits it in place."""
    dm = target.kind == "dm" or (target.kind == "channel" and target.channel.startswith("D"))
    pages = [(ts, page, text, keys) for ts, page, text, view in sent if (keys := item_keys(view))]
    if not dm or not pages:
        return
    try:
        channel = sc.open_dm(target.user) if target.kind == "dm" else target.channel
        refs = SlackMessages(sc.stores().db)
        for ts, page, text, keys in pages:
            if ts:
                refs.record(
                    Posted(
                        channel, str(ts), "dm_queue", agent=caller.email, text=text, blocks=page
                    ),
                    keys,
                )
    except Exception:  # the reply is out; only its later edits are lost
        log.warning("queue message for %s not recorded", caller.email, exc_info=True)


def deliver_reply(sc: SlackContext, routed: Reply, caller: Member, target: ReplyTarget) -> None:
    """A routed answer: a proposal with Confirm / Cancel, the help text, or a result."""
    if routed.proposal is not None:
        send(
            sc,
            target,
            blocks=proposal_blocks(routed.proposal),
            text=escape(routed.proposal["summary"]),
        )
    elif routed.result is None:
        send(sc, target, text=escape(routed.help_text))
    else:
        deliver(sc, routed.result, caller, target)
