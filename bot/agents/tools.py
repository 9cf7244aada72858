"""Tools the model may call while narrating: plain typed functions over the run's context.
Each goes through the guard (ctx.tool and the resource/query checks), so a tool outside the
role or the skill's permissions is refused and audited whatever the model asked. No tool
writes: writes happen only on explicit commands or confirmed proposals."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from bot.access.rows import HIDDEN_COLUMNS, RowPolicy
from bot.errors import AccessDenied, EcmError
from bot.ids import order_id as valid_order_id
from bot.llm.types import ToolSpec
from bot.observability import tracing
from bot.runtime.skill_run import SkillContext

REASON = {"type": "string", "description": "A stuck-reason code, e.g. LULU_NOT_CONFIRMED"}


@dataclass(frozen=True)
class AgentTool:
    spec: ToolSpec
    fn: Callable[..., object]


def _runbook(ctx: SkillContext, reason: str) -> str:
    return ctx.resources.runbook(reason)


def _knowledge(ctx: SkillContext, reason: str) -> dict:
    return ctx.resources.knowledge(reason)


def _query(ctx: SkillContext, name: str, order_id: str | None = None) -> list[dict]:
    """A named query under the narrated skill's row rules: a field agent's narration reads
    only their own orders (another order is refused and recorded), and the rows carry only
    the fields the skill's own result shows (``ctx.shows``), never ``HIDDEN_COLUMNS``."""
    visible = None if RowPolicy.for_skill(ctx.skill).every_order else ctx.workbook.visible_orders()
    params = {}
    if order_id:
        oid = valid_order_id(order_id)
        if visible is not None and oid not in visible:
            ctx.guard.deny(f"order:{oid}", "a field agent reads only their own orders")
        params = {"order_id": oid}
    rows = [
        r
        for r in ctx.query(name, **params)
        if visible is None or "order_id" not in r or str(r["order_id"]) in visible
    ]
    return [
        {
            k: v
            for k, v in r.items()
            if k not in HIDDEN_COLUMNS and (ctx.shows is None or k in ctx.shows)
        }
        for r in rows[:20]
    ]


def _my_queue(ctx: SkillContext) -> list[dict]:
    return [
        {k: r[k] for k in ("Order ID", "Priority", "Stuck Reason", "Status")}
        for r in ctx.workbook.read("Assignments")
        if r["Status"] in ("ASSIGNED", "IN_PROGRESS", "WAITING")
    ]


TOOLS = {
    "load_runbook": AgentTool(
        ToolSpec(
            "load_runbook",
            "The runbook for a stuck reason.",
            {"type": "object", "properties": {"reason": REASON}, "required": ["reason"]},
        ),
        _runbook,
    ),
    "read_knowledge_graph": AgentTool(
        ToolSpec(
            "read_knowledge_graph",
            "Systems, checks and root causes for a stuck reason.",
            {"type": "object", "properties": {"reason": REASON}, "required": ["reason"]},
        ),
        _knowledge,
    ),
    "run_query": AgentTool(
        ToolSpec(
            "run_query",
            "Run a permitted named query from shared/queries/.",
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "Query name without .sql"},
                    "order_id": {"type": "string"},
                },
                "required": ["name"],
            },
        ),
        _query,
    ),
    "read_my_queue": AgentTool(
        ToolSpec(
            "read_my_queue", "The caller's open tickets.", {"type": "object", "properties": {}}
        ),
        _my_queue,
    ),
}


def tools_for(ctx: SkillContext) -> list[ToolSpec]:
    """The tools this skill's permissions grant that the assistant implements."""
    granted = ctx.skill.config.permissions.tools
    return [TOOLS[name].spec for name in granted if name in TOOLS]


def call_tool(ctx: SkillContext, name: str, args: dict) -> tuple[str, bool]:
    """Run one tool call through the guard; (result text for the model, allowed?). One span
    per call, ``execute_tool {name}`` (GenAI conventions; arguments and result not recorded)."""
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.type": "function",
    }
    with tracing.span(f"execute_tool {name}", attributes) as span:
        text, allowed = _run_tool(ctx, name, args)
        span.set_attribute("ecm.tool.allowed", allowed)
        return text, allowed


def _run_tool(ctx: SkillContext, name: str, args: dict) -> tuple[str, bool]:
    try:
        ctx.tool(name)  # refuses another role's tool (DEC-011) or an ungranted one, audited
        tool = TOOLS.get(name)
        if tool is None:
            ctx.guard.deny(f"tool:{name}", "the assistant has no such tool; it never writes")
        result = tool.fn(ctx, **{k: v for k, v in (args or {}).items() if isinstance(k, str)})
        return json.dumps(result, default=str)[:6000], True
    except AccessDenied as exc:
        return f"REFUSED: {exc.rule}", False
    except (EcmError, TypeError) as exc:
        return f"ERROR: {exc}", True
