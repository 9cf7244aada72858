"""Field buttons and modals (Details, Resolve, Escalate, Snooze, App Home's Away… and I'm
back), Take and Acknowledge on
work nobody owns yet (the triage lists, the escalation post), and the Confirm/Cancel of a
write proposed from free text."""

from __future__ import annotations

import json

from slack_bolt import App

from bot.errors import AccessDenied, EcmError
from bot.runtime.dispatch import confirm, refusal, route
from bot.runtime.executor import execute
from bot.slack import views
from bot.slack.app_state import SlackContext
from bot.slack.delivery import ReplyTarget, deliver, say, send
from bot.slack.home_tab import publish_home
from bot.slack.listeners.common import (
    TRIGGER,
    action_channel,
    ephemeral,
    safely,
    view_input,
    view_meta,
    view_order_id,
)
from bot.slack.listeners.manager_actions import refresh_list


def note_button(value: str) -> tuple[str, str]:
    """A Resolve/Escalate button's (order id, note to pre-fill): its value is the order id,
    or (from order details) JSON with the runbook's resolution-note template."""
    if value.startswith("{"):
        try:
            found = json.loads(value)
        except ValueError:
            found = None
        if isinstance(found, dict):
            return str(found.get("order_id") or ""), str(found.get("note") or "")
    return value, ""


def open_note(sc: SlackContext, body, action, kind: str) -> None:
    order_id, initial = note_button(str(action.get("value") or ""))
    meta = json.dumps({"channel": action_channel(body), "order_id": order_id})
    safely(
        ephemeral(sc, body),
        lambda: sc.client.views_open(
            trigger_id=body["trigger_id"],
            view=views.note_modal(kind, order_id, meta, initial),
        ),
    )


def submit_note(sc: SlackContext, ack, body, view, field: str) -> None:
    """Run the skill whose config claims this modal's callback_id with the typed note."""
    order_id = view_order_id(view)
    text = view_input(view, field) or ""
    try:
        caller = sc.identity.resolve(body["user"]["id"])
        result = execute(
            sc.registry,
            sc.stores(),
            sc.registry.for_slack(view["callback_id"]).name,
            caller,
            {"order_id": order_id, field: text},
            trigger=TRIGGER,
        )
    except EcmError as exc:
        ack(response_action="errors", errors={field: str(exc)[:150]})
        return
    ack()
    channel = view_meta(view).get("channel") or caller.slack_id
    target = ReplyTarget.in_channel(channel)
    safely(lambda t: None, lambda: deliver(sc, result, caller, target))


def open_snooze(sc: SlackContext, body, action) -> None:
    order_id = str(action.get("value") or "")
    meta = json.dumps({"channel": action_channel(body), "order_id": order_id})
    safely(
        ephemeral(sc, body),
        lambda: sc.client.views_open(
            trigger_id=body["trigger_id"], view=views.snooze_modal(order_id, meta)
        ),
    )


def submit_snooze(sc: SlackContext, ack, body, view) -> None:
    """Run the skill whose config claims the Snooze form with its duration and note; a
    refusal is shown under the field it is about (the note, by default)."""
    args = {
        "order_id": view_order_id(view),
        "duration": view_input(view, "duration") or "",
        "note": view_input(view, "note") or "",
    }
    try:
        caller = sc.identity.resolve(body["user"]["id"])
        skill = sc.registry.for_slack(view["callback_id"]).name
        result = execute(sc.registry, sc.stores(), skill, caller, args, trigger=TRIGGER)
    except EcmError as exc:
        where = "duration" if getattr(exc, "field", None) == "duration" else "note"
        ack(response_action="errors", errors={where: str(exc)[:150]})
        return
    ack()
    channel = view_meta(view).get("channel") or caller.slack_id
    safely(lambda t: None, lambda: deliver(sc, result, caller, ReplyTarget.in_channel(channel)))


def open_away(sc: SlackContext, body) -> None:
    """App Home's Away…: the form asking until when, in the agent's own time zone."""
    user = body["user"]["id"]

    def work() -> None:
        caller = sc.identity.resolve(user)
        modal = views.away_modal(caller.timezone or "UTC")
        sc.client.views_open(trigger_id=body["trigger_id"], view=modal)

    safely(lambda text: sc.dm(user, text), work)


def _field_error(exc: EcmError) -> str:
    """A refusal short enough for a modal field: its first sentence and the form's hint."""
    text = str(exc)
    if len(text) <= 150:
        return text
    return f"{text.split('. ')[0][:100]}. Try {views.AWAY_HINT}."


def submit_away(sc: SlackContext, ack, body, view) -> None:
    """Run the skill whose config claims the Away form with its time: a time it can't read
    (or any refusal) is shown under the field, changing nothing; the last agent on shift is
    told in the form that nothing moved. Then the answer in their DM, the skill's
    follow-ups (the handover DMs) and their App Home again."""
    user = body["user"]["id"]
    try:
        caller = sc.identity.resolve(user)
        skill = sc.registry.for_slack(view["callback_id"]).name
        args = {"until": view_input(view, "until") or ""}
        result = execute(sc.registry, sc.stores(), skill, caller, args, trigger=TRIGGER)
    except EcmError as exc:
        ack(response_action="errors", errors={"until": _field_error(exc)})
        return
    if result.data.get("refused"):
        teams = ", ".join(result.data.get("uncovered") or [])
        text = (
            f"Sorry, you are the last agent on shift for {teams}, so nothing moved and you "
            "are not away. I've told the ECM managers; they can set it for you if someone "
            "can cover."
        )
        ack(response_action="update", view=views.notice_modal("Not away yet", text))
    else:
        ack()
    target = ReplyTarget.direct(user)

    def after() -> None:
        deliver(sc, result, caller, target)
        publish_home(sc, user, TRIGGER)

    safely(say(sc, target), after)


def run_back(sc: SlackContext, body) -> None:
    """App Home's I'm back: the skill whose config claims ``home_back`` ends the away; the
    answer (or why not) in their DM, then their App Home again."""
    user = body["user"]["id"]
    target = ReplyTarget.direct(user)

    def work() -> None:
        caller = sc.identity.resolve(user)
        skill = sc.registry.for_slack("home_back").name
        result = execute(sc.registry, sc.stores(), skill, caller, {"back": ""}, trigger=TRIGGER)
        deliver(sc, result, caller, target)
        publish_home(sc, user, TRIGGER)

    safely(say(sc, target), work)


def run_on_order(sc: SlackContext, body, action, respond, control: str) -> None:
    """Run the skill whose config claims the button ``control`` on the clicked order; the
    answer (done, or a refusal in plain words) is private to the clicker, and the skill's
    follow-ups edit the messages that show the order."""
    user = body["user"]["id"]
    if body.get("response_url"):
        target = ReplyTarget.response(respond, channel=action_channel(body))
    else:  # App Home: no response_url
        target = ReplyTarget.direct(user)
    reply = say(sc, target)

    def work() -> None:
        caller = sc.identity.resolve(user)
        skill = sc.registry.for_slack(control)
        args = {"order_id": str(action.get("value") or "")}
        try:
            result = execute(sc.registry, sc.stores(), skill.name, caller, args, trigger=TRIGGER)
        except AccessDenied:
            if skill.role in caller.roles:
                raise
            reply(f"🙅 {refusal(sc.registry, caller.roles, skill)}")  # the denial is recorded
            return
        deliver(sc, result, caller, target)

    safely(reply, work)


def register(app: App, sc: SlackContext) -> None:
    @app.action("ticket_details")
    def on_details(ack, body, action, respond):
        ack()
        target = ReplyTarget.response(respond, channel=action_channel(body))

        def work() -> None:
            caller = sc.identity.resolve(body["user"]["id"])
            routed = route(
                sc.registry, sc.stores(), caller, f"order {action['value']}", trigger=TRIGGER
            )
            assert routed.result is not None  # "order <id>" always routes to order-details
            deliver(sc, routed.result, caller, target)

        safely(say(sc, target), work)

    @app.action("tickets_more")
    def on_more(ack, body, action, respond):
        """The next page of the caller's queue, below the page they clicked in (a DM when
        the click came from App Home, which has no response_url)."""
        ack()
        user = body["user"]["id"]
        if body.get("response_url"):
            target = ReplyTarget.response(respond, channel=action_channel(body))
        else:
            target = ReplyTarget.direct(user)

        def work() -> None:
            caller = sc.identity.resolve(user)
            skill = sc.registry.for_slack("tickets_more").name
            args = {"start": action.get("value") or "1"}
            result = execute(sc.registry, sc.stores(), skill, caller, args, trigger=TRIGGER)
            deliver(sc, result, caller, target)

        safely(say(sc, target), work)

    @app.action("ticket_resolve")
    def on_resolve_button(ack, body, action):
        ack()
        open_note(sc, body, action, "resolve")

    @app.action("ticket_escalate")
    def on_escalate_button(ack, body, action):
        ack()
        open_note(sc, body, action, "escalate")

    @app.action("ticket_snooze")
    def on_snooze_button(ack, body, action):
        ack()
        open_snooze(sc, body, action)

    @app.view("snooze_submit")
    def on_snooze_submit(ack, body, view):
        submit_snooze(sc, ack, body, view)

    @app.action("home_away")
    def on_away_button(ack, body):
        ack()
        open_away(sc, body)

    @app.view("away_submit")
    def on_away_submit(ack, body, view):
        submit_away(sc, ack, body, view)

    @app.action("home_back")
    def on_back_button(ack, body):
        ack()
        run_back(sc, body)

    @app.action("ticket_take")
    def on_take(ack, body, action, respond):
        ack()
        run_on_order(sc, body, action, respond, "ticket_take")
        refresh_list(sc, body)  # a Take in a Show all modal: its page, redrawn

    @app.action("escalation_ack")
    def on_acknowledge(ack, body, action, respond):
        ack()
        run_on_order(sc, body, action, respond, "escalation_ack")

    @app.view("resolve_submit")
    def on_resolve_submit(ack, body, view):
        submit_note(sc, ack, body, view, "notes")

    @app.view("escalate_submit")
    def on_escalate_submit(ack, body, view):
        submit_note(sc, ack, body, view, "reason")

    # -- proposed writes (from free text) -----------------------------------------------
    @app.action("proposal_confirm")
    def on_proposal_confirm(ack, body, action, respond):
        ack()
        target = ReplyTarget.response(respond, channel=action_channel(body))

        def work() -> None:
            caller = sc.identity.resolve(body["user"]["id"])
            done = confirm(
                sc.registry,
                sc.stores(),
                caller,
                action["value"],
                trigger=TRIGGER,
                assistant=sc.assistant,
            )
            send(sc, ReplyTarget.update(respond), text="✅ Confirmed.")
            assert done.result is not None  # confirm() always runs the proposed skill
            deliver(sc, done.result, caller, target)

        safely(say(sc, target), work)

    @app.action("proposal_cancel")
    def on_proposal_cancel(ack, respond):
        ack()
        send(sc, ReplyTarget.update(respond), text="👍 Cancelled — nothing was changed.")
