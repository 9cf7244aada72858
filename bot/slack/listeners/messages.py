"""Mentions, DMs and /ecm: route the text to the caller's agent and deliver the answer where
they asked (a thread, the DM, or an ephemeral response)."""

from __future__ import annotations

from slack_bolt import App

from bot.ids import clean_text
from bot.runtime.dispatch import route
from bot.runtime.roster import Member
from bot.slack.app_state import SlackContext
from bot.slack.blocks.kit import escape
from bot.slack.delivery import ReplyTarget, deliver_reply, say
from bot.slack.listeners.common import TRIGGER, WORKING, safely, slash_help


def answer(sc: SlackContext, user: str, text: str, target: ReplyTarget) -> None:
    """Resolve ``user``, route ``text`` for them and deliver the answer to ``target``."""
    answer_member(sc, sc.identity.resolve(user), text, target)


def answer_member(sc: SlackContext, caller: Member, text: str, target: ReplyTarget) -> None:
    routed = route(sc.registry, sc.stores(), caller, text, trigger=TRIGGER, assistant=sc.assistant)
    deliver_reply(sc, routed, caller, target)


def register(app: App, sc: SlackContext) -> None:
    @app.event("app_mention")
    def on_mention(event):
        channel, ts = event["channel"], event["ts"]
        target = ReplyTarget.thread(channel, event.get("thread_ts") or ts)

        def work() -> None:
            caller = sc.identity.resolve(event["user"])
            sc.react(channel, ts, WORKING)
            try:
                answer_member(sc, caller, event.get("text", ""), target)
            finally:
                sc.unreact(channel, ts, WORKING)

        safely(say(sc, target), work)

    @app.event("message")
    def on_message(event):
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        target = ReplyTarget.in_channel(event["channel"])
        safely(say(sc, target), lambda: answer(sc, event["user"], event.get("text", ""), target))

    @app.command("/ecm")
    def on_command(ack, command, respond):
        text = clean_text(command.get("text") or "").strip()  # echoed in the ack below
        if text.lower() in ("", "help"):
            ack(response_type="ephemeral", text=slash_help())
            return
        ack(response_type="ephemeral", text=f"⏳ Working on `{escape(text[:100])}`…")
        target = ReplyTarget.response(respond, channel=command["channel_id"])
        safely(say(sc, target), lambda: answer(sc, command["user_id"], text, target))
