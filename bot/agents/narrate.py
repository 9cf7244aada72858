"""The model adds language to a structured result that code produced (a diagnosis narrative,
triage highlights, a summary of patterns), for the skills whose config has a ``narrate``
section: what to ask, which part of the result to give, where the stuck reason is. It may pull
resources through the role's tools; every figure shown to the user still comes from the code's
result."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from bot.agents.prompts import system_prompt, untrusted
from bot.agents.session import LlmSession
from bot.agents.tools import call_tool, tools_for
from bot.briefing.builder import build_context
from bot.runtime.skill_run import SkillContext
from bot.skills.schema import Narration

MAX_TURNS = 4


def triage_highlights(data: dict) -> dict:
    """A triage result cut to what highlights need: counts, the first escalations, unassigned
    and P1 tickets."""
    p1 = [t for a in data["agents"] for t in a["tickets"] if t["priority"] == "P1"][:10]
    return {
        "counts": data["counts"],
        "escalated": data["escalated"][:10],
        "unassigned": data["unassigned"][:10],
        "top_p1": [
            {k: t[k] for k in ("order_id", "reason", "hours", "amount", "currency")} for t in p1
        ],
    }


COMPACTORS: dict[str, Callable[[dict], dict]] = {"triage_highlights": triage_highlights}
"""The compactors a skill's ``narrate.compact`` may name."""


def compact(narration: Narration, data: dict) -> dict:
    """The part of a result the model needs (smaller prompts, lower cost), as the skill's
    ``narrate`` config says: a named compactor, or some keys, or everything."""
    if narration.compact:
        return COMPACTORS[narration.compact](data)
    if narration.keys:
        return {k: data.get(k) for k in narration.keys}
    return data


def reason_of(narration: Narration, data: dict) -> str | None:
    """The first set value among the config's dotted ``reason`` paths into ``data``."""
    for path in narration.reason:
        value: object = data
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value:
            return str(value)
    return None


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def invented_figures(text: str, data: dict) -> list[str]:
    """Numbers in ``text`` that appear nowhere in the code's result (a model must not compute
    or guess figures). Thousands separators are ignored when comparing."""
    known = json.dumps(data, default=str, ensure_ascii=False)
    return [n for n in _NUMBER.findall(text) if n not in known and n.replace(",", "") not in known]


def narrate(ctx: SkillContext, session: LlmSession, data: dict) -> str:
    """The narrative text; raises LlmUnavailable or BudgetExceeded when it can't be had."""
    skill = ctx.skill.name
    narration = ctx.skill.config.narrate
    if narration is None:
        raise ValueError(f"{skill} has no narrate section in its config")
    parts = build_context(ctx.registry, skill, ctx.guard, reason=reason_of(narration, data))
    system = system_prompt(parts)
    tools = tools_for(ctx)
    messages: list[dict] = [
        {
            "role": "user",
            "content": (
                f"{narration.ask}\n\nThe result computed by the ECM system:\n"
                f"{untrusted(compact(narration, data))}"
            ),
        }
    ]
    for _ in range(MAX_TURNS):
        reply = session.complete(system, messages, tools)
        if not reply.tool_calls:
            return reply.text.strip()
        messages.append(  # thinking blocks go back with the turn that made them
            {
                "role": "assistant",
                "content": reply.text,
                "tool_calls": reply.tool_calls,
                "reasoning": reply.reasoning,
            }
        )
        for call in reply.tool_calls:
            result, allowed = call_tool(ctx, call.name, call.arguments)
            session.tool_calls.append({"name": call.name, "allowed": allowed})
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call.id,
                    "name": call.name,
                    "content": untrusted(result) if allowed else result,
                }
            )
    return reply.text.strip()
