"""Manager buttons: View Dashboard, Override Assignment (a modal, re-checked on submit; an
agent who doesn't fit pushes a confirmation step, and nothing is written before it),
Reassign… / Assign…, Show all on the triage lists (a modal, paged in place), and Run triage
from App Home."""

from __future__ import annotations

import json
from collections.abc import Callable

from slack_bolt import App

from bot.errors import AccessDenied, EcmError, InputError, NeedsConfirmation
from bot.present import present_result
from bot.runtime.dispatch import refusal
from bot.runtime.executor import execute
from bot.runtime.roster import Roster
from bot.slack import views
from bot.slack.app_state import SlackContext
from bot.slack.delivery import ReplyTarget, deliver, roster_ids
from bot.slack.listeners.common import (
    TRIGGER,
    action_channel,
    ephemeral,
    require_manager,
    safely,
    view_input,
    view_meta,
)


def open_override(sc: SlackContext, body, order_id: str | None) -> None:
    reply = ephemeral(sc, body)

    def work() -> None:
        caller = sc.identity.resolve(body["user"]["id"])
        require_manager(sc, caller, "open the override form", "override_open")
        roster = Roster.load(sc.stores().workbook)
        agents = [
            (f"{m.name or m.handle} ({m.handle})", m.email)
            for m in roster.field_agents()
            if m.active
        ]
        if not agents:
            raise InputError("There are no active field agents on the roster to assign to.")
        message = body.get("message") or {}
        meta = {
            "channel": (body.get("channel") or {}).get("id"),
            "thread_ts": message.get("thread_ts") or message.get("ts"),
        }
        form = views.override_modal(agents, order_id, json.dumps(meta))
        if (body.get("view") or {}).get("type") == "modal":  # Assign… in a list modal
            sc.client.views_push(trigger_id=body["trigger_id"], view=form)
        else:
            sc.client.views_open(trigger_id=body["trigger_id"], view=form)

    safely(reply, work)


def list_reply(sc: SlackContext, body) -> Callable[[str], object]:
    """Where a list's refusal or apology goes: the clicker's DM from a modal or App Home
    (no response_url there), else privately where they clicked."""
    if body.get("view") or not body.get("channel"):
        return lambda text: sc.dm(body["user"]["id"], text)
    return ephemeral(sc, body)


def show_list(sc: SlackContext, body, value: str, control: str) -> None:
    """Show all (``control`` = unowned_all: a modal over the click) and its paging
    (unowned_page: the modal updated in place): the page of the list ``value`` names
    (``unassigned`` or ``escalated``, ``:start`` for a later page), run by the skill whose
    config claims ``control``. A field agent is told, privately, that it is a manager's."""
    which, _, start = value.partition(":")
    reply = list_reply(sc, body)

    def work() -> None:
        caller = sc.identity.resolve(body["user"]["id"])
        skill = sc.registry.for_slack(control)
        args = {"which": which, "start": start or "1"}
        try:
            result = execute(sc.registry, sc.stores(), skill.name, caller, args, trigger=TRIGGER)
        except AccessDenied:
            if skill.role in caller.roles:
                raise
            reply(f"🙅 {refusal(sc.registry, caller.roles, skill)}")  # the denial is recorded
            return
        ids = roster_ids(sc)
        meta = json.dumps({"which": which, "start": result.data["start"]})
        title = "Unassigned" if which == "unassigned" else "Escalated"
        modal = views.list_modal(
            f"{title} ({result.data['total']})", present_result(result), ids, meta
        )
        shown = body.get("view") or {}
        if shown.get("callback_id") == views.LIST_CALLBACK:
            sc.client.views_update(view_id=shown["id"], view=modal)
        else:
            sc.client.views_open(trigger_id=body["trigger_id"], view=modal)

    safely(reply, work)


def refresh_list(sc: SlackContext, body) -> None:
    """After a Take in a list modal: the same page again, the order now taken."""
    shown = body.get("view") or {}
    if shown.get("callback_id") != views.LIST_CALLBACK:
        return
    meta = view_meta(shown)
    value = f"{meta.get('which') or 'unassigned'}:{meta.get('start') or 1}"
    show_list(sc, body, value, "unowned_page")


def register(app: App, sc: SlackContext) -> None:
    @app.action("dashboard_view")
    def on_dashboard(ack, body):
        ack()
        reply = ephemeral(sc, body)

        def work() -> None:
            caller = sc.identity.resolve(body["user"]["id"])
            skill = sc.registry.for_slack("dashboard_view").name
            result = execute(sc.registry, sc.stores(), skill, caller, trigger=TRIGGER)
            # the dashboard button sits in a message, so its action carries the channel
            target = ReplyTarget.ephemeral(
                action_channel(body), caller.slack_id or body["user"]["id"]
            )
            deliver(sc, result, caller, target)

        safely(reply, work)

    @app.action("unowned_all")
    def on_show_all(ack, body, action):
        ack()
        show_list(sc, body, str(action.get("value") or "unassigned"), "unowned_all")

    @app.action("unowned_page")
    @app.action("unowned_back")
    def on_list_page(ack, body, action):
        ack()
        show_list(sc, body, str(action.get("value") or "unassigned"), action["action_id"])

    @app.action("override_open")
    def on_override_open(ack, body):
        ack()
        open_override(sc, body, None)

    @app.action("ticket_overflow")
    def on_overflow(ack, body, action):
        ack()
        value = (action.get("selected_option") or {}).get("value", "")
        if value.startswith("reassign:"):
            open_override(sc, body, value.split(":", 1)[1])

    @app.view("override_submit")
    def on_override_submit(ack, body, view):
        user_id = body["user"]["id"]
        order_id = str(view_input(view, "ticket", "order_id") or "").strip()
        option = view_input(view, "agent", key="selected_option")
        agent = str(option.get("value") or "") if isinstance(option, dict) else ""
        reason = str(view_input(view, "reason") or "")
        args = {"order_id": order_id, "agent": agent, "reason": reason}
        try:
            caller = sc.identity.resolve(user_id)
            require_manager(sc, caller, "reassign tickets", "override_submit")
            result = execute(
                sc.registry,
                sc.stores(),
                sc.registry.for_slack("override_submit").name,
                caller,
                args,
                trigger=TRIGGER,
            )
        except NeedsConfirmation as exc:  # nothing written: ask first, on top of the form
            meta = json.dumps({**view_meta(view), **args, **exc.seen}, ensure_ascii=False)
            confirm = views.confirm_override_modal(
                order_id, "@" + agent.split("@")[0], exc.warnings, meta
            )
            ack(response_action="push", view=confirm)
            return
        except EcmError as exc:
            block = "ticket" if "order" in str(exc).lower() else "reason"
            if "agent" in str(exc).lower() or "roster" in str(exc).lower():
                block = "agent"
            ack(response_action="errors", errors={block: str(exc)[:150]})
            return
        ack()
        tell(caller, result, view_meta(view))

    @app.view("override_confirm")
    def on_override_confirm(ack, body, view):
        meta = view_meta(view)
        keys = ("order_id", "agent", "reason", "expect_status", "expect_agent")
        args = {k: str(meta.get(k) or "") for k in keys}
        try:
            caller = sc.identity.resolve(body["user"]["id"])
            require_manager(sc, caller, "reassign tickets", "override_confirm")
            result = execute(
                sc.registry,
                sc.stores(),
                sc.registry.for_slack("override_confirm").name,
                caller,
                {**args, "confirm": True},
                trigger=TRIGGER,
            )
        except EcmError as exc:  # e.g. moved meanwhile: say so in place of the step
            text = getattr(exc, "hint", None) or str(exc)
            ack(response_action="update", view=views.notice_modal("Not reassigned", text))
            return
        ack(response_action="clear")  # closes the step and the form under it
        tell(caller, result, meta)

    def tell(caller, result, meta: dict) -> None:
        """The modal closed on submit: the triage thread and both agents are told."""
        thread = (meta["channel"], meta.get("thread_ts")) if meta.get("channel") else None
        target = ReplyTarget.silent(triage_thread=thread)
        safely(lambda t: None, lambda: deliver(sc, result, caller, target))

    @app.action("run_triage")
    def on_run_triage(ack, body):
        ack()
        reply = ephemeral(sc, body)

        def work() -> None:
            caller = sc.identity.resolve(body["user"]["id"])
            result = execute(
                sc.registry,
                sc.stores(),
                sc.registry.for_slack("run_triage").name,
                caller,
                trigger=TRIGGER,
                assistant=sc.assistant,
            )
            channel = sc.settings.triage_channel or sc.open_dm(
                caller.slack_id or body["user"]["id"]
            )
            deliver(sc, result, caller, ReplyTarget.in_channel(channel))

        safely(
            lambda text: (
                sc.dm(body["user"]["id"], text) if not body.get("channel") else reply(text)
            ),
            work,
        )
