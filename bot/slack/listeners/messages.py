"""Mentions, DMs and /ecm: route the text to the caller's agent and reply where they asked."""

from __future__ import annotations

from slack_bolt import App

from bot.runtime.dispatch import route
from bot.runtime.roster import Member, Roster
from bot.slack import blocks
from bot.slack.context import SlackContext
from bot.slack.listeners.common import (
    TRIGGER,
    WORKING,
    after,
    assigned_note,
    safely,
    slash_help,
)
from bot.slack.posting import NO_UNFURL, post_result, post_triage, proposal_blocks


def answer(
    sc: SlackContext, caller: Member, text: str, channel: str, thread: str | None, reply
) -> None:
    """Route ``text`` for ``caller``; post the reply, a proposal or the triage summary."""
    stores = sc.stores()
    routed = route(sc.registry, stores, caller, text, trigger=TRIGGER, assistant=sc.assistant)
    if routed.proposal is not None:
        sc.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            blocks=proposal_blocks(routed.proposal),
            text=blocks.escape(routed.proposal["summary"]),
            **NO_UNFURL,
        )
    elif routed.result is None:
        reply(blocks.escape(routed.help_text))
    elif routed.result.skill == "triage-and-assign":
        post_triage(sc.client, channel, routed.result, Roster.load(stores.workbook))
    else:
        post_result(
            lambda **kw: sc.client.chat_postMessage(
                channel=channel, thread_ts=thread, **kw, **NO_UNFURL
            ),
            routed.result,
        )
        after(sc, routed.result, caller)


def register(app: App, sc: SlackContext) -> None:
    @app.event("app_mention")
    def on_mention(event, client):
        channel, ts = event["channel"], event["ts"]
        thread = event.get("thread_ts") or ts

        def reply(text: str) -> None:
            client.chat_postMessage(channel=channel, thread_ts=thread, text=text, **NO_UNFURL)

        def work() -> None:
            caller = sc.identity.resolve(event["user"])
            sc.react(channel, ts, WORKING)
            try:
                answer(sc, caller, event.get("text", ""), channel, thread, reply)
            finally:
                sc.unreact(channel, ts, WORKING)

        safely(reply, work)

    @app.event("message")
    def on_message(event, client):
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        channel = event["channel"]

        def reply(text: str) -> None:
            client.chat_postMessage(channel=channel, text=text, **NO_UNFURL)

        safely(
            reply,
            lambda: answer(
                sc, sc.identity.resolve(event["user"]), event.get("text", ""), channel, None, reply
            ),
        )

    @app.command("/ecm")
    def on_command(ack, command, respond):
        text = (command.get("text") or "").strip()
        if text.lower() in ("", "help"):
            ack(response_type="ephemeral", text=slash_help())
            return
        ack(response_type="ephemeral", text=f"⏳ Working on `{blocks.escape(text[:100])}`…")

        def reply(message: str) -> None:
            respond(text=message, response_type="ephemeral", replace_original=False)

        def work() -> None:
            caller = sc.identity.resolve(command["user_id"])
            stores = sc.stores()
            routed = route(
                sc.registry, stores, caller, text, trigger=TRIGGER, assistant=sc.assistant
            )
            if routed.proposal is not None:
                respond(
                    blocks=proposal_blocks(routed.proposal),
                    response_type="ephemeral",
                    replace_original=False,
                    text=blocks.escape(routed.proposal["summary"]),
                )
            elif routed.result is None:
                reply(blocks.escape(routed.help_text))
            elif routed.result.skill == "triage-and-assign":
                ts = post_triage(
                    sc.client, command["channel_id"], routed.result, Roster.load(stores.workbook)
                )
                reply(f"✅ Triage posted in <#{command['channel_id']}> (message {ts}).")
            else:
                post_result(
                    lambda **kw: respond(response_type="ephemeral", replace_original=False, **kw),
                    routed.result,
                )
                after(sc, routed.result, caller)
                if routed.result.skill == "assign-tickets":
                    sc.dm(routed.result.data["to_slack_id"], assigned_note(routed.result, caller))

        safely(reply, work)
