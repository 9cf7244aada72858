"""Post skill results as Slack messages: each result's view (``bot.present``) rendered as
Block Kit (``bot.slack.blocks.render``), a view's threads as replies under its message (the
triage summary and one thread per agent), proposals with Confirm / Cancel, escalations."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypedDict

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.present import present_result
from bot.present.model import View
from bot.runtime.executor import SkillResult
from bot.runtime.roster import Roster
from bot.slack.blocks.kit import escape
from bot.slack.blocks.render import SlackIds, messages

log = logging.getLogger(__name__)


class Unfurl(TypedDict):
    unfurl_links: bool
    unfurl_media: bool


NO_UNFURL: Unfurl = {"unfurl_links": False, "unfurl_media": False}


def slack_ids(roster: Roster) -> SlackIds:
    """Members' Slack IDs by email (case-insensitive), for mentions."""
    ids = {m.email.lower(): m.slack_id for m in roster.members if m.slack_id}
    return lambda email: ids.get(str(email or "").lower())


def result_messages(result: SkillResult, ids: SlackIds | None = None) -> list[list[dict]]:
    """Block Kit messages (each ≤ 50 blocks) of a result's view, threads not included."""
    return messages(present_result(result), ids)


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


def fallback_text(view: View) -> str:
    """Notification text for a view (Slack shows it where blocks can't be)."""
    return escape(view.summary()[:300])


def post_view(client: WebClient, channel: str, view: View, ids: SlackIds | None = None) -> str:
    """Post ``view`` in ``channel`` and each of its threads as replies under its first
    message; return that message's ts."""
    first_ts = ""
    for page in messages(view, ids):
        posted = client.chat_postMessage(
            channel=channel, blocks=page, text=fallback_text(view), **NO_UNFURL
        )
        first_ts = first_ts or posted["ts"]
    for thread in view.threads:
        for page in messages(thread, ids):
            client.chat_postMessage(
                channel=channel,
                thread_ts=first_ts,
                blocks=page,
                text=fallback_text(thread),
                **NO_UNFURL,
            )
    return first_ts


def post_triage(client: WebClient, channel: str, result: SkillResult, roster: Roster) -> str:
    """Post the triage summary in ``channel`` with one thread reply per agent (then the
    unassigned and escalated orders); return the summary's ts."""
    return post_view(client, channel, present_result(result), slack_ids(roster))


def post_result(
    post: Callable[..., object], result: SkillResult, ids: SlackIds | None = None
) -> None:
    """Send a result through ``post(blocks=..., text=...)`` one page at a time (a reply can't
    start threads, so a view's threads follow as further messages)."""
    view = present_result(result)
    for part in (view, *view.threads):
        text = fallback_text(part)
        for page in messages(part, ids):
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
