"""Free text to a skill: the model picks one of the caller's role's skills with a tool call
whose skill parameter admits only that role's skills (the other role's are not in the catalog
at all), and extracts its arguments. Write skills come back as proposals for the user to
confirm (``bot.runtime.dispatch``); the model never writes. Each routing call is recorded as
an ``agent-router`` execution through the executor's ``recording``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.access.guard import Guard
from bot.agents.prompts import system_prompt, untrusted
from bot.briefing.builder import build_context
from bot.llm.types import ToolSpec
from bot.runtime.assistant import Pick
from bot.runtime.executor import Run, recording
from bot.runtime.roster import Member
from bot.skills.registry import Registry
from bot.stores.factory import Stores

if TYPE_CHECKING:
    from bot.agents.assistant import Assistant

ROUTER = "agent-router"  # the skill name its execution records carry
ARG_DOCS = {
    "order_id": "Order ID, two letters and 8 letters or digits, e.g. AE136ABC00",
    "notes": "Resolution note: what was done and any partner reference",
    "reason": "Why (escalation reason or reassignment reason)",
    "agent": "The agent to assign to: email or @handle",
}
_PLACEHOLDER = re.compile(r"\{(\w+)(?:\.\.\.)?\}")


def accepted_args(registry: Registry, skill: str) -> set[str]:
    """The argument names a skill's trigger patterns capture."""
    s = registry.get(skill)
    return {m for t in s.config.triggers for p in t.text_patterns for m in _PLACEHOLDER.findall(p)}


def choose(
    assistant: Assistant, registry: Registry, stores: Stores, caller: Member, text: str
) -> Pick | None:
    """Ask the model which of the caller's skills ``text`` wants; None if none fits. A member
    with both roles is offered the skills of both (the first role's router pays); the skill
    picked still runs only under its own role's walls (``execute`` checks it)."""
    role = caller.roles[0]
    router = registry.router(role)  # whose model block and budget (its config says)
    guard = Guard(router, caller=caller.email, denials=stores.state)
    names = [s.name for r in caller.roles for s in registry.for_role(r)]
    parts = build_context(registry, router.name, guard)[:3]  # guardrails, charter, catalog
    for other in caller.roles[1:]:  # each further role's charter and catalog, by its guard
        extra = registry.router(other)
        own = Guard(extra, caller=caller.email, denials=stores.state)
        parts += build_context(registry, extra.name, own)[1:3]
    roles = "/".join(caller.roles)
    tool = ToolSpec(
        "activate_skill",
        f"Run one of your skills for the {roles} who wrote the message.",
        {
            "type": "object",
            "required": ["skill"],
            "properties": {
                "skill": {"type": "string", "enum": names},
                **{k: {"type": "string", "description": d} for k, d in ARG_DOCS.items()},
            },
        },
    )
    session = assistant.session(router, stores.state, max_output=200)
    prompt = (
        "Pick the skill that answers this message and extract its arguments with "
        f"activate_skill. If none fits, answer briefly without a tool.\n{untrusted(text)}"
    )
    run = Run(ROUTER, role, caller.email, "free-text")
    with recording(stores, run):
        try:
            reply = session.complete(
                system_prompt(parts), [{"role": "user", "content": prompt}], [tool]
            )
        finally:
            run.usage = session.usage()
    call = next((c for c in reply.tool_calls if c.name == "activate_skill"), None)
    if call is None:
        return None
    skill = str(call.arguments.get("skill", ""))
    if skill not in names:
        guard.deny(
            f"skill:{skill}",
            f"the {roles} agent has no such skill",
            message=f"Sorry, that isn't something the {roles} agent can do.",
        )
    wanted = accepted_args(registry, skill)
    args = {k: str(v) for k, v in call.arguments.items() if k in wanted and v is not None}
    return Pick(skill, args, reply.text)
