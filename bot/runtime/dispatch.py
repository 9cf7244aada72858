"""Route a message from a roster member to their role's agent: trigger match, role check,
skill run. The CLI's ``chat`` and (later) the Slack app both come through here."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import AccessDenied
from bot.runtime.executor import SkillResult, execute
from bot.runtime.roster import Member, Roster
from bot.skills.registry import Registry
from bot.skills.tools import DEC_011
from bot.stores.factory import Stores


@dataclass
class Reply:
    """A routed answer: either a skill's result or a help text."""

    caller: Member
    result: SkillResult | None = None
    help_text: str | None = None


def help_text(registry: Registry, roles: tuple[str, ...]) -> str:
    """What this caller can ask, per role."""
    lines = []
    for role in roles:
        lines.append(f"As {'a' if role == 'field' else 'an ECM'} {role} you can say:")
        for skill in registry.for_role(role):
            pats = [
                p
                for t in skill.config.triggers
                for p in ((t.command or t.message).patterns if (t.command or t.message) else [])
            ]
            if pats:
                lines.append(f"  • {pats[0]:<40} {skill.config.skill.description}")
    return "\n".join(lines)


def handle_message(
    registry: Registry, stores: Stores, who: str, text: str, trigger: str = "chat"
) -> Reply:
    """Resolve ``who`` (email or Slack ID) on the roster, then route ``text``."""
    caller = Roster.load(stores.workbook).resolve(who)
    return route(registry, stores, caller, text, trigger)


def route(
    registry: Registry, stores: Stores, caller: Member, text: str, trigger: str = "chat"
) -> Reply:
    """Match ``text`` to one of the caller's skills and run it; refuse another role's skill."""
    if text.strip().lower() in ("help", "?", "/help", "ecm help"):
        return Reply(caller, help_text=help_text(registry, caller.roles))
    match = registry.match(text, caller.roles)
    if match is None:
        other = registry.match(text, ("manager", "field"))
        if other is not None:
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
            )
        return Reply(caller, help_text="I didn't catch that.\n" + help_text(registry, caller.roles))
    result = execute(registry, stores, match.skill.name, caller, match.args, trigger=trigger)
    return Reply(caller, result=result)
