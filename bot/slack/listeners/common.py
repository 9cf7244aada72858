"""What the Slack listeners share: the error boundary, redelivery keys, refusals and the
follow-ups of a write (escalation notice, the new assignee's DM)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from bot.errors import AccessDenied, EcmError
from bot.runtime.executor import SkillResult, new_id
from bot.runtime.roster import Member
from bot.skills.tools import DEC_011
from bot.slack import blocks
from bot.slack.context import SlackContext
from bot.slack.posting import NO_UNFURL, post_escalation

log = logging.getLogger("bot.slack.listeners")
TRIGGER = "slack"
WORKING = "hourglass_flowing_sand"


def safely(reply: Callable[[str], object], work: Callable[[], object]) -> None:
    """Run ``work``; turn a refusal into its message and a crash into an apology with a ref."""
    try:
        work()
    except EcmError as exc:
        reply(f"🙅 {blocks.escape(str(exc))}")
    except Exception:
        ref = new_id()
        log.exception("slack handler failed (ref %s)", ref)
        reply(
            f"😞 Sorry, something went wrong on my side (ref `{ref}`). "
            "The details are in the bot's log; please try again or tell the ECM team."
        )


def dedupe_key(body: dict) -> str | None:
    """The id of a delivery that Slack may send again."""
    if body.get("type") == "event_callback":
        return f"event:{body.get('event_id')}"
    if body.get("type") == "block_actions" and body.get("actions"):
        user = (body.get("user") or {}).get("id")
        return f"action:{user}:{body['actions'][0].get('action_ts')}"
    if body.get("type") == "view_submission":
        view = body.get("view") or {}
        return f"view:{view.get('id')}:{view.get('hash')}"
    return None


def after(sc: SlackContext, result: SkillResult, caller: Member) -> None:
    if result.skill == "escalate-ticket":
        post_escalation(sc.client, sc.settings.escalation_channel, result, caller.slack_id)


def ephemeral(sc: SlackContext, body) -> Callable[[str], object]:
    channel = (body.get("channel") or {}).get("id") or body["user"]["id"]

    def reply(text: str) -> None:
        sc.client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)

    return reply


def require_manager(sc: SlackContext, caller: Member, what: str) -> None:
    if "manager" not in caller.roles:
        sc.stores().state.record_denial(
            caller=caller.email,
            skill="assign-tickets",
            role="/".join(caller.roles),
            resource="slack:override",
            rule=DEC_011,
        )
        raise AccessDenied(
            skill="assign-tickets",
            role="/".join(caller.roles),
            resource="slack:override",
            rule=DEC_011,
            message=f"Only ECM managers can {what}; you are on the roster as "
            f"{'/'.join(caller.roles)}.",
        )


def view_order_id(view: dict) -> str:
    return json.loads(view.get("private_metadata") or "{}").get("order_id", "")


def assigned_note(result: SkillResult, by: Member) -> str:
    d = result.data
    return (
        f"📥 <@{by.slack_id}> assigned you `{blocks.escape(d['order_id'])}` "
        f"({blocks.escape(d['priority'])}, {blocks.escape(d['stuck_reason'])}). "
        f"Reason: {blocks.escape(d['reason'])}. Say `order {d['order_id']}` here to open it."
    )


def announce_override(
    sc: SlackContext, meta: dict, result: SkillResult, note: str, caller: Member
) -> None:
    d = result.data
    if meta.get("channel"):
        sc.client.chat_postMessage(
            channel=meta["channel"],
            thread_ts=meta.get("thread_ts"),
            text=(
                f"🔁 <@{caller.slack_id}> moved `{blocks.escape(d['order_id'])}` to "
                f"<@{d['to_slack_id']}>. Reason: {blocks.escape(d['reason'])}"
            ),
            **NO_UNFURL,
        )
    sc.dm(d["to_slack_id"], note)


def slash_help() -> str:
    return "\n".join(
        [
            "*/ecm* commands:",
            "• `/ecm triage` · `/ecm dashboard` · `/ecm patterns` · "
            "`/ecm assign ORDER_ID @agent REASON` (managers)",
            "• `/ecm my-tickets` · `/ecm order ORDER_ID` · `/ecm resolve ORDER_ID NOTES` · "
            "`/ecm escalate ORDER_ID REASON` (field agents)",
            "Or DM me: `my tickets`, `order ORDER_ID`, `help`.",
        ]
    )
