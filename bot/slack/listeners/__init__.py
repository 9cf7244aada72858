"""Bolt listeners: thin handlers that parse, call the runtime, and reply. Errors are caught
here only: a refusal is a polite message, anything else an apology with a reference id."""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.response import BoltResponse

from bot.errors import StoreUnavailable
from bot.slack.app_state import SlackContext
from bot.slack.listeners import field_actions, home, manager_actions, messages
from bot.slack.listeners.common import dedupe_key, log


def register(app: App, sc: SlackContext) -> None:
    """Attach the redelivery filter (events, slash commands, actions and views: each acts
    once across replicas) and every listener to ``app``."""

    @app.middleware
    def handle_once(body, req, next):
        key = dedupe_key(body, req.raw_body)
        message_id = (body.get("event") or {}).get("client_msg_id")
        try:
            state = sc.stores().state
            fresh = key is None or state.first_time(key)
            if fresh and message_id:
                fresh = state.first_time(f"msg:{message_id}")
        except StoreUnavailable as exc:  # the listener tells the person to try again
            log.warning("redelivery check skipped: %s", exc)
            fresh = True
        if not fresh:
            log.info("ignoring a redelivery: %s", key)
            return BoltResponse(status=200, body="")
        return next()

    for surface in (messages, manager_actions, field_actions, home):
        surface.register(app, sc)
