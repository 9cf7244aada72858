"""Run one skill: check the caller's role, build its context, call its entry point, and
record one execution (workflow id, parent id, skill, role, caller, trigger, start, duration,
outcome, error, custom metrics)."""

from __future__ import annotations

import importlib
import logging
import time
import uuid
from dataclasses import dataclass, field

from bot.access.guard import Guard
from bot.clock import now, ts
from bot.errors import AccessDenied, EcmError
from bot.ids import order_id as valid_order_id
from bot.runtime.context import SkillContext
from bot.runtime.roster import Member
from bot.skills.registry import Registry
from bot.skills.tools import DEC_011
from bot.stores.factory import Stores

log = logging.getLogger(__name__)


@dataclass
class SkillResult:
    """What a skill produced: structured data (rendered by the CLI or Slack) and its name."""

    skill: str
    data: dict
    execution_id: str = ""
    workflow_id: str = ""
    children: list[SkillResult] = field(default_factory=list)


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def entry_point(skill):
    module, func = skill.config.runtime.entry_point.split(":")
    return getattr(importlib.import_module(module), func)


def execute(
    registry: Registry,
    stores: Stores,
    skill_name: str,
    caller: Member,
    args: dict | None = None,
    *,
    trigger: str = "chat",
    workflow_id: str | None = None,
    parent_id: str | None = None,
    assistant=None,
) -> SkillResult:
    """Run ``skill_name`` for ``caller``; raise EcmError for refusals and bad input."""
    skill = registry.get(skill_name)
    guard = Guard(skill, caller=caller.email, denials=stores.state)
    if skill.role not in caller.roles:
        roles = "/".join(caller.roles)
        guard.deny(
            f"skill:{skill.name}",
            DEC_011,
            message=f"Sorry, {skill.name} is a {skill.role} skill and you are on the ECM roster "
            f"as {roles}. {DEC_011}",
        )
    execution_id = new_id()
    if workflow_id is None and skill.role == "field" and args and args.get("order_id"):
        workflow_id, parent_id = _linked_workflow(stores, str(args["order_id"]))
    ctx = SkillContext(
        skill=skill,
        caller=caller,
        stores=stores,
        registry=registry,
        guard=guard,
        execution_id=execution_id,
        workflow_id=workflow_id or execution_id,
        parent_id=parent_id,
        trigger=trigger,
    )
    started, outcome, error, usage = time.perf_counter(), "ok", None, {}
    try:
        data = entry_point(skill)(ctx, **(args or {}))
        if assistant is not None:
            usage = assistant.narrate(ctx, data)
        return SkillResult(skill.name, data, execution_id, ctx.workflow_id)
    except AccessDenied as exc:
        outcome, error = "denied", str(exc)
        raise
    except EcmError as exc:
        outcome, error = "refused", str(exc)
        raise
    except Exception as exc:
        outcome, error = "error", f"{type(exc).__name__}: {exc}"
        log.exception("skill %s failed (execution %s)", skill.name, execution_id)
        raise
    finally:
        stores.state.record_execution(
            {
                "id": execution_id,
                "workflow_id": ctx.workflow_id,
                "parent_id": ctx.parent_id,
                "skill": skill.name,
                "role": skill.role,
                "caller": caller.email,
                "trigger": trigger,
                "started_at": ts(ctx.at),
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "outcome": outcome,
                "error": error,
                "metrics": ctx.metrics,
                "order_ids": ctx.order_ids,
                **usage,
            }
        )


def _linked_workflow(stores: Stores, raw_id: str) -> tuple[str | None, str | None]:
    """Field work on a ticket joins the workflow of the manager run that assigned it."""
    try:
        found = stores.state.workflow_for_order(valid_order_id(raw_id))
    except EcmError:
        return None, None
    return found if found else (None, None)


def system_member(roles: tuple[str, ...] = ("manager",)) -> Member:
    """The scheduler acting as a manager (for cron triggers)."""
    return Member("scheduler@ecm.local", "ECM scheduler", "", roles, frozenset(), 0, True)


def today() -> str:
    return ts(now())[:10]
