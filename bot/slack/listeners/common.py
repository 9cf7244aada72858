"""What the Slack listeners share: the error boundary, redelivery keys, refusals and where a
button's answer goes. Results reach people through bot.slack.delivery only."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from hashlib import sha256

from bot.errors import AccessDenied, EcmError
from bot.ids import new_id
from bot.runtime.dispatch import help_text, instead
from bot.runtime.roster import Member
from bot.skills.registry import Registry
from bot.skills.tools import DEC_011
from bot.slack.app_state import SlackContext
from bot.slack.blocks.kit import escape
from bot.slack.delivery import ReplyTarget, say

log = logging.getLogger("bot.slack.listeners")
TRIGGER = "slack"
WORKING = "hourglass_flowing_sand"


def safely(reply: Callable[[str], object], work: Callable[[], object]) -> None:
    """Run ``work``; turn a refusal into its message and a crash into an apology with a ref."""
    try:
        work()
    except EcmError as exc:  # a refusal in plain words when it has them
        reply(f"🙅 {escape(getattr(exc, 'hint', None) or str(exc))}")
    except Exception:
        ref = new_id()
        log.exception("slack handler failed (ref %s)", ref)
        reply(
            f"😞 Sorry, something went wrong on my side (ref `{ref}`). "
            "The details are in the bot's log; please try again or tell the ECM team."
        )


def dedupe_key(body: dict, raw: str = "") -> str | None:
    """The id of a delivery that Slack may send again, or a replay of it: an event's id, a
    slash command's trigger_id (else a hash of its signed body ``raw``), a button's action
    ts, a view's id and hash."""
    kind = body.get("type")
    if kind == "event_callback":
        return f"event:{body.get('event_id')}"
    if body.get("command"):
        trigger = body.get("trigger_id")
        return f"command:{trigger}" if trigger else f"command:{sha256(raw.encode()).hexdigest()}"
    if kind == "block_actions" and body.get("actions"):
        user = (body.get("user") or {}).get("id")
        return f"action:{user}:{body['actions'][0].get('action_ts')}"
    if kind == "view_submission":
        view = body.get("view") or {}
        return f"view:{view.get('id')}:{view.get('hash')}"
    return None


def action_channel(body) -> str:
    """The conversation a button was clicked in (the clicker's own ID when there is none)."""
    return (body.get("channel") or {}).get("id") or body["user"]["id"]


def ephemeral_target(body) -> ReplyTarget:
    """An answer only the clicker sees, where they clicked."""
    return ReplyTarget.ephemeral(action_channel(body), body["user"]["id"])


def ephemeral(sc: SlackContext, body) -> Callable[[str], object]:
    return say(sc, ephemeral_target(body))


def require_manager(sc: SlackContext, caller: Member, what: str, control: str) -> None:
    """Refuse a non-manager; the denial names the skill whose config claims the Slack
    ``control`` (an action_id or view callback_id)."""
    if "manager" not in caller.roles:
        skill = sc.registry.for_slack(control).name
        sc.stores().state.record_denial(
            caller=caller.email,
            skill=skill,
            role="/".join(caller.roles),
            resource="slack:override",
            rule=DEC_011,
        )
        raise AccessDenied(
            skill=skill,
            role="/".join(caller.roles),
            resource="slack:override",
            rule=DEC_011,
            message=f"Only ECM managers can {what}; you are on the roster as "
            f"{'/'.join(caller.roles)}.",
            hint=f"Only ECM managers can {what}. {instead(sc.registry, caller.roles)}",
        )


def view_meta(view: dict) -> dict:
    """A modal's private_metadata: the JSON object the bot wrote, or {} (one log line) when
    it came back as something else."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except (TypeError, ValueError):
        meta = None
    if not isinstance(meta, dict):
        log.warning("view %s came back with private_metadata the bot did not write", view.get("id"))
        return {}
    return meta


def view_order_id(view: dict) -> str:
    return str(view_meta(view).get("order_id") or "")


def view_input(view: dict, block: str, action: str = "", key: str = "value") -> object:
    """What was entered in a modal's input ``block`` (element ``action``, by default named
    as the block), or None when the view has no such state."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    entered = values.get(block) if isinstance(values, dict) else None
    element = entered.get(action or block) if isinstance(entered, dict) else None
    return element.get(key) if isinstance(element, dict) else None


def slash_help(registry: Registry, roles: tuple[str, ...]) -> str:
    """/ecm help: what the caller's roles can say, as /ecm commands."""
    return (
        help_text(registry, roles).replace("• `", "• `/ecm ")
        + "\nOr say the same to me in a DM, without `/ecm`."
    )
