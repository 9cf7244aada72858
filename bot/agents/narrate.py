"""The model adds language to a structured result that code produced: the diagnosis narrative
of order-details, the triage highlights, a summary of patterns. It may pull resources through
the role's tools; every figure shown to the user still comes from the code's result."""

from __future__ import annotations

import json
import re

from bot.agents.prompts import system_prompt, untrusted
from bot.agents.session import LlmSession
from bot.agents.tools import call_tool, tools_for
from bot.context.builder import build_context
from bot.runtime.context import SkillContext

MAX_TURNS = 4
ASK = {
    "order-details": "Explain, in 3-5 sentences for the field agent working it, what most likely "
    "happened to this order and what to do first, using its timeline, the diagnosis and the "
    "runbook.",
    "triage-and-assign": "Write 3 short bullet highlights of this triage for the ops manager: "
    "where the risk is and what needs attention first.",
    "pattern-intelligence": "Summarise these anomalies in 2-4 sentences for the ops manager: what "
    "is spiking and which team should look first.",
}
NARRATED = frozenset(ASK)


def compact(skill: str, data: dict) -> dict:
    """The part of a result the model needs (smaller prompts, lower cost)."""
    if skill == "triage-and-assign":
        p1 = [t for a in data["agents"] for t in a["tickets"] if t["priority"] == "P1"][:10]
        return {
            "counts": data["counts"],
            "escalated": data["escalated"][:10],
            "unassigned": data["unassigned"][:10],
            "top_p1": [
                {k: t[k] for k in ("order_id", "reason", "hours", "amount", "currency")} for t in p1
            ],
        }
    if skill == "order-details":
        return {
            k: data.get(k)
            for k in (
                "order_id",
                "status",
                "priority",
                "why",
                "amount",
                "currency",
                "hours_stuck",
                "order",
                "timeline",
            )
        }
    return data


def reason_of(skill: str, data: dict) -> str | None:
    if skill == "order-details":
        return (data.get("order") or {}).get("stuck_reason") or data.get("reason_code")
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
    parts = build_context(ctx.registry, skill, ctx.guard, reason=reason_of(skill, data))
    system = system_prompt(parts)
    tools = tools_for(ctx)
    messages: list[dict] = [
        {
            "role": "user",
            "content": (
                f"{ASK[skill]}\n\nThe result computed by the ECM system:\n"
                f"{untrusted(compact(skill, data))}"
            ),
        }
    ]
    for _ in range(MAX_TURNS):
        reply = session.complete(system, messages, tools)
        if not reply.tool_calls:
            return reply.text.strip()
        messages.append(
            {"role": "assistant", "content": reply.text, "tool_calls": reply.tool_calls}
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
