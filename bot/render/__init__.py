"""Plain-text renderings of skill results (what the CLI prints; Slack has its own blocks).

Each role's renderers live in their own module and register themselves in RENDERERS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

RENDERERS: dict[str, Callable[[dict], str]] = {}


def renderer(skill: str):
    """Register a text renderer for a skill's result data."""

    def wrap(fn: Callable[[dict], str]) -> Callable[[dict], str]:
        RENDERERS[skill] = fn
        return fn

    return wrap


def render(skill: str, data: dict) -> str:
    """The text of a skill result."""
    from bot.render import field, manager  # noqa: F401 - registers renderers

    fn = RENDERERS.get(skill)
    return fn(data) if fn else str(data)


def money(amount: Any, currency: str) -> str:
    try:
        value = float(amount)
    except (TypeError, ValueError):
        return f"{amount} {currency}"
    return f"{value:,.0f} {currency}" if value >= 100 else f"{value:,.2f} {currency}"


def actions_line(actions: list[str]) -> str:
    return " ".join(f"{i}) {a}" for i, a in enumerate(actions, 1))
