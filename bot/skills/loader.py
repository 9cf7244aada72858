"""Load one skill folder strictly: SKILL.md frontmatter and body, plus aspora.config.yaml."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.errors import SkillConfigError
from bot.skills.schema import NAME_RE, SkillConfig
from bot.skills.tools import ALL_TOOLS, DEC_011, forbidden_for
from bot.yaml_safe import parse_yaml

SKILL_FILE = "SKILL.md"
CONFIG_FILE = "aspora.config.yaml"
FRONTMATTER_KEYS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}


@dataclass(frozen=True)
class Skill:
    """A loaded skill: where it lives, what it says, and how it may run."""

    name: str
    role: str
    folder: Path
    description: str
    body: str
    config: SkillConfig

    @property
    def domain(self) -> str:
        return self.config.skill.domain

    @property
    def version(self) -> str:
        return self.config.skill.version

    track: str = "live"
    """``live``, or ``candidate`` for the version in its ``canary/`` folder."""
    candidate: Skill | None = None
    """The candidate version beside this live one (``bot/skills/candidates.py``), if any."""
    source: Path | None = None
    """A candidate's own folder (its config, SKILL.md and replacement files); its ``folder``
    is its live version's, so its access rules are read from the same place."""

    @property
    def skill_md(self) -> Path:
        return (self.source or self.folder) / SKILL_FILE


def split_frontmatter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        raise SkillConfigError(path, "missing YAML frontmatter (the file must start with ---)")
    parts = text.split("---", 2)
    if len(parts) < 3:
        raise SkillConfigError(path, "unterminated YAML frontmatter (no closing ---)")
    try:
        meta = parse_yaml(parts[1])
    except yaml.YAMLError as exc:
        raise SkillConfigError(path, f"frontmatter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise SkillConfigError(path, "frontmatter must be a mapping of keys to values")
    return meta, parts[2].strip()


def check_frontmatter(path: Path, meta: dict, folder_name: str) -> None:
    unknown = sorted(set(meta) - FRONTMATTER_KEYS)
    if unknown:
        raise SkillConfigError(path, f"field '{unknown[0]}' is not allowed in SKILL.md frontmatter")
    name, description = meta.get("name"), meta.get("description")
    if not isinstance(name, str) or not name:
        raise SkillConfigError(path, "field 'name' is required and must be a string")
    if len(name) > 64 or not NAME_RE.match(name):
        raise SkillConfigError(
            path, "field 'name' must be lowercase letters, digits and single hyphens (max 64)"
        )
    if name != folder_name:
        raise SkillConfigError(path, f"field 'name' is '{name}' but the folder is '{folder_name}'")
    if not isinstance(description, str) or not description.strip():
        raise SkillConfigError(path, "field 'description' is required and must be a string")
    if len(description) > 1024:
        raise SkillConfigError(path, "field 'description' is longer than 1024 characters")
    metadata = meta.get("metadata", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise SkillConfigError(path, "field 'metadata' must map strings to strings")


def raw_config(path: Path) -> object:
    """The parsed YAML of a config file (SkillConfigError when missing or not YAML)."""
    return _parsed(path, _config_text(path))


def _config_text(path: Path) -> str:
    if not path.is_file():
        raise SkillConfigError(path, "file is missing")
    return path.read_text(encoding="utf-8")


def _parsed(path: Path, text: str) -> object:
    try:
        return parse_yaml(text)
    except yaml.YAMLError as exc:
        raise SkillConfigError(path, f"not valid YAML: {exc}") from exc


def _load_config(path: Path) -> SkillConfig:
    return _checked_config(path, _config_text(path))


@lru_cache(maxsize=512)
def _checked_config(path: Path, text: str) -> SkillConfig:
    """The validated config for this exact text: a SkillConfig is frozen, so the same file
    read again (each CLI command, metrics scrape and doctor run loads the registry) reuses
    it instead of parsing its YAML afresh, 80% of a registry load. Errors are not kept."""
    return validated_config(path, _parsed(path, text))


def validated_config(path: Path, raw: object) -> SkillConfig:
    """``raw`` checked against the strict schema; one error naming ``path`` and the field."""
    try:
        return SkillConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        msg = first["msg"]
        if first["type"] == "missing":
            msg = "field is required but missing"
        elif first["type"] == "extra_forbidden":
            msg = "unknown field"
        raise SkillConfigError(path, f"field '{field}': {msg}{more}") from None


def load_skill(folder: Path) -> Skill:
    """Load and check a skill folder; raise SkillConfigError naming the file and field."""
    folder = Path(folder)
    role_folder = folder.parent.name
    skill_md = folder / SKILL_FILE
    if not skill_md.is_file():
        raise SkillConfigError(skill_md, "file is missing")
    meta, body = split_frontmatter(skill_md)
    check_frontmatter(skill_md, meta, folder.name)
    config_path = folder / CONFIG_FILE
    config = _load_config(config_path)
    if config.skill.name != folder.name:
        raise SkillConfigError(
            config_path,
            f"field 'skill.name' is '{config.skill.name}' but the folder is '{folder.name}'",
        )
    if config.skill.role != role_folder:
        raise SkillConfigError(
            config_path,
            f"field 'skill.role' is '{config.skill.role}' but the skill lives in "
            f"skills/{role_folder}/",
        )
    if config.canary is not None:
        raise SkillConfigError(
            config_path,
            "field 'canary': only a candidate's config (canary/aspora.config.yaml) has one",
        )
    check_tools(config_path, config)
    skill = Skill(
        name=folder.name,
        role=config.skill.role,
        folder=folder,
        description=meta["description"].strip(),
        body=body,
        config=config,
    )
    from bot.skills.candidates import CANARY_DIR, load_candidate

    if (folder / CANARY_DIR).is_dir():
        return replace(skill, candidate=load_candidate(skill, folder / CANARY_DIR))
    return skill


def check_tools(config_path: Path, config: SkillConfig) -> None:
    """Every tool is known and allowed for the skill's role (DEC-011)."""
    for tool in config.permissions.tools:
        if tool not in ALL_TOOLS:
            raise SkillConfigError(config_path, f"field 'permissions.tools': unknown tool '{tool}'")
        if tool in forbidden_for(config.skill.role):
            raise SkillConfigError(
                config_path,
                f"field 'permissions.tools': a {config.skill.role} skill may not have '{tool}' "
                f"— {DEC_011}",
            )
