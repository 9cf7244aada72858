"""Skills as data: folders with SKILL.md and aspora.config.yaml, loaded strictly into a registry."""

from bot.skills.loader import Skill, load_skill
from bot.skills.registry import Registry, TriggerMatch

__all__ = ["Registry", "Skill", "TriggerMatch", "load_skill"]
