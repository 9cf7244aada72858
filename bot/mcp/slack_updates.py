"""A write through MCP updates Slack as a write from Slack does: the skill's follow-ups
(``bot/slack/delivery``: queue messages edited in place, the escalation post, the new
owner's DM), with no reply posted, since the answer went to the MCP client."""

from __future__ import annotations

from collections.abc import Callable

from bot.runtime.executor import SkillResult
from bot.runtime.roster import Member
from bot.skills.registry import Registry


def slack_follow_ups(registry: Registry) -> Callable[[SkillResult, Member], None]:
    """The follow-ups of a result, run against the Slack workspace in SLACK_BOT_TOKEN."""
    from bot.slack.app import thread_local_stores, web_client
    from bot.slack.app_state import SlackContext
    from bot.slack.delivery import ReplyTarget, deliver
    from bot.slack.settings import SlackSettings

    settings = SlackSettings.from_env()
    sc = SlackContext(settings, web_client(settings), registry, thread_local_stores())

    def run(result: SkillResult, caller: Member) -> None:
        deliver(sc, result, caller, ReplyTarget.silent())

    return run
