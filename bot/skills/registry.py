"""The skill registry: every skill folder, looked up by role, by search, by trigger, or by the
bot control its config's ``surfaces`` section claims (router, App Home, CLI, Slack)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from bot.errors import NotFound, SkillConfigError
from bot.paths import ROLES, SKILLS_DIR
from bot.skills.loader import CONFIG_FILE, Skill, load_skill
from bot.skills.triggers import literal_length, match_pattern


@dataclass(frozen=True)
class TriggerMatch:
    """A message matched to a skill, with the arguments its pattern captured."""

    skill: Skill
    pattern: str
    args: dict[str, str]


class Registry:
    """All skills under a skills directory, loaded strictly at construction."""

    def __init__(self, skills: list[Skill]):
        self._skills = {s.name: s for s in sorted(skills, key=lambda s: (s.role, s.name))}
        self._surfaces: dict[tuple[str, str], Skill] = {}
        for skill in self:
            surfaces = skill.config.surfaces
            claims = [(kind, skill.role) for kind in ("router", "home") if getattr(surfaces, kind)]
            claims += [("cli", n) for n in surfaces.cli] + [("slack", n) for n in surfaces.slack]
            for kind, key in claims:
                other = self._surfaces.setdefault((kind, key), skill)
                if other is not skill:
                    raise SkillConfigError(
                        skill.folder / CONFIG_FILE,
                        f"surfaces.{kind}: '{key}' is already claimed by skill '{other.name}'",
                    )

    @classmethod
    def load(cls, skills_dir: Path = SKILLS_DIR) -> Registry:
        """Load every ``skills/<role>/<skill>/`` folder; fail on the first invalid one."""
        skills: list[Skill] = []
        seen: dict[str, Path] = {}
        for role_dir in sorted(p for p in Path(skills_dir).iterdir() if p.is_dir()):
            if role_dir.name not in ROLES:
                raise SkillConfigError(role_dir, f"unknown role folder; expected one of {ROLES}")
            for folder in sorted(p for p in role_dir.iterdir() if p.is_dir()):
                skill = load_skill(folder)
                if skill.name in seen:
                    raise SkillConfigError(folder, f"skill name also used by {seen[skill.name]}")
                seen[skill.name] = folder
                skills.append(skill)
        return cls(skills)

    def __iter__(self):
        return iter(self._skills.values())

    def __len__(self) -> int:
        return len(self._skills)

    def get(self, name: str) -> Skill:
        try:
            return self._skills[name]
        except KeyError:
            raise NotFound(f"No skill named '{name}'. Try `ecm-bot skills list`.") from None

    def _surface(self, kind: str, key: str, what: str) -> Skill:
        try:
            return self._surfaces[(kind, key)]
        except KeyError:
            raise NotFound(f"No skill's config claims {what} (surfaces.{kind}).") from None

    def router(self, role: str) -> Skill:
        """The skill whose model block and budget the role's free-text router uses."""
        return self._surface("router", role, f"the {role} router")

    def home(self, role: str) -> Skill | None:
        """The skill whose result App Home shows for the role (None: nothing)."""
        return self._surfaces.get(("home", role))

    def for_cli(self, name: str) -> Skill:
        """The skill behind the ``ecm-bot <name>`` shortcut."""
        return self._surface("cli", name, f"the CLI shortcut '{name}'")

    def for_slack(self, name: str) -> Skill:
        """The skill behind a Slack ``action_id`` or view ``callback_id``."""
        return self._surface("slack", name, f"the Slack action or view '{name}'")

    def for_role(self, role: str, domain: str | None = None) -> list[Skill]:
        """The skills of one role (and domain), in name order."""
        return [s for s in self if s.role == role and (domain is None or s.domain == domain)]

    def search(self, text: str, role: str | None = None, limit: int = 5) -> list[Skill]:
        """Rank skills by how well ``text`` matches their name, trigger patterns and description."""
        terms = [t for t in re.findall(r"[a-z0-9]+", text.lower()) if len(t) > 1]
        scored = []
        for skill in self:
            if role and skill.role != role:
                continue
            name = skill.name.replace("-", " ")
            patterns = " ".join(p for t in skill.config.triggers for p in _patterns(t)).lower()
            desc = skill.description.lower()
            score = sum(3 * (t in name) + 2 * (t in patterns) + desc.count(t) * 0.5 for t in terms)
            if score:
                scored.append((-score, skill.name, skill))
        return [s for _, _, s in sorted(scored)[:limit]]

    def match(self, message: str, roles: list[str] | tuple[str, ...]) -> TriggerMatch | None:
        """The most specific command/message trigger of the given roles matching ``message``."""
        best: tuple[int, TriggerMatch] | None = None
        for skill in self:
            if skill.role not in roles:
                continue
            for trigger in skill.config.triggers:
                for pattern in _patterns(trigger):
                    args = match_pattern(pattern, message)
                    if args is None:
                        continue
                    rank = literal_length(pattern)
                    if best is None or rank > best[0]:
                        best = (rank, TriggerMatch(skill, pattern, args))
        return best[1] if best else None


def _patterns(trigger) -> list[str]:
    if trigger.command:
        return trigger.command.patterns
    if trigger.message:
        return trigger.message.patterns
    return []


@functools.lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The project's skills (``SKILLS_DIR``), loaded once."""
    return Registry.load()
