"""Slack views built from raw dicts: the override and note modals, and App Home. Limits: at
most MAX_VIEW_BLOCKS blocks, titles of MAX_TITLE characters, private_metadata of MAX_METADATA."""

from __future__ import annotations

from bot.present.model import View
from bot.slack.blocks.kit import (
    MAX_INPUT,
    MAX_METADATA,
    MAX_OPTION_TEXT,
    MAX_OPTION_VALUE,
    MAX_OPTIONS,
    MAX_TITLE,
    MAX_VIEW_BLOCKS,
    actions,
    button,
    context,
    escape,
    header,
    plain,
    section,
)
from bot.slack.blocks.render import SlackIds, fit


def _modal(callback_id: str, title: str, submit: str, blocks: list[dict], metadata: str) -> dict:
    metadata = metadata or ""
    if len(metadata) > MAX_METADATA:
        raise ValueError(f"private_metadata is {len(metadata)} characters; at most {MAX_METADATA}")
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MAX_TITLE),
        "submit": plain(submit, MAX_TITLE),
        "close": plain("Cancel", MAX_TITLE),
        "private_metadata": metadata,
        "blocks": blocks,
    }


def _input(block_id: str, label: str, element: dict) -> dict:
    return {"type": "input", "block_id": block_id, "label": plain(label, 2000), "element": element}


def _text_input(action_id: str, multiline: bool = False, initial: str | None = None) -> dict:
    element: dict = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline}
    if initial:
        element["initial_value"] = initial[:MAX_INPUT]
    return element


def override_modal(
    agents: list[tuple[str, str]], order_id: str | None, private_metadata: str
) -> dict:
    """The manager's reassign form: order id, new agent (from agents as (label, email)), reason.

    Raises ValueError when there is no agent to offer or private_metadata is too long."""
    options = [
        {"text": plain(escape(label), MAX_OPTION_TEXT), "value": str(email)}
        for label, email in agents
        if email and len(str(email)) <= MAX_OPTION_VALUE
    ][:MAX_OPTIONS]
    if not options:
        raise ValueError("no agents to offer in the override form")
    select = {
        "type": "static_select",
        "action_id": "agent",
        "placeholder": plain("Choose an agent", MAX_OPTION_TEXT),
        "options": options,
    }
    blocks = [
        _input("ticket", "Order ID", _text_input("order_id", initial=order_id)),
        _input("agent", "Assign to", select),
        _input("reason", "Reason", _text_input("reason", multiline=True)),
    ]
    return _modal("override_submit", "Override assignment", "Reassign", blocks, private_metadata)


def confirm_override_modal(
    order_id: str, agent: str, warnings: list[str] | tuple[str, ...], private_metadata: str
) -> dict:
    """The step the override form pushes when the agent doesn't fit (outside their
    specializations, over capacity): what is unusual, and Assign anyway (nothing is written
    before it) or Back to the form."""
    listed = "\n".join(f"• {escape(w)}" for w in warnings)
    blocks = [
        section(f"⚠️ Assign `{escape(order_id)}` to {escape(agent)} anyway?"),
        section(listed or "This agent is an unusual owner for this ticket."),
        context(
            "Nothing is changed until you confirm. Re-triage then keeps the ticket with them "
            f"until you say `unpin {escape(order_id)}`."
        ),
    ]
    title, submit = "Confirm assignment", "Assign anyway"
    view = _modal("override_confirm", title, submit, blocks, private_metadata)
    view["close"] = plain("Back", MAX_TITLE)
    return view


def notice_modal(title: str, text: str) -> dict:
    """A modal that only says something (a refusal after a confirmation step); no submit."""
    return {
        "type": "modal",
        "title": plain(title, MAX_TITLE),
        "close": plain("Close", MAX_TITLE),
        "blocks": [section(escape(text))],
    }


_NOTE_KINDS = {
    # kind: (callback_id, title, submit, block/action id, label)
    "resolve": ("resolve_submit", "Resolve ticket", "Resolve", "notes", "Resolution note"),
    "escalate": ("escalate_submit", "Escalate ticket", "Escalate", "reason", "Why escalate?"),
}


def note_modal(kind: str, order_id: str, private_metadata: str, initial: str = "") -> dict:
    """The Resolve or Escalate form for one order: a required multiline note, pre-filled
    with ``initial`` (a runbook's resolution-note template) when given."""
    if kind not in _NOTE_KINDS:
        raise ValueError(f"kind must be one of {sorted(_NOTE_KINDS)}, not {kind!r}")
    callback_id, title, submit, field, label = _NOTE_KINDS[kind]
    blocks = [
        section(f"Order `{escape(order_id)}`"),
        _input(field, label, _text_input(field, multiline=True, initial=initial or None)),
    ]
    return _modal(callback_id, title, submit, blocks, private_metadata)


SNOOZE_DURATION_HINT = "30m, 2h or 1d; at most 7d"


def snooze_modal(order_id: str, private_metadata: str) -> dict:
    """The Snooze form for one order: how long (pre-filled 2h) and a required note saying
    who or what the ticket waits on."""
    duration = _text_input("duration", initial="2h")
    duration["placeholder"] = plain(SNOOZE_DURATION_HINT, 150)
    blocks = [
        section(
            f"Order `{escape(order_id)}` waits, its SLA still running; it comes back to "
            "the top of your queue with a DM when the time is up."
        ),
        _input("duration", f"For how long? ({SNOOZE_DURATION_HINT})", duration),
        _input("note", "Waiting on what?", _text_input("note", multiline=True)),
    ]
    return _modal("snooze_submit", "Snooze ticket", "Snooze", blocks, private_metadata)


AWAY_HINT = "tomorrow, 17:00 or 2026-12-03 09:00"


def away_modal(timezone: str, private_metadata: str = "") -> dict:
    """The Away… form from App Home: until when (in the agent's own time zone); the open
    tickets are handed over when it is submitted."""
    until = _text_input("until")
    until["placeholder"] = plain(AWAY_HINT, 150)
    blocks = [
        section(
            "Until you are back you get no new tickets, and your open ones go to colleagues "
            "who have room (pinned ones stay, the managers decide)."
        ),
        _input("until", f"Away until ({AWAY_HINT}; your time zone, {timezone})", until),
    ]
    return _modal("away_submit", "Going away", "Set away", blocks, private_metadata)


def away_actions(away_until: str) -> dict:
    """App Home's Away… button, or I'm back while the agent is away (until ``away_until``)."""
    if away_until:
        back = "End your away and take new tickets again"
        return actions("home_away", button("I'm back", "home_back", "back", "primary", back))
    label = "Set yourself away until a time and hand your open tickets over"
    return actions("home_away", button("Away…", "home_away", "away", None, label))


FIELD_RESERVE = 12
"""App Home blocks kept for the queue of someone who is both a manager and a field agent."""
MANAGER_MORE = "… {} more breaches: press See all".format
QUEUE_MORE = "… {} more, say `my tickets` in a DM".format
DASHBOARD_HINT = "Say `dashboard` in a DM for the latest numbers."
TAKEABLE_BLOCKS = 12
"""App Home blocks for "Unassigned you can take" (five orders with Take, and its heading)."""
TAKEABLE_MORE = "… {} more: say `what can I take` in a DM".format


def home_view(
    roles: tuple[str, ...],
    queue: View | None,
    dashboard: View | None,
    ids: SlackIds | None = None,
    takeable: View | None = None,
    away_until: str | None = None,
) -> dict:
    """App Home, the one builder of it: for managers their dashboard (``dashboard``, the view
    ``bot.present.home.manager_home`` makes: counts, last triage, Refresh / See all / Run
    triage, the SLA breaches as rows), for field agents their queue and, below it, the
    unassigned orders they can take now (``takeable``), each cut to fit the Home's 100 blocks
    in order, saying how to see the rest; a field agent's Home starts with Away… (or I'm back
    while away, ``away_until`` set) unless ``away_until`` is None. A manager whose dashboard
    could not be built gets a hint and Run triage."""
    blocks: list[dict] = []
    if "manager" in roles:
        room = MAX_VIEW_BLOCKS - (FIELD_RESERVE if "field" in roles else 0)
        shown = fit(dashboard, room, ids, more=MANAGER_MORE) if dashboard else []
        if not shown:
            run = actions("home_manager", button("Run triage", "run_triage", "run", "primary"))
            shown = [header("📊 ECM dashboard"), section(DASHBOARD_HINT), run]
        blocks += shown
    if "field" in roles:
        if blocks:
            blocks.append({"type": "divider"})
        if away_until is not None:
            blocks.append(away_actions(away_until))
        if queue is None:
            blocks.append(section("📋 Say `my tickets` in a DM to see your queue."))
        else:
            offer = fit(takeable, TAKEABLE_BLOCKS, ids, more=TAKEABLE_MORE) if takeable else []
            room = MAX_VIEW_BLOCKS - len(blocks) - (len(offer) + 1 if offer else 0)
            blocks += fit(queue, room, ids, more=QUEUE_MORE)
            blocks += [{"type": "divider"}, *offer] if offer else []
    if not blocks:
        blocks.append(section("You're not on the ECM roster yet — ask an ECM manager."))
    return {"type": "home", "blocks": blocks}


LIST_CALLBACK = "unowned_list"


def list_modal(title: str, view: View, ids: SlackIds | None, private_metadata: str) -> dict:
    """A read-only modal showing ``view`` (a page of a list, with its buttons and paging),
    cut to the modal's 100 blocks; ``private_metadata`` says which page it shows."""
    blocks = fit(view, MAX_VIEW_BLOCKS, ids, more="… {} more: use Next".format)
    view_ = _modal(
        LIST_CALLBACK, title, "", blocks or [section("Nothing to show.")], private_metadata
    )
    del view_["submit"]
    view_["close"] = plain("Close", MAX_TITLE)
    return view_
