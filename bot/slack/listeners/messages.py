"""Mentions, DMs and /ecm: route the text to the caller's agent and deliver the answer where
they asked (a thread, the DM, or an ephemeral response)."""

from __future__ import annotations

from slack_bolt import App

from bot.ids import clean_text
from bot.runtime.dispatch import check_role, route
from bot.runtime.roster import Member
from bot.slack.app_state import SlackContext
from bot.slack.blocks.kit import escape
from bot.slack.delivery import ReplyTarget, deliver_reply, say, send
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

        # a refusal or an apology is for the asker only, not the whole channel
        safely(say(sc, ReplyTarget.ephemeral(channel, event["user"])), work)

    @app.event("message")
    def on_message(event):
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        target = ReplyTarget.in_channel(event["channel"])
        safely(say(sc, target), lambda: answer(sc, event["user"], event.get("text", ""), target))

    @app.command("/ecm")
    def on_command(ack, command, respond):
        ack()  # says nothing yet: the caller's role is checked first
        text = clean_text(command.get("text") or "").strip()
        target = ReplyTarget.response(respond, channel=command["channel_id"])

        def work() -> None:
            caller = sc.identity.resolve(command["user_id"])
            if text.lower() in ("", "help"):
                send(sc, target, text=escape(slash_help(sc.registry, caller.roles)))
                return
            check_role(sc.registry, sc.stores(), caller, text)
            send(sc, target, text=f"⏳ Working on `{escape(text[:100])}`…")
            answer_member(sc, caller, text, target)

        safely(say(sc, target), work)
