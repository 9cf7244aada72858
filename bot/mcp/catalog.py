"""Which skills the MCP server offers as tools, per role: ``shared/config/mcp-tools.yaml``,
read strictly and checked against the registry (every skill known, a skill that writes
marked as a write). No module names a skill: the file does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import InputError, NotFound, SkillConfigError
from bot.paths import CONFIG_DIR
from bot.resources import load_yaml
from bot.skills.registry import Registry

TOOLS_FILE = CONFIG_DIR / "mcp-tools.yaml"
NAME = r"^[a-z][a-z0-9_]{0,63}$"
MAX_TEXT = 4000  # longer than any note or reason a skill accepts; the skill checks its own
JSON_TYPES = {"string": str, "integer": int, "boolean": bool}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Arg(_Strict):
    type: Literal["string", "integer", "boolean"]
    description: str = Field(min_length=1, max_length=300)
    required: bool = False
    minimum: int | None = None


class ToolEntry(_Strict):
    skill: str = Field(min_length=1)
    write: bool
    description: str = Field(default="", max_length=600)
    args: dict[str, Arg] = Field(default_factory=dict)
    fixed: dict[str, bool | int | str] = Field(default_factory=dict)


class ToolsFile(_Strict):
    tools: dict[str, ToolEntry] = Field(min_length=1)


@dataclass(frozen=True)
class McpTool:
    """One tool: the skill it runs, its role, whether it writes, and its JSON schema."""

    name: str
    skill: str
    role: str
    write: bool
    description: str
    args: dict[str, Arg]
    fixed: dict[str, Any]

    @property
    def input_schema(self) -> dict:
        props: dict[str, dict] = {}
        for key, arg in self.args.items():
            prop: dict[str, Any] = {"type": arg.type, "description": arg.description}
            if arg.type == "string":
                prop["maxLength"] = MAX_TEXT
            if arg.minimum is not None:
                prop["minimum"] = arg.minimum
            props[key] = prop
        required = [k for k, a in self.args.items() if a.required]
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        return schema

    def arguments(self, given: dict | None) -> dict:
        """The skill's arguments: the caller's, checked against the schema, and the fixed
        ones (InputError names the first problem)."""
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.args))
        if unknown:
            known = ", ".join(self.args) or "none"
            raise InputError(
                f"{self.name} takes no argument {unknown[0]!r} (its arguments: {known})."
            )
        for key, arg in self.args.items():
            if key not in given or given[key] is None:
                if arg.required:
                    raise InputError(f"{self.name} needs {key}: {arg.description}", field=key)
                given.pop(key, None)
                continue
            value = given[key]
            kind = JSON_TYPES[arg.type]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise InputError(f"{self.name}: {key} must be a {arg.type}.", field=key)
            if isinstance(value, str) and len(value) > MAX_TEXT:
                raise InputError(f"{self.name}: {key} is too long.", field=key)
            if arg.minimum is not None and isinstance(value, int) and value < arg.minimum:
                raise InputError(f"{self.name}: {key} must be at least {arg.minimum}.", field=key)
        return {**given, **self.fixed}


class Catalog:
    """The tools of the MCP server, bound to a registry."""

    def __init__(self, tools: list[McpTool]):
        self.tools = {t.name: t for t in tools}

    @classmethod
    def load(cls, registry: Registry, path: Path = TOOLS_FILE) -> Catalog:
        try:
            parsed = ToolsFile.model_validate(load_yaml(path))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise SkillConfigError(path, f"{where}: {err['msg']}") from None
        tools = []
        for name, entry in parsed.tools.items():
            if not _valid_name(name):
                raise SkillConfigError(path, f"tools.{name}: use lowercase letters, digits, _")
            try:
                skill = registry.get(entry.skill)
            except NotFound:
                raise SkillConfigError(path, f"tools.{name}: no skill {entry.skill!r}") from None
            if skill.config.confirm is not None and not entry.write:
                raise SkillConfigError(
                    path, f"tools.{name}: {entry.skill} writes (it has confirm), so write: true"
                )
            config = skill.config.skill
            tools.append(
                McpTool(
                    name=name,
                    skill=skill.name,
                    role=skill.role,
                    write=entry.write,
                    description=entry.description or config.help or config.description,
                    args=dict(entry.args),
                    fixed=dict(entry.fixed),
                )
            )
        return cls(tools)

    def get(self, name: str) -> McpTool | None:
        return self.tools.get(name)

    def visible(self, role: str, allow_writes: bool) -> list[McpTool]:
        """What tools/list shows a caller in ``role``: their role's tools, writes only
        when allowed."""
        return [t for t in self.tools.values() if t.role == role and (allow_writes or not t.write)]


def _valid_name(name: str) -> bool:
    return re.match(NAME, name) is not None
