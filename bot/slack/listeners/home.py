"""App Home: field agents see their queue, managers the dashboard and a Run triage button."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.app_state import SlackContext
from bot.slack.home_tab import publish_home
from bot.slack.listeners.common import (
    TRIGGER,
    log,
    safely,
)


def register(app: App, sc: SlackContext) -> None:
    @app.event("app_home_opened")
    def on_home(event):
        if event.get("tab") not in (None, "home"):
            return
        user = event["user"]

        def work() -> None:
            publish_home(sc, user, TRIGGER)

        safely(lambda text: log.warning("home not published for %s: %s", user, text), work)
