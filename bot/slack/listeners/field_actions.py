"""Field buttons and modals (Details, Resolve, Escalate), and the Confirm/Cancel of a write
proposed from free text."""

from __future__ import annotations

import json

from slack_bolt import App

from bot.errors import EcmError
from bot.runtime.dispatch import confirm, route
from bot.runtime.executor import execute
from bot.slack import views
from bot.slack.context import SlackContext
from bot.slack.listeners.common import (
    TRIGGER,
    after,
    assigned_note,
    ephemeral,
    safely,
    view_order_id,
)
from bot.slack.posting import NO_UNFURL, post_result


def open_note(sc: SlackContext, body, action, kind: str) -> None:
    channel = (body.get("channel") or {}).get("id") or body["user"]["id"]
    meta = json.dumps({"channel": channel, "order_id": action["value"]})
    safely(
        ephemeral(sc, body),
        lambda: sc.client.views_open(
            trigger_id=body["trigger_id"], view=views.note_modal(kind, action["value"], meta)
        ),
    )


def submit_note(sc: SlackContext, ack, body, view, skill: str, field: str) -> None:
    order_id = view_order_id(view)
    text = view["state"]["values"][field][field].get("value") or ""
    try:
        caller = sc.identity.resolve(body["user"]["id"])
        result = execute(
            sc.registry,
            sc.stores(),
            skill,
            caller,
            {"order_id": order_id, field: text},
            trigger=TRIGGER,
        )
    except EcmError as exc:
        ack(response_action="errors", errors={field: str(exc)[:150]})
        return
    ack()
    channel = json.loads(view.get("private_metadata") or "{}").get("channel") or caller.slack_id

    def deliver() -> None:
        post_result(
            lambda **kw: sc.client.chat_postMessage(channel=channel, **kw, **NO_UNFURL),
            result,
        )
        after(sc, result, caller)

    safely(lambda t: None, deliver)


def register(app: App, sc: SlackContext) -> None:
    @app.action("ticket_details")
    def on_details(ack, body, action, respond):
        ack()

        def reply(text: str) -> None:
            respond(text=text, replace_original=False)

        def work() -> None:
            caller = sc.identity.resolve(body["user"]["id"])
            routed = route(
                sc.registry, sc.stores(), caller, f"order {action['value']}", trigger=TRIGGER
            )
            assert routed.result is not None  # "order <id>" always routes to order-details
            post_result(lambda **kw: respond(replace_original=False, **kw), routed.result)

        safely(reply, work)

    @app.action("ticket_resolve")
    def on_resolve_button(ack, body, action):
        ack()
        open_note(sc, body, action, "resolve")

    @app.action("ticket_escalate")
    def on_escalate_button(ack, body, action):
        ack()
        open_note(sc, body, action, "escalate")

    @app.view("resolve_submit")
    def on_resolve_submit(ack, body, view):
        submit_note(sc, ack, body, view, "resolve-ticket", "notes")

    @app.view("escalate_submit")
    def on_escalate_submit(ack, body, view):
        submit_note(sc, ack, body, view, "escalate-ticket", "reason")

    # -- proposed writes (from free text) -----------------------------------------------
    @app.action("proposal_confirm")
    def on_proposal_confirm(ack, body, action, respond):
        ack()

        def reply(text: str) -> None:
            respond(text=text, replace_original=False)

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
            respond(text="✅ Confirmed.", replace_original=True)
            result = done.result
            assert result is not None  # confirm() always runs the proposed skill
            post_result(lambda **kw: respond(replace_original=False, **kw), result)
            after(sc, result, caller)
            if result.skill == "assign-tickets":
                sc.dm(result.data["to_slack_id"], assigned_note(result, caller))

        safely(reply, work)

    @app.action("proposal_cancel")
    def on_proposal_cancel(ack, respond):
        ack()
        respond(text="👍 Cancelled — nothing was changed.", replace_original=True)
