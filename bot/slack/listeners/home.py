"""App Home: field agents see their queue, managers the dashboard and a Run triage button."""

from __future__ import annotations

from slack_bolt import App

from bot.errors import EcmError
from bot.present import present_result
from bot.runtime.executor import execute
from bot.slack import views
from bot.slack.app_state import SlackContext
from bot.slack.delivery import roster_ids
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
            try:
                caller = sc.identity.resolve(user)
            except EcmError:
                view = views.home_view((), None, None)
                sc.client.views_publish(user_id=user, view=view)
                return
            stores = sc.stores()
            queue = dashboard = None
            # the skill App Home shows for each role is the one whose config says so
            field = sc.registry.home("field") if "field" in caller.roles else None
            if field:
                queue = present_result(
                    execute(sc.registry, stores, field.name, caller, trigger=TRIGGER)
                )
            manager = sc.registry.home("manager") if "manager" in caller.roles else None
            if manager:
                result = execute(sc.registry, stores, manager.name, caller, trigger=TRIGGER)
                dashboard = present_result(result)
            sc.client.views_publish(
                user_id=user, view=views.home_view(caller.roles, queue, dashboard, roster_ids(sc))
            )

        safely(lambda text: log.warning("home not published for %s: %s", user, text), work)
