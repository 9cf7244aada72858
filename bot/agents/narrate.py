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
from bot.runtime.roster import Member
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


_ORDER_ID = re.compile(r"\b[A-Z]{2}[A-Z0-9]{8}\b")
_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:[-/][A-Z0-9]+)+\b")  # CUST-ABCDEF, UTR/XYZ
_SPELLED = re.compile(
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundreds?|thousands?|millions?|billions?|lakhs?|crores?)\b",
    re.IGNORECASE,
)


def result_keys(data: object) -> frozenset[str]:
    """Every key of every object in a result: the fields the skill shows."""
    keys: set[str] = set()
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            keys.update(str(k) for k in value)
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return frozenset(keys)


def _mentions(text: str, word: str) -> bool:
    """Whether ``text`` has ``word`` as a whole word (case-insensitive; an email's parts and
    a dotted handle's are not words of their own)."""
    return re.search(rf"(?<![\w.@]){re.escape(word)}(?![\w@])", text, re.IGNORECASE) is not None


def invented_identifiers(text: str, data: dict, people: list[Member], caller: str = "") -> int:
    """How many identifiers ``text`` names that the code's result does not: order IDs,
    customer and partner references (``CUST-…``), amounts written out in words, and roster
    members (name, handle or email) the result never mentions, the caller excepted. Nothing
    found is shown or logged: the count is all a caller needs."""
    known = json.dumps(data, default=str, ensure_ascii=False)
    found = [t for t in _ORDER_ID.findall(text) + _CODE.findall(text) if t not in known]
    found += [w for w in _SPELLED.findall(text) if not _mentions(known, w)]
    for person in people:
        forms = [person.email, person.handle, person.name, person.name.split(" ")[0]]
        forms = [f for f in forms if len(f) >= 3]
        if person.email == caller or any(_mentions(known, f) for f in forms):
            continue  # the caller, or someone the result itself names
        if any(_mentions(text, f) for f in forms):
            found.append(person.email)
    return len(found)


def narrate(ctx: SkillContext, session: LlmSession, data: dict) -> str:
    """The narrative text; raises LlmUnavailable or BudgetExceeded when it can't be had."""
    skill = ctx.skill.name
    narration = ctx.skill.config.narrate
    if narration is None:
        raise ValueError(f"{skill} has no narrate section in its config")
    ctx.shows = result_keys(data)  # what its tools may return: the fields the skill shows
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
