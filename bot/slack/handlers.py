"""Bolt listeners: thin handlers that parse, call the runtime, and reply. Errors are caught
here only: a refusal is a polite message, anything else an apology with a reference id."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.response import BoltResponse

from bot.errors import AccessDenied, EcmError, InputError
from bot.render import render
from bot.runtime.dispatch import confirm, help_text, route
from bot.runtime.executor import SkillResult, execute, new_id
from bot.runtime.roster import Member, Roster
from bot.skills.tools import DEC_011
from bot.slack import blocks, views
from bot.slack.context import SlackContext
from bot.slack.posting import (
    NO_UNFURL,
    post_escalation,
    post_result,
    post_triage,
    proposal_blocks,
)

log = logging.getLogger(__name__)
TRIGGER = "slack"
WORKING = "hourglass_flowing_sand"


def safely(reply: Callable[[str], object], work: Callable[[], object]) -> None:
    """Run ``work``; turn a refusal into its message and a crash into an apology with a ref."""
    try:
        work()
    except EcmError as exc:
        reply(f"🙅 {blocks.escape(str(exc))}")
    except Exception:  # noqa: BLE001 - the Slack boundary: never silence, never a trace
        ref = new_id()
        log.exception("slack handler failed (ref %s)", ref)
        reply(
            f"😞 Sorry, something went wrong on my side (ref `{ref}`). "
            "The details are in the bot's log; please try again or tell the ECM team."
        )


def dedupe_key(body: dict) -> str | None:
    """The id of a delivery that Slack may send again."""
    if body.get("type") == "event_callback":
        return f"event:{body.get('event_id')}"
    if body.get("type") == "block_actions" and body.get("actions"):
        user = (body.get("user") or {}).get("id")
        return f"action:{user}:{body['actions'][0].get('action_ts')}"
    if body.get("type") == "view_submission":
        view = body.get("view") or {}
        return f"view:{view.get('id')}:{view.get('hash')}"
    return None


def register(app: App, sc: SlackContext) -> None:
    """Attach every listener to ``app``."""

    @app.middleware
    def handle_once(body, next):  # noqa: A002 - Bolt's argument name
        key = dedupe_key(body)
        message_id = (body.get("event") or {}).get("client_msg_id")
        state = sc.stores().state
        fresh = key is None or state.first_time(key)
        if fresh and message_id:
            fresh = state.first_time(f"msg:{message_id}")
        if not fresh:
            log.info("ignoring a redelivery: %s", key)
            return BoltResponse(status=200, body="")
        return next()

    # -- messages ------------------------------------------------------------------------
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
                answer(caller, event.get("text", ""), channel, thread, reply)
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
                sc.identity.resolve(event["user"]), event.get("text", ""), channel, None, reply
            ),
        )

    def answer(caller: Member, text: str, channel: str, thread: str | None, reply) -> None:
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
            after(routed.result, caller)

    def after(result: SkillResult, caller: Member) -> None:
        if result.skill == "escalate-ticket":
            post_escalation(sc.client, sc.settings.escalation_channel, result, caller.slack_id)

    # -- /ecm ----------------------------------------------------------------------------
    @app.command("/ecm")
    def on_command(ack, command, respond):
        text = (command.get("text") or "").strip()
        if text.lower() in ("", "help"):
            ack(response_type="ephemeral", text=_slash_help())
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
                after(routed.result, caller)
                if routed.result.skill == "assign-tickets":
                    sc.dm(routed.result.data["to_slack_id"], _assigned_note(routed.result, caller))

        safely(reply, work)

    # -- buttons -------------------------------------------------------------------------
    def ephemeral(body) -> Callable[[str], object]:
        channel = (body.get("channel") or {}).get("id") or body["user"]["id"]

        def reply(text: str) -> None:
            sc.client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)

        return reply

    @app.action("dashboard_view")
    def on_dashboard(ack, body):
        ack()
        reply = ephemeral(body)

        def work() -> None:
            caller = sc.identity.resolve(body["user"]["id"])
            result = execute(sc.registry, sc.stores(), "run-ecm", caller, trigger=TRIGGER)
            channel = (body.get("channel") or {}).get("id")
            post_result(
                lambda **kw: sc.client.chat_postEphemeral(
                    channel=channel, user=caller.slack_id or body["user"]["id"], **kw
                ),
                result,
            )

        safely(reply, work)

    def open_override(body, order_id: str | None) -> None:
        reply = ephemeral(body)

        def work() -> None:
            caller = sc.identity.resolve(body["user"]["id"])
            require_manager(caller, "open the override form")
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
            sc.client.views_open(
                trigger_id=body["trigger_id"],
                view=views.override_modal(agents, order_id, json.dumps(meta)),
            )

        safely(reply, work)

    def require_manager(caller: Member, what: str) -> None:
        if "manager" not in caller.roles:
            sc.stores().state.record_denial(
                caller=caller.email,
                skill="assign-tickets",
                role="/".join(caller.roles),
                resource="slack:override",
                rule=DEC_011,
            )
            raise AccessDenied(
                skill="assign-tickets",
                role="/".join(caller.roles),
                resource="slack:override",
                rule=DEC_011,
                message=f"Only ECM managers can {what}; you are on the roster as "
                f"{'/'.join(caller.roles)}.",
            )

    @app.action("override_open")
    def on_override_open(ack, body):
        ack()
        open_override(body, None)

    @app.action("ticket_overflow")
    def on_overflow(ack, body, action):
        ack()
        value = (action.get("selected_option") or {}).get("value", "")
        if value.startswith("reassign:"):
            open_override(body, value.split(":", 1)[1])

    @app.view("override_submit")
    def on_override_submit(ack, body, view):
        values = view["state"]["values"]
        user_id = body["user"]["id"]
        order_id = (values["ticket"]["order_id"].get("value") or "").strip()
        agent = (values["agent"]["agent"].get("selected_option") or {}).get("value", "")
        reason = values["reason"]["reason"].get("value") or ""
        try:
            caller = sc.identity.resolve(user_id)
            require_manager(caller, "reassign tickets")
            result = execute(
                sc.registry,
                sc.stores(),
                "assign-tickets",
                caller,
                {"order_id": order_id, "agent": agent, "reason": reason},
                trigger=TRIGGER,
            )
        except EcmError as exc:
            block = "ticket" if "order" in str(exc).lower() else "reason"
            if "agent" in str(exc).lower() or "roster" in str(exc).lower():
                block = "agent"
            ack(response_action="errors", errors={block: str(exc)[:150]})
            return
        ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        note = _assigned_note(result, caller)
        safely(lambda t: None, lambda: _announce_override(sc, meta, result, note, caller))

    # -- field buttons and modals --------------------------------------------------------
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
            post_result(lambda **kw: respond(replace_original=False, **kw), routed.result)

        safely(reply, work)

    def open_note(body, action, kind: str) -> None:
        channel = (body.get("channel") or {}).get("id") or body["user"]["id"]
        meta = json.dumps({"channel": channel, "order_id": action["value"]})
        safely(
            ephemeral(body),
            lambda: sc.client.views_open(
                trigger_id=body["trigger_id"], view=views.note_modal(kind, action["value"], meta)
            ),
        )

    @app.action("ticket_resolve")
    def on_resolve_button(ack, body, action):
        ack()
        open_note(body, action, "resolve")

    @app.action("ticket_escalate")
    def on_escalate_button(ack, body, action):
        ack()
        open_note(body, action, "escalate")

    def submit_note(ack, body, view, skill: str, field: str) -> None:
        order_id = _view_order_id(view)
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
        safely(
            lambda t: None,
            lambda: (
                post_result(
                    lambda **kw: sc.client.chat_postMessage(channel=channel, **kw, **NO_UNFURL),
                    result,
                ),
                after(result, caller),
            ),
        )

    @app.view("resolve_submit")
    def on_resolve_submit(ack, body, view):
        submit_note(ack, body, view, "resolve-ticket", "notes")

    @app.view("escalate_submit")
    def on_escalate_submit(ack, body, view):
        submit_note(ack, body, view, "escalate-ticket", "reason")

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
            post_result(lambda **kw: respond(replace_original=False, **kw), done.result)
            after(done.result, caller)
            if done.result.skill == "assign-tickets":
                sc.dm(done.result.data["to_slack_id"], _assigned_note(done.result, caller))

        safely(reply, work)

    @app.action("proposal_cancel")
    def on_proposal_cancel(ack, respond):
        ack()
        respond(text="👍 Cancelled — nothing was changed.", replace_original=True)

    # -- App Home ------------------------------------------------------------------------
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
            if "field" in caller.roles:
                queue = execute(sc.registry, stores, "my-tickets", caller, trigger=TRIGGER).data
            if "manager" in caller.roles:
                data = execute(sc.registry, stores, "run-ecm", caller, trigger=TRIGGER).data
                dashboard = render("run-ecm", data)
            sc.client.views_publish(
                user_id=user, view=views.home_view(caller.roles, queue, dashboard)
            )

        safely(lambda text: log.warning("home not published for %s: %s", user, text), work)

    @app.action("run_triage")
    def on_run_triage(ack, body):
        ack()
        reply = ephemeral(body)

        def work() -> None:
            caller = sc.identity.resolve(body["user"]["id"])
            stores = sc.stores()
            result = execute(
                sc.registry,
                stores,
                "triage-and-assign",
                caller,
                trigger=TRIGGER,
                assistant=sc.assistant,
            )
            channel = sc.settings.triage_channel or sc.open_dm(
                caller.slack_id or body["user"]["id"]
            )
            post_triage(sc.client, channel, result, Roster.load(stores.workbook))

        safely(
            lambda text: (
                sc.dm(body["user"]["id"], text) if not body.get("channel") else reply(text)
            ),
            work,
        )


def _view_order_id(view: dict) -> str:
    return json.loads(view.get("private_metadata") or "{}").get("order_id", "")


def _assigned_note(result: SkillResult, by: Member) -> str:
    d = result.data
    return (
        f"📥 <@{by.slack_id}> assigned you `{blocks.escape(d['order_id'])}` "
        f"({blocks.escape(d['priority'])}, {blocks.escape(d['stuck_reason'])}). "
        f"Reason: {blocks.escape(d['reason'])}. Say `order {d['order_id']}` here to open it."
    )


def _announce_override(
    sc: SlackContext, meta: dict, result: SkillResult, note: str, caller: Member
) -> None:
    d = result.data
    if meta.get("channel"):
        sc.client.chat_postMessage(
            channel=meta["channel"],
            thread_ts=meta.get("thread_ts"),
            text=(
                f"🔁 <@{caller.slack_id}> moved `{blocks.escape(d['order_id'])}` to "
                f"<@{d['to_slack_id']}>. Reason: {blocks.escape(d['reason'])}"
            ),
            **NO_UNFURL,
        )
    sc.dm(d["to_slack_id"], note)


def _slash_help() -> str:
    return "\n".join(
        [
            "*/ecm* commands:",
            "• `/ecm triage` · `/ecm dashboard` · `/ecm patterns` · "
            "`/ecm assign ORDER_ID @agent REASON` (managers)",
            "• `/ecm my-tickets` · `/ecm order ORDER_ID` · `/ecm resolve ORDER_ID NOTES` · "
            "`/ecm escalate ORDER_ID REASON` (field agents)",
            "Or DM me: `my tickets`, `order ORDER_ID`, `help`.",
        ]
    )


__all__ = ["register", "help_text"]
