"""Turn skill results into Slack messages: the triage summary with one thread per agent,
field queues and orders with buttons, everything else as text sections."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypedDict

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.render import render_result
from bot.runtime.executor import SkillResult
from bot.runtime.roster import Roster
from bot.slack.blocks import field, manager
from bot.slack.blocks.kit import MAX_BLOCKS, MAX_SECTION, escape, text_messages

log = logging.getLogger(__name__)


class Unfurl(TypedDict):
    unfurl_links: bool
    unfurl_media: bool


NO_UNFURL: Unfurl = {"unfurl_links": False, "unfurl_media": False}


def assistant_text(data: dict) -> str:
    """The model's narrative and/or the assistant's status note, if any."""
    parts = []
    if data.get("narrative"):
        parts.append("💬 " + data["narrative"])
    if data.get("assistant_note"):
        parts.append(data["assistant_note"])
    return "\n\n".join(parts)


BLOCKS: dict[str, Callable[[dict], list[list[dict]]]] = {
    "queue": field.queue,
    "order_details": field.order_details,
}
"""Block Kit views a skill's config may name (``output.blocks``); else its text, paged."""


def result_messages(result: SkillResult) -> list[list[dict]]:
    """Block Kit messages (each ≤ 50 blocks) for any skill result except triage."""
    blocks = BLOCKS.get(result.output.blocks or "")
    pages = blocks(result.data) if blocks else text_messages(render_result(result))
    extra = assistant_text(result.data)
    return pages + text_messages(extra) if extra else pages


def proposal_blocks(proposal: dict) -> list[dict]:
    """A proposed write with Confirm / Cancel buttons (the id is all the buttons carry)."""
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"🤔 I think you want me to: *{escape(proposal['summary'])[:2800]}*",
            },
        },
        {
            "type": "actions",
            "block_id": f"proposal:{proposal['id']}",
            "elements": [
                {
                    "type": "button",
                    "action_id": "proposal_confirm",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Confirm"},
                    "value": proposal["id"],
                },
                {
                    "type": "button",
                    "action_id": "proposal_cancel",
                    "text": {"type": "plain_text", "text": "Cancel"},
                    "value": proposal["id"],
                },
            ],
        },
    ]


def fallback_text(result: SkillResult) -> str:
    """Notification text for a result (Slack shows it where blocks can't be)."""
    text = render_result(result)
    first = text.splitlines()[0] if text else result.skill
    return escape(first[:300])


def post_triage(client: WebClient, channel: str, result: SkillResult, roster: Roster) -> str:
    """Post the summary in ``channel`` and one thread reply per agent; return the summary ts."""
    slack_ids = {m.email: m.slack_id for m in roster.members if m.slack_id}
    summary_blocks = manager.triage_summary(result.data, slack_ids)
    extra = assistant_text(result.data)
    if extra and len(summary_blocks) < MAX_BLOCKS:
        summary_blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": escape(extra)[:MAX_SECTION]},
            }
        )
    summary = client.chat_postMessage(
        channel=channel,
        blocks=summary_blocks,
        text=fallback_text(result),
        **NO_UNFURL,
    )
    ts = summary["ts"]
    for agent in result.data["agents"]:
        for page in manager.agent_thread(agent, slack_ids.get(agent["agent"])):
            client.chat_postMessage(
                channel=channel,
                thread_ts=ts,
                blocks=page,
                text=f"Tickets for {agent['agent'].split('@')[0]}",
                **NO_UNFURL,
            )
    return ts


def post_result(post: Callable[..., object], result: SkillResult) -> None:
    """Send a result through ``post(blocks=..., text=...)`` one page at a time."""
    text = fallback_text(result)
    for page in result_messages(result):
        post(blocks=page, text=text)


def post_escalation(client: WebClient, channel: str, result: SkillResult, by_slack_id: str):
    """Tell the escalation channel who escalated what, with the ticket's context."""
    if not channel:
        return
    d = result.data
    lines = [f"🚨 <@{by_slack_id}> escalated `{escape(d.get('order_id'))}`"]
    for key, label in (("reason_code", "Stuck reason"), ("target", "To"), ("reason", "Why")):
        if d.get(key):
            lines.append(f"*{label}:* {escape(d[key])}")
    client.chat_postMessage(channel=channel, text="\n".join(lines), **NO_UNFURL)


def channel_publisher(client: WebClient, channel: str, roster: Callable[[], Roster]):
    """A scheduler publisher that posts results to ``channel`` (triage with its threads)."""

    def publish(result: SkillResult) -> None:
        if result.output.publish == "triage":  # the skill's config says how it is posted
            post_triage(client, channel, result, roster())
        else:
            post_result(
                lambda **kw: client.chat_postMessage(channel=channel, **kw, **NO_UNFURL), result
            )

    return publish


def manager_notifier(client: WebClient, roster: Callable[[], Roster]) -> Callable[[str], None]:
    """A function that DMs every active manager on the roster (used by background jobs such as
    the sheet sync); a failed DM is logged, never raised."""

    def notify(text: str) -> None:
        for member in roster().members:
            if "manager" not in member.roles or not member.active or not member.slack_id:
                continue
            try:
                channel = client.conversations_open(users=member.slack_id)["channel"]["id"]
                client.chat_postMessage(
                    channel=channel, text=text, unfurl_links=False, unfurl_media=False
                )
            except SlackApiError as exc:
                log.warning("DM to %s failed: %s", member.email, exc.response.get("error"))

    return notify
