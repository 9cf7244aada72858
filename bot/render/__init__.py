"""Plain-text renderings of skill results (what the CLI prints; Slack has its own blocks).

Each role's renderers live in their own module and register themselves in RENDERERS by name
(the function's name without ``render_``); a skill names its renderer in its config
(``output.renderer``): a registered name, or ``module:function`` for one beside its code."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

RENDERERS: dict[str, Callable[[dict], str]] = {}


def renderer(fn: Callable[[dict], str]) -> Callable[[dict], str]:
    """Register a text renderer for a skill's result data, by its name."""
    RENDERERS[fn.__name__.removeprefix("render_")] = fn
    return fn


def _configured(skill: str) -> str | None:
    """The renderer the project's skill ``skill`` names in its config (None if no such skill)."""
    from bot.skills.registry import default_registry

    found = next((s for s in default_registry() if s.name == skill), None)
    return found.config.output.renderer if found else None


def render(skill: str, data: dict, renderer: str | None = None) -> str:
    """The text of a skill result, by ``renderer`` (a registered name or ``module:function``),
    else the renderer the skill's config names."""
    from bot.render import field, manager  # noqa: F401 - registers renderers

    name = renderer or _configured(skill)
    fn: Callable[[dict], str] | None
    if name and ":" in name:
        module, func = name.split(":")
        fn = getattr(importlib.import_module(module), func)
    else:
        fn = RENDERERS.get(name or "")
    return fn(data) if fn else str(data)


def render_result(result: Any) -> str:
    """The text of a SkillResult, by the renderer its skill's config names."""
    output = getattr(result, "output", None)
    return render(result.skill, result.data, output.renderer if output else None)


def money(amount: Any, currency: str) -> str:
    try:
        value = float(amount)
    except (TypeError, ValueError):
        return f"{amount} {currency}"
    return f"{value:,.0f} {currency}" if value >= 100 else f"{value:,.2f} {currency}"


def actions_line(actions: list[str]) -> str:
    return " ".join(f"{i}) {a}" for i, a in enumerate(actions, 1))
