"""App Home, built for one person: field agents see their queue, managers the dashboard and a
Run triage button. Published when the tab opens and again after a change that concerns them."""

from __future__ import annotations

from bot.errors import EcmError
from bot.present import present_result
from bot.runtime.executor import execute
from bot.runtime.roster import Roster
from bot.slack import views
from bot.slack.app_state import SlackContext
from bot.slack.posting import slack_ids

TRIGGER = "slack"


def publish_home(sc: SlackContext, user_id: str, trigger: str = TRIGGER) -> None:
    """views.publish the Home tab of ``user_id`` (a stranger gets the empty one)."""
    try:
        caller = sc.identity.resolve(user_id)
    except EcmError:
        sc.client.views_publish(user_id=user_id, view=views.home_view((), None, None))
        return
    stores = sc.stores()
    queue = dashboard = None
    # the skill App Home shows for each role is the one whose config says so
    field = sc.registry.home("field") if "field" in caller.roles else None
    if field:
        queue = present_result(execute(sc.registry, stores, field.name, caller, trigger=trigger))
    manager = sc.registry.home("manager") if "manager" in caller.roles else None
    if manager:
        result = execute(sc.registry, stores, manager.name, caller, trigger=trigger)
        dashboard = present_result(result)
    ids = slack_ids(Roster.load(stores.workbook))
    sc.client.views_publish(
        user_id=user_id, view=views.home_view(caller.roles, queue, dashboard, ids)
    )
