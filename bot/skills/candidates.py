"""A skill's candidate version: a ``canary/`` folder inside the skill folder.

Its ``aspora.config.yaml`` names only what differs from the live config (``skill.version``
and ``canary`` are required); it is merged over the live config, key by key (a list
replaces a list), and the result passes the same strict schema. It may also hold its own
``SKILL.md`` (else the live one is used) and the files its ``canary.replaces`` names (its own
copy of a shared file, e.g. ``shared/config/scoring.yaml``).

It can never widen what its live version may do: it may not change the skill's name, role,
domain, triggers, output or surfaces (one write path, one delivery); its tools and systems
are a subset of the live ones, its shared resources a subset and its blocked resources a
superset. At run time ``bot.access.candidate.CandidateGuard`` asks both versions' rules."""

from __future__ import annotations

import posixpath
from pathlib import Path

from bot.errors import SkillConfigError
from bot.skills.loader import (
    CONFIG_FILE,
    SKILL_FILE,
    Skill,
    check_frontmatter,
    check_tools,
    raw_config,
    split_frontmatter,
    validated_config,
)

CANARY_DIR = "canary"
FIXED_SECTIONS = ("triggers", "output", "surfaces")
"""Sections a candidate may not change: it is started by, and delivers like, its live version."""
FIXED_SKILL_FIELDS = ("name", "role", "domain")


def merged(base: object, overlay: object) -> object:
    """``overlay`` over ``base``: mappings merged key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = merged(base.get(key), value) if key in base else value
        return out
    return overlay


def load_candidate(live: Skill, source: Path) -> Skill:
    """Load the candidate in ``source`` beside ``live``; SkillConfigError naming its file."""
    source = Path(source)
    path = source / CONFIG_FILE
    overlay = raw_config(path)
    if not isinstance(overlay, dict):
        raise SkillConfigError(path, "must be a mapping of the config sections that differ")
    _check_overlay(path, overlay, live)
    base = raw_config(live.folder / CONFIG_FILE)
    config = validated_config(path, merged(base, overlay))
    if config.canary is None:
        raise SkillConfigError(path, "field 'canary': field is required but missing")
    if config.skill.version == live.version:
        raise SkillConfigError(
            path, f"field 'skill.version': '{config.skill.version}' is the live version's too"
        )
    check_tools(path, config)
    _check_not_wider(path, config, live)
    _check_strategy(path, config, live)
    _check_replaces(path, config.canary.replaces, source)
    description, body = live.description, live.body
    skill_md = source / SKILL_FILE
    if skill_md.is_file():
        meta, body = split_frontmatter(skill_md)
        check_frontmatter(skill_md, meta, live.name)
        description = meta["description"].strip()
    return Skill(
        name=live.name,
        role=live.role,
        folder=live.folder,
        description=description,
        body=body,
        config=config,
        track="candidate",
        source=source,
    )


def _check_overlay(path: Path, overlay: dict, live: Skill) -> None:
    for section in FIXED_SECTIONS:
        if section in overlay:
            raise SkillConfigError(
                path, f"field '{section}': a candidate runs and delivers like its live version"
            )
    skill = overlay.get("skill")
    if not isinstance(skill, dict) or "version" not in skill:
        raise SkillConfigError(path, "field 'skill.version': field is required but missing")
    for key in FIXED_SKILL_FIELDS:
        if key in skill and skill[key] != getattr(live.config.skill, key):
            raise SkillConfigError(
                path,
                f"field 'skill.{key}': a candidate keeps its live version's "
                f"'{getattr(live.config.skill, key)}'",
            )


def _norm(patterns: list[str]) -> set[str]:
    return {posixpath.normpath(p) + ("/" if p.endswith("/") else "") for p in patterns}


def _check_not_wider(path: Path, config, live: Skill) -> None:
    mine, theirs = config.permissions, live.config.permissions
    checks = (
        ("tools", set(mine.tools) - set(theirs.tools)),
        ("apis", set(mine.apis) - set(theirs.apis)),
        ("shared_resources", _norm(mine.shared_resources) - _norm(theirs.shared_resources)),
    )
    for field, extra in checks:
        if extra:
            raise SkillConfigError(
                path,
                f"field 'permissions.{field}': '{sorted(extra)[0]}' is not granted to the live "
                "version; a candidate may only narrow what its live version may use",
            )
    dropped = _norm(theirs.blocked_resources) - _norm(mine.blocked_resources)
    if dropped:
        raise SkillConfigError(
            path,
            f"field 'permissions.blocked_resources': '{sorted(dropped)[0]}' is blocked for the "
            "live version; a candidate keeps every block",
        )


def _check_strategy(path: Path, config, live: Skill) -> None:
    assert config.canary is not None
    kinds = {t.kind for t in live.config.triggers}
    if config.canary.strategy == "shadow" and not kinds & {"cron", "command"}:
        raise SkillConfigError(
            path, "field 'canary.strategy': shadow is for cron and command skills"
        )
    if config.canary.strategy == "split" and (
        live.role != "field" or not kinds & {"command", "message"}
    ):
        raise SkillConfigError(
            path, "field 'canary.strategy': split is for interactive field skills"
        )


def _check_replaces(path: Path, replaces: dict[str, str], source: Path) -> None:
    for shared, own in replaces.items():
        where = f"field 'canary.replaces.{shared}'"
        clean = posixpath.normpath(shared)
        if clean != shared or shared.startswith(("/", "..")) or not shared.startswith("shared/"):
            raise SkillConfigError(path, f"{where}: give a path under shared/, e.g. shared/config/")
        target = (source / own).resolve()
        if source.resolve() not in target.parents or not target.is_file():
            raise SkillConfigError(
                path, f"{where}: '{own}' must be a file in the candidate's folder"
            )
