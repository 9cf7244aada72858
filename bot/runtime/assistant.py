"""What the runtime asks of a language-model assistant, as an interface it owns: pick one of
the caller's skills for free text, and add language to a skill's structured result.

``bot.agents`` implements it (``bot.agents.assistant.Assistant``); the CLI and the Slack app
build one and pass it in. The runtime never imports ``bot.agents``: the dependency points one
way, agents → runtime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.errors import AssistantUnavailable

if TYPE_CHECKING:
    from bot.runtime.roster import Member
    from bot.runtime.skill_run import SkillContext
    from bot.skills.registry import Registry
    from bot.stores.factory import Stores


__all__ = ["Assistant", "AssistantUnavailable", "Pick"]


@dataclass(frozen=True)
class Pick:
    """The skill free text asks for, its arguments, and the model's own words (if any)."""

    skill: str
    args: dict
    text: str = ""


class Assistant(Protocol):
    def pick(self, registry: Registry, stores: Stores, caller: Member, text: str) -> Pick | None:
        """One of the caller's role's skills for ``text``, or None if none fits; records its
        own run through the executor. Raises AssistantUnavailable when no model answered."""
        ...

    def narrate(self, ctx: SkillContext, data: dict) -> dict:
        """Add ``narrative`` (or an ``assistant_note``) to ``data`` in place, never failing
        the skill; return the model usage for the run's execution record."""
        ...
