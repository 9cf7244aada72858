"""App Home, built for one person: field agents see their queue and the unassigned orders they
can take now (Take); managers a dashboard built from blocks (``bot.present.home``: the counts
as fields, the last triage, the SLA breaches as rows with Details and Assign…, See all,
Refresh and Run triage). Published when the tab opens, on Refresh, and again after a change
that concerns them. Details and See all open modals."""

from __future__ import annotations

from bot.clock import now
from bot.errors import EcmError, InputError
from bot.present import present_result
from bot.present.home import all_breaches, breach_details, manager_home
from bot.present.model import View
from bot.runtime.executor import execute
from bot.runtime.roster import Member, Roster
from bot.slack import views
from bot.slack.app_state import SlackContext
from bot.slack.blocks.kit import MAX_TITLE, MAX_VIEW_BLOCKS, context, escape, plain, section
from bot.slack.blocks.render import SlackIds, fit
from bot.slack.posting import slack_ids
from bot.stores.away import AwayStore

TRIGGER = "slack"


def publish_home(sc: SlackContext, user_id: str, trigger: str = TRIGGER) -> None:
    """views.publish the Home tab of ``user_id`` (a stranger gets the empty one), built by
    ``views.home_view`` from the manager's dashboard and the field agent's queue."""
    try:
        caller = sc.identity.resolve(user_id)
    except EcmError:
        sc.client.views_publish(user_id=user_id, view=views.home_view((), None, None))
        return
    stores = sc.stores()
    queue = dashboard = None
    # the skill App Home shows for each role is the one whose config says so
    field = sc.registry.home("field") if "field" in caller.roles else None
    takeable = away_until = None
    if "field" in caller.roles:  # Away…, or I'm back while away
        away = AwayStore(stores.db).current(caller.email, now())
        away_until = away.until if away else ""
    if field:
        queue = present_result(execute(sc.registry, stores, field.name, caller, trigger=trigger))
        takeable = takeable_view(sc, caller, trigger)
    if "manager" in caller.roles:
        dashboard = manager_home(dashboard_data(sc, caller, trigger))
    ids = slack_ids(Roster.load(stores.workbook), sc.channels)
    view = views.home_view(caller.roles, queue, dashboard, ids, takeable, away_until)
    sc.client.views_publish(user_id=user_id, view=view)


def takeable_view(sc: SlackContext, caller: Member, trigger: str = TRIGGER) -> View | None:
    """A field agent's "Unassigned you can take": the stuck orders of their teams nobody is
    working on that they can take now, as the skill whose config claims ``home_takeable``
    finds them in the system of record (whether or not a triage list was posted)."""
    skill = sc.registry.for_slack("home_takeable")
    args = {"home": True}
    return present_result(
        execute(sc.registry, sc.stores(), skill.name, caller, args, trigger=trigger)
    )


def dashboard_data(sc: SlackContext, caller: Member, trigger: str = TRIGGER) -> dict:
    """The result data of the skill App Home shows managers (the dashboard, run-ecm)."""
    skill = sc.registry.home("manager")
    if skill is None:
        raise InputError("No manager skill is configured for App Home.")
    data = execute(sc.registry, sc.stores(), skill.name, caller, trigger=trigger).data
    from bot.canary.status import candidates, status  # candidate versions and their diffs

    if candidates(sc.registry):
        data = {**data, "canaries": status(sc.registry, sc.stores().db, now())}
    return data


def manager_blocks(data: dict, room: int, ids: SlackIds | None = None) -> list[dict]:
    """The manager's dashboard as at most ``room`` blocks (rows left out are counted)."""
    return fit(manager_home(data), room, ids, more=views.MANAGER_MORE)


def _info_modal(title: str, view: View, ids: SlackIds | None, callback_id: str) -> dict:
    blocks = fit(view, MAX_VIEW_BLOCKS, ids) or [section("Nothing to show.")]
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MAX_TITLE),
        "close": plain("Close", MAX_TITLE),
        "blocks": blocks,
    }


def breach_modal(data: dict, order_id: str, ids: SlackIds | None = None) -> dict:
    """Details of one SLA breach from the dashboard's result (or that it is no longer one)."""
    found = next((b for b in data["sla_breaches"] if b["order_id"] == order_id), None)
    if found is None:
        modal = _info_modal("SLA breach", View(), ids, "home_breach")
        modal["blocks"] = [
            section(f"`{escape(order_id)}` is no longer an open SLA breach (resolved or moved)."),
            context("Press Refresh on Home for the latest."),
        ]
        return modal
    return _info_modal(order_id, breach_details(found), ids, "home_breach")


def all_breaches_modal(data: dict, ids: SlackIds | None = None) -> dict:
    """Every SLA breach, one line each (See all)."""
    title = f"SLA breaches ({len(data['sla_breaches'])})"
    return _info_modal(title, all_breaches(data), ids, "home_breaches")


def open_modal(sc: SlackContext, trigger_id: str, caller: Member, what: str, order_id: str = ""):
    """Open Details (``what`` = "details") or See all over App Home for a manager."""
    data = dashboard_data(sc, caller)
    ids = slack_ids(Roster.load(sc.stores().workbook))
    modal = (
        breach_modal(data, order_id, ids) if what == "details" else all_breaches_modal(data, ids)
    )
    sc.client.views_open(trigger_id=trigger_id, view=modal)
