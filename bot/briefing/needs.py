"""Which shared resources one request of a skill needs (progressive disclosure), as its
``context`` section in aspora.config.yaml says: whole files by path, files of which only the
request's stuck-reason entry is given, and the order's runbook where ``runbook: true``."""

from __future__ import annotations

from pathlib import Path

from bot.paths import PROJECT_ROOT, RUNBOOKS_DIR
from bot.skills.loader import Skill


def request_files(skill: Skill, reason: str | None) -> tuple[list[Path], list[Path]]:
    """(whole files, per-reason yaml files) for one request of ``skill``."""
    needs = skill.config.context
    whole = [PROJECT_ROOT / p for p in needs.files]
    if needs.runbook and reason:
        whole.append(RUNBOOKS_DIR / f"{reason}.md")
    return whole, [PROJECT_ROOT / p for p in needs.per_reason] if reason else []
