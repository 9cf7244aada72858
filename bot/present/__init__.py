"""Presenting skill results once, for every surface.

A presenter turns a skill's result data into a format-neutral ``View`` (``bot.present.model``);
the CLI prints it (``bot.present.text``) and Slack renders it as Block Kit
(``bot.slack.blocks.render``). Each role's presenters live in their own module and register
themselves in PRESENTERS by name (the function's name); a skill names its presenter in its
config (``output.view``): a registered name, or ``module:function`` for one beside its code. A
presenter may return plain text instead of a view (a skill's own simple presenter)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from bot.present.model import Note, Text, View, line

Presenter = Callable[[dict], "View | str"]
PRESENTERS: dict[str, Presenter] = {}


def presenter(fn: Presenter) -> Presenter:
    """Register a presenter for a skill's result data, by its name."""
    PRESENTERS[fn.__name__] = fn
    return fn


def registered() -> dict[str, Presenter]:
    """Every registered presenter, by name (imports the role modules that register them)."""
    from bot.present import field, manager, reports  # noqa: F401 - registers presenters

    return PRESENTERS


def _configured(skill: str) -> str | None:
    """The presenter the project's skill ``skill`` names in its config (None if no such skill)."""
    from bot.skills.registry import default_registry

    found = next((s for s in default_registry() if s.name == skill), None)
    return found.config.output.view if found else None


def as_view(shown: View | str) -> View:
    """A presenter's answer as a view (plain text becomes one line per line)."""
    if isinstance(shown, View):
        return shown
    return View([Text(tuple(line(t) for t in str(shown).split("\n")))])


def present(skill: str, data: dict, name: str | None = None) -> View:
    """The view of a skill result, by presenter ``name`` (a registered name or
    ``module:function``), else the presenter the skill's config names; with none, the data."""
    name = name or _configured(skill)
    fn: Presenter | None
    if name and ":" in name:
        module, func = name.split(":")
        fn = getattr(importlib.import_module(module), func)
    else:
        fn = registered().get(name or "")
    return as_view(fn(data) if fn else str(data))


def present_result(result: Any) -> View:
    """The view of a SkillResult by the presenter its config names, with the assistant's
    narrative and status note after it."""
    output = getattr(result, "output", None)
    view = present(result.skill, result.data, output.view if output else None)
    if result.data.get("narrative"):
        view.add(Text((line("💬 " + str(result.data["narrative"])),)))
    if result.data.get("assistant_note"):
        view.add(Note((line(str(result.data["assistant_note"])),)))
    return view


def result_text(result: Any) -> str:
    """A SkillResult as the CLI prints it."""
    from bot.present.text import to_text

    return to_text(present_result(result))


def money(amount: Any, currency: str) -> str:
    """721 AED, 1,250 USD, 12.50 GBP."""
    try:
        value = float(amount)
    except (TypeError, ValueError):
        return f"{amount} {currency}"
    return f"{value:,.0f} {currency}" if value >= 100 else f"{value:,.2f} {currency}"


def steps(actions: list) -> str:
    """1) Check Checkout 2) Check LULU."""
    return " ".join(f"{i}) {a}" for i, a in enumerate(actions, 1))


def hours(value: Any) -> str:
    """14h, or ?h when unknown."""
    try:
        return f"{float(value):.0f}h"
    except (TypeError, ValueError):
        return "?h"


def counts(by_key: dict) -> str:
    """3 P1, 2 P2 (count before key)."""
    return ", ".join(f"{n} {k}" for k, n in by_key.items())
