"""Build an agent's context for one request, in order: guardrails, the role's charter, the
role's skill catalog, the activated SKILL.md, then only the resources the request needs.
Every file is read through the guard of the activated skill."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.access.guard import Guard
from bot.briefing.needs import request_files
from bot.briefing.tokens import estimate_tokens
from bot.errors import InputError
from bot.paths import CONFIG_DIR, GUARDRAILS_FILE, QUERIES_DIR, RUNBOOKS_DIR, SKILLS_DIR
from bot.resources import load_yaml
from bot.skills.registry import Registry

REASON_RE = re.compile(r"^[A-Z][A-Z0-9_]{2,63}$")


@dataclass(frozen=True)
class ContextPart:
    """One labelled piece of context and its estimated token count."""

    label: str
    text: str

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)


def catalog_text(registry: Registry, role: str) -> str:
    """The name and description of every skill of ``role`` (nothing of the other role)."""
    return "\n".join(f"- {s.name}: {s.config.skill.description}" for s in registry.for_role(role))


def reason_entry(guard: Guard, path: Path, reason: str) -> str:
    """One reason's entry of a per-reason YAML file, checked by the guard and parsed once
    per change of the file (the same cache the running skills use)."""
    data = load_yaml(guard.check_resource(path))
    entry = (data.get("reasons") or {}).get(reason)
    if entry is None:
        raise InputError(f"Unknown stuck reason '{reason}'.")
    return yaml.safe_dump({reason: entry}, sort_keys=False, allow_unicode=True)


def build_context(
    registry: Registry, skill_name: str, guard: Guard, reason: str | None = None
) -> list[ContextPart]:
    """The parts an agent of the skill's role gets for one request of ``skill_name``."""
    skill = registry.get(skill_name)
    if reason is not None and not REASON_RE.match(reason):
        raise InputError(f"'{reason}' is not a stuck-reason code (like LULU_NOT_CONFIRMED).")
    parts = [
        ContextPart("guardrails", guard.read_text(GUARDRAILS_FILE)),
        ContextPart(
            f"{skill.role} charter", guard.read_text(SKILLS_DIR / skill.role / "CHARTER.md")
        ),
        ContextPart(f"{skill.role} skill catalog", catalog_text(registry, skill.role)),
        ContextPart(f"SKILL.md of {skill.name}", guard.read_text(skill.skill_md)),
    ]
    whole, per_reason = request_files(skill, reason)
    # Per-reason entries first, so an unknown reason is an InputError, not a missing runbook.
    entries = [
        ContextPart(f"{_label(path)} [{reason}]", reason_entry(guard, path, reason))
        for path in per_reason
        if reason  # always true: there are per-reason files only for a reason
    ]
    for path in whole:
        parts.append(ContextPart(_label(path), guard.read_text(path)))
    return parts + entries


def monolith_parts(registry: Registry) -> list[ContextPart]:
    """Everything at once: all skills, runbooks, queries, config, charters and guardrails.
    This is the baseline the role split is measured against; it bypasses the guard on purpose
    and is never given to an agent."""
    files = [GUARDRAILS_FILE]
    files += sorted(SKILLS_DIR.glob("*/CHARTER.md"))
    files += [s.skill_md for s in registry]
    files += sorted(RUNBOOKS_DIR.glob("*.md"))
    files += sorted(QUERIES_DIR.glob("*.sql"))
    files += sorted(CONFIG_DIR.glob("*.yaml"))
    return [ContextPart(_label(f), f.read_text(encoding="utf-8")) for f in files]


def _label(path: Path) -> str:
    parts = Path(path).parts
    return "/".join(parts[-2:])
