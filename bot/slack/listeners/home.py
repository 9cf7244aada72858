"""App Home: field agents see their queue and what they can take (Check again republishes);
managers the dashboard, with Refresh (republish), See all and Details (modals), Assign… (the
override form) and Run triage. A Home click has no channel and no response_url, so a refusal
or an apology goes to the clicker's DM."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.app_state import SlackContext
from bot.slack.home_tab import open_modal, publish_home
from bot.slack.listeners.common import (
    TRIGGER,
    log,
    require_manager,
    safely,
)
from bot.slack.listeners.manager_actions import open_override


def register(app: App, sc: SlackContext) -> None:
    @app.event("app_home_opened")
    def on_home(event):
        if event.get("tab") not in (None, "home"):
            return
        user = event["user"]

        def work() -> None:
            publish_home(sc, user, TRIGGER)

        safely(lambda text: log.warning("home not published for %s: %s", user, text), work)

    def to_dm(body):
        return lambda text: sc.dm(body["user"]["id"], text)

    @app.action("home_refresh")
    def on_refresh(ack, body):
        ack()
        safely(to_dm(body), lambda: publish_home(sc, body["user"]["id"], TRIGGER))

    @app.action("home_takeable")
    def on_check_again(ack, body):
        """Check again what the field agent can take: their Home, republished."""
        ack()
        safely(to_dm(body), lambda: publish_home(sc, body["user"]["id"], TRIGGER))

    def manager_modal(body, what: str, order_id: str = "") -> None:
        def work() -> None:
            caller = sc.identity.resolve(body["user"]["id"])
            require_manager(sc, caller, "see the SLA breaches", "dashboard_view")
            open_modal(sc, body["trigger_id"], caller, what, order_id)

        safely(to_dm(body), work)

    @app.action("home_see_all")
    def on_see_all(ack, body):
        ack()
        manager_modal(body, "all")

    @app.action("home_breach_details")
    def on_breach_details(ack, body, action):
        ack()
        manager_modal(body, "details", str(action.get("value") or ""))

    @app.action("home_assign")
    def on_assign(ack, body, action):
        ack()
        open_override(sc, body, str(action.get("value") or "") or None)
