"""Route a message from a roster member to their role's agent: trigger match, role check,
skill run. The CLI's ``chat`` and the Slack app both come through here.

Free text that matches no trigger goes to the assistant (``bot.runtime.assistant.Assistant``,
passed in by the caller; None means no model is configured). A write it picks only becomes a
proposal, carried out when its owner confirms it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.clock import now, parse_ts
from bot.errors import AccessDenied, Conflict
from bot.ids import clean_text, new_id
from bot.runtime.assistant import Assistant, AssistantUnavailable
from bot.runtime.executor import SkillResult, execute
from bot.runtime.roster import Member, Roster
from bot.skills.registry import Registry
from bot.skills.tools import DEC_011
from bot.stores.factory import Stores

PROPOSAL_TTL_SECONDS = 15 * 60


@dataclass
class Reply:
    """A routed answer: a skill's result, a help text, or a proposed write to confirm."""

    caller: Member
    result: SkillResult | None = None
    help_text: str | None = None
    proposal: dict | None = None


EXAMPLES = {
    "order_id": "AE136ABC00",
    "agent": "@james.ops",
    "notes": "replayed the webhook, LULU confirmed",
    "reason": "partner says the beneficiary bank is down",
    "duration": "2h",
    "note": "waiting on LULU confirmation",
    "until": "tomorrow",
}
"""What help shows in place of a trigger's placeholders (``{order_id}``), so every line is
something a person could type."""
HELP = ("help", "?", "/help", "ecm help")
PEOPLE = {"manager": "ECM managers", "field": "ECM field agents"}
ONE = {"manager": "an ECM manager", "field": "an ECM field agent"}


def example(skill) -> str:
    """The skill's first trigger phrase a person would type, placeholders filled in."""
    pats = [p for t in skill.config.triggers for p in t.text_patterns if not p.startswith("@")]
    if not pats:
        return ""
    return re.sub(r"\{(\w+)(?:\.\.\.)?\}", lambda m: EXAMPLES.get(m.group(1), m.group(1)), pats[0])


def help_text(registry: Registry, roles: tuple[str, ...]) -> str:
    """What this caller can say, for their own roles only, one example a line."""
    lines = []
    for role in roles:
        lines.append(f"As {ONE.get(role, role)} you can say:")
        for skill in registry.for_role(role):
            said = example(skill)
            if said:
                what = skill.config.skill.help or skill.config.skill.description
                lines.append(f"• `{said}` — {what}")
    return "\n".join(lines)


def instead(registry: Registry, roles: tuple[str, ...]) -> str:
    """A thing the caller can say instead: their role's App Home skill's example."""
    for role in roles:
        skill = registry.home(role)
        if skill is not None and example(skill):
            return f"You can say `{example(skill)}`, or `help` for the rest."
    return "Say `help` to see what you can ask."


def refusal(registry: Registry, roles: tuple[str, ...], skill) -> str:
    """Another role's skill refused in plain words: no skill names or rule ids."""
    title = skill.config.skill.title or "That"
    return f"{title} is for {PEOPLE.get(skill.role, skill.role)}. {instead(registry, roles)}"


def check_role(registry: Registry, stores: Stores, caller: Member, text: str) -> None:
    """Refuse (AccessDenied, recorded as a denial) text that only another role's skill
    matches; anything else passes (the caller's own skill, help, or free text)."""
    text = clean_text(text)
    if text.strip().lower() in HELP or registry.match(text, caller.roles) is not None:
        return
    other = registry.match(text, ("manager", "field"))
    if other is None:
        return
    roles = "/".join(caller.roles)
    stores.state.record_denial(
        caller=caller.email,
        skill=other.skill.name,
        role=roles,
        resource=f"skill:{other.skill.name}",
        rule=DEC_011,
    )
    raise AccessDenied(
        skill=other.skill.name,
        role=roles,
        resource=f"skill:{other.skill.name}",
        rule=DEC_011,
        message=f"Sorry, {other.skill.name} is a {other.skill.role} skill and you are "
        f"on the ECM roster as {roles}. {DEC_011}",
        hint=refusal(registry, caller.roles, other.skill),
    )


def handle_message(
    registry: Registry,
    stores: Stores,
    who: str,
    text: str,
    trigger: str = "chat",
    assistant=None,  # an Assistant (bot.runtime.assistant) or None
) -> Reply:
    """Resolve ``who`` (email or Slack ID) on the roster, then route ``text``."""
    caller = Roster.load(stores.workbook).resolve(who)
    return route(registry, stores, caller, text, trigger, assistant)


def route(
    registry: Registry,
    stores: Stores,
    caller: Member,
    text: str,
    trigger: str = "chat",
    assistant=None,  # an Assistant (bot.runtime.assistant) or None
) -> Reply:
    """Match ``text`` to one of the caller's skills and run it; refuse another role's skill.
    Hidden control characters (NUL, bidirectional overrides) never get past here."""
    text = clean_text(text)
    if text.strip().lower() in HELP:
        return Reply(caller, help_text=help_text(registry, caller.roles))
    match = registry.match(text, caller.roles)
    if match is None:
        check_role(registry, stores, caller, text)
        if assistant is None:
            return Reply(
                caller, help_text="I didn't catch that.\n" + help_text(registry, caller.roles)
            )
        return free_text(registry, stores, caller, text, trigger, assistant)
    result = execute(
        registry, stores, match.skill.name, caller, match.args, trigger=trigger, assistant=assistant
    )
    return Reply(caller, result=result)


def free_text(
    registry: Registry,
    stores: Stores,
    caller: Member,
    text: str,
    trigger: str,
    assistant: Assistant,
) -> Reply:
    """Let the model pick one of the caller's skills; a write becomes a proposal to confirm."""
    try:
        pick = assistant.pick(registry, stores, caller, text)
    except AssistantUnavailable as exc:
        return Reply(caller, help_text=f"{exc}\n" + help_text(registry, caller.roles))
    if pick is None:
        return Reply(
            caller,
            help_text="I'm not sure which of your tasks that is.\n"
            + help_text(registry, caller.roles),
        )
    picked = registry.get(pick.skill)
    if picked.config.confirm is not None:  # a write: proposed, carried out once confirmed
        proposal_id = new_id()
        stores.state.save_proposal(proposal_id, caller.email, pick.skill, pick.args)
        return Reply(
            caller,
            proposal={
                "id": proposal_id,
                "skill": pick.skill,
                "args": pick.args,
                "summary": describe(picked.config.confirm.proposal, pick.args),
            },
        )
    result = execute(
        registry, stores, pick.skill, caller, pick.args, trigger=trigger, assistant=assistant
    )
    return Reply(caller, result=result)


class _Shown(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def describe(proposal: str, args: dict) -> str:
    """A one-line description of a proposed write, for the confirmation prompt: the skill's
    ``confirm.proposal`` template filled with the arguments (``?`` for a missing one)."""
    return proposal.format_map(_Shown(args))


def confirm(
    registry: Registry,
    stores: Stores,
    caller: Member,
    proposal_id: str,
    trigger: str = "confirmed",
    assistant=None,  # an Assistant (bot.runtime.assistant) or None
) -> Reply:
    """Carry out a proposal the caller confirmed (once; within 15 minutes)."""
    taken = stores.state.take_proposal(proposal_id, caller.email)
    if taken is None:
        raise Conflict("That proposed action was already handled, or it isn't yours.")
    age = (now() - parse_ts(taken["created_at"])).total_seconds()
    if age > PROPOSAL_TTL_SECONDS:
        raise Conflict("That proposal has expired; please ask again.")
    result = execute(
        registry,
        stores,
        taken["skill"],
        caller,
        taken["args"],
        trigger=trigger,
        assistant=assistant,
    )
    return Reply(caller, result=result)
