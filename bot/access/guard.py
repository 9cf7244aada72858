"""The guard: decides every load of a skill file, query, runbook, config or guardrail, and
every tool call, for one running skill. Refusals raise AccessDenied and are written to the
denial log.

Order of checks for a resource:
1. normalise the path (URL-decoding, backslashes, ``..``, symlinks, absolute paths) and refuse
   anything outside the project;
2. the hard DEC-011 rules, which no config can loosen;
3. the skill's blocked_resources (deny wins);
4. always allowed: the skill's own folder, its role's CHARTER.md and shared/guardrails.md;
5. the skill's shared_resources allow-list; anything else is refused.
"""

from __future__ import annotations

import functools
import os
import posixpath
from pathlib import Path
from typing import NoReturn, Protocol, cast
from urllib.parse import unquote

from wcmatch import glob

from bot.errors import AccessDenied
from bot.paths import PROJECT_ROOT
from bot.skills.loader import Skill
from bot.skills.tools import DEC_011, forbidden_for

_GLOB_FLAGS = glob.GLOBSTAR | glob.DOTGLOB


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> glob.WcMatcher:
    """A glob pattern compiled once per process (matching it is then ~5× cheaper)."""
    return glob.compile(pattern, flags=_GLOB_FLAGS)


def _globmatch(path: str, pattern: str) -> bool:
    return _compiled(pattern).match(path)


# DEC-011 as path rules: (role, pattern relative to the project root, why)
HARD_RULES: tuple[tuple[str, str, str], ...] = (
    ("manager", "shared/runbooks/**", f"{DEC_011} Runbooks belong to field skills."),
    ("manager", "skills/field/**", f"{DEC_011} A manager skill never loads a field skill."),
    (
        "field",
        "shared/queries/ecm-pending-list.sql",
        f"{DEC_011} The full pending list is for the manager's triage only.",
    ),
    ("field", "skills/manager/**", f"{DEC_011} A field skill never loads a manager skill."),
)


class DenialSink(Protocol):
    """Where refusals are recorded (the bot-state store implements it)."""

    def record_denial(
        self, *, caller: str, skill: str, role: str, resource: str, rule: str
    ) -> None: ...


class Guard:
    """Access decisions for one skill run on behalf of one caller."""

    def __init__(
        self,
        skill: Skill,
        *,
        caller: str = "system",
        denials: DenialSink | None = None,
        root: Path = PROJECT_ROOT,
    ):
        self.skill = skill
        self.caller = caller
        self.denials = denials
        self.root = Path(os.path.realpath(root))
        self._skill_dir = self._relative(Path(os.path.realpath(skill.folder)))
        self._allowed: dict[str, Path] = {}  # this run's allowed references (not denials)

    # -- resources -------------------------------------------------------------------------
    def check_resource(self, ref: str | Path) -> Path:
        """Return the real path of ``ref`` if this skill may load it; raise AccessDenied if not.
        An allowed reference is decided once per run (a queue asks for the same knowledge
        graph per ticket); every refusal is decided, and recorded, each time."""
        shown = str(ref)
        found = self._allowed.get(shown)
        if found is None:
            found = self._allowed[shown] = self._decide(ref, shown)
        return found

    def _decide(self, ref: str | Path, shown: str) -> Path:
        rel = self._normalise(ref, shown)
        for role, pattern, why in HARD_RULES:
            if role == self.skill.role and _globmatch(rel, pattern):
                self._deny(shown, why)
        for pattern in self.skill.config.permissions.blocked_resources:
            if self._matches(rel, pattern):
                self._deny(shown, f"it matches blocked_resources '{pattern}' in the skill config")
        if self._always_allowed(rel):
            return self.root / rel
        for pattern in self.skill.config.permissions.shared_resources:
            if self._matches(rel, pattern):
                return self.root / rel
        self._deny(shown, "it is not in the skill's shared_resources allow-list")
        raise AssertionError("unreachable")

    def read_text(self, ref: str | Path) -> str:
        """Check ``ref`` and return its text."""
        path = self.check_resource(ref)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise AccessDenied(
                skill=self.skill.name,
                role=self.skill.role,
                resource=str(ref),
                rule="the file does not exist",
            ) from None

    # -- tools and apis --------------------------------------------------------------------
    def check_tool(self, tool: str) -> None:
        """Refuse a tool outside the role (DEC-011) or not granted in permissions.tools."""
        if tool in forbidden_for(self.skill.role):
            self._deny(f"tool:{tool}", DEC_011)
        if tool not in self.skill.config.permissions.tools:
            self._deny(f"tool:{tool}", "the tool is not granted in the skill's permissions.tools")

    def check_api(self, api: str) -> None:
        """Refuse a system (warehouse, workbook, slack, llm) the skill's config does not list."""
        if api not in self.skill.config.permissions.apis:
            self._deny(f"api:{api}", "the system is not listed in the skill's permissions.apis")

    def deny(self, resource: str, rule: str, message: str | None = None) -> NoReturn:
        """Record and raise a refusal decided elsewhere (e.g. by the row rules)."""
        self._deny(resource, rule, message)

    # -- internals -------------------------------------------------------------------------
    def _normalise(self, ref: str | Path, shown: str) -> str:
        text = str(ref)
        if not text or any(ord(c) < 32 for c in text):
            self._deny(shown, "the path is empty or contains control characters")
        for _ in range(3):
            decoded = unquote(text)
            if decoded == text:
                break
            text = decoded
        if "%" in text and unquote(text) != text:
            self._deny(shown, "the path is encoded more than the guard accepts")
        if any(ord(c) < 32 for c in text):
            self._deny(shown, "the path contains control characters")
        text = text.replace("\\", "/")
        if self._skill_dir is None:
            self._deny(shown, "the skill's own folder is outside the project")
        path = Path(text) if os.path.isabs(text) else self.root / self._skill_dir / text
        real = Path(os.path.realpath(path))
        rel = self._relative(real)
        if rel is None:
            self._deny(shown, "it resolves outside the project")
        return rel

    def _relative(self, path: Path) -> str | None:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return None

    def _pattern(self, pattern: str) -> str:
        skill_dir = cast(str, self._skill_dir)  # not None: _normalise refused that already
        joined = posixpath.normpath(posixpath.join(skill_dir, pattern))
        return joined + "/**" if pattern.endswith("/") else joined

    def _matches(self, rel: str, pattern: str) -> bool:
        return _globmatch(rel, self._pattern(pattern))

    def _always_allowed(self, rel: str) -> bool:
        own = (
            f"{self._skill_dir}/**",
            f"skills/{self.skill.role}/CHARTER.md",
            "shared/guardrails.md",
        )
        return any(_globmatch(rel, p) for p in own)

    def _deny(self, resource: str, rule: str, message: str | None = None) -> NoReturn:
        if self.denials is not None:
            self.denials.record_denial(
                caller=self.caller,
                skill=self.skill.name,
                role=self.skill.role,
                resource=resource,
                rule=rule,
            )
        raise AccessDenied(
            skill=self.skill.name,
            role=self.skill.role,
            resource=resource,
            rule=rule,
            message=message,
        )
