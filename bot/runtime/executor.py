"""Run one skill: check the caller's role, build its context, call its entry point, and
record one execution (workflow id, parent id, skill, role, caller, trigger, start, duration,
outcome, error, custom metrics, model usage). For a skill with a candidate version the
version is chosen once, before the run (``bot/runtime/versions.py``), and recorded with it.

``recording`` is the one place that writes an execution record: ``execute`` runs every skill
through it, and a run that is not a skill (the agents' router) uses it too. Work a skill
leaves in ``ctx.after`` (a shadow run of its candidate) runs once the record is written, so
the run's duration and metrics exclude it."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from bot.access.candidate import guard_for
from bot.clock import now, ts
from bot.errors import AccessDenied, EcmError
from bot.ids import new_id
from bot.ids import order_id as valid_order_id
from bot.logs import bind_execution, unbind_execution
from bot.observability import metrics
from bot.observability.runs import observe_run
from bot.runtime.roster import Member
from bot.runtime.skill_run import SkillContext
from bot.runtime.versions import choose
from bot.skills.registry import Registry
from bot.skills.schema import Output
from bot.skills.tools import DEC_011
from bot.stores.factory import Stores
from bot.stores.releases import Releases

log = logging.getLogger(__name__)


@dataclass
class SkillResult:
    """What a skill produced: structured data (rendered by the CLI or Slack) and its name."""

    skill: str
    data: dict
    execution_id: str = ""
    workflow_id: str = ""
    children: list[SkillResult] = field(default_factory=list)
    output: Output = field(default_factory=Output)  # the skill's config: view, follow-ups


@dataclass
class Run:
    """One execution being recorded: what ran, for whom, and what it measured and used.
    A run is its own workflow unless it joins one."""

    skill: str
    role: str
    caller: str
    trigger: str
    id: str = field(default_factory=new_id)
    workflow_id: str = ""
    parent_id: str | None = None
    at: datetime = field(default_factory=now)
    metrics: dict = field(default_factory=dict)
    order_ids: list[str] = field(default_factory=list)
    usage: dict = field(default_factory=dict)  # model, tokens, cost, tool calls
    assigns: bool = False  # its order ids are assignments later field work joins
    domain: str = "ecm"  # the skill's domain (a metrics label)
    version: str = ""  # the skill version it ran, recorded where the skill has a candidate
    track: str = ""  # live or candidate (bot/runtime/versions.py); empty: no candidate

    def __post_init__(self) -> None:
        self.workflow_id = self.workflow_id or self.id


@contextmanager
def recording(stores: Stores, run: Run) -> Iterator[Run]:
    """Time the block and record ``run`` once when it ends: ``ok``, or ``denied`` /
    ``refused`` / ``error`` with the error, which is raised on."""
    started, outcome, error = time.perf_counter(), "ok", None
    labels = bind_execution(run.id, run.workflow_id, run.skill, run.role)  # log line context
    observed = observe_run(run)  # its span and counters (no-ops unless configured)
    try:
        yield run
    except AccessDenied as exc:
        outcome, error = "denied", str(exc)
        raise
    except EcmError as exc:
        outcome, error = "refused", str(exc)
        raise
    except Exception as exc:
        outcome, error = "error", f"{type(exc).__name__}: {exc}"
        log.exception("%s failed (execution %s)", run.skill, run.id)
        raise
    finally:
        unbind_execution(labels)
        seconds = time.perf_counter() - started
        observed.done(outcome, error, seconds)
        stores.state.record_execution(
            {
                "id": run.id,
                "workflow_id": run.workflow_id,
                "parent_id": run.parent_id,
                "skill": run.skill,
                "role": run.role,
                "caller": run.caller,
                "trigger": run.trigger,
                "started_at": ts(run.at),
                "duration_ms": round(seconds * 1000, 2),
                "outcome": outcome,
                "error": error,
                "metrics": run.metrics,
                "order_ids": run.order_ids,
                "assigns": run.assigns,
                **run.usage,
            }
        )
        record_version(stores, run, outcome, seconds)


def record_version(stores: Stores, run: Run, outcome: str, seconds: float) -> None:
    """A run of a skill with a candidate: its version (``skill_versions``) and its count."""
    if not run.track:
        return
    metrics.skill_version_run(
        skill=run.skill, version=run.version, track=run.track, outcome=outcome, seconds=seconds
    )
    Releases(stores.db).record_version(
        run.id, run.skill, run.version, run.track, ts(run.at), outcome, round(seconds * 1000, 2)
    )


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
    assistant=None,  # an Assistant (bot.runtime.assistant) or None
) -> SkillResult:
    """Run ``skill_name`` for ``caller``; raise EcmError for refusals and bad input."""
    live = registry.get(skill_name)
    skill, track = live, ""
    if live.candidate is not None:  # one version per request (bot/runtime/versions.py)
        skill, track = choose(Releases(stores.db), live, caller.email, caller.system)
    guard = guard_for(skill, live, caller=caller.email, denials=stores.state)
    if skill.role not in caller.roles:
        roles = "/".join(caller.roles)
        guard.deny(
            f"skill:{skill.name}",
            DEC_011,
            message=f"Sorry, {skill.name} is a {skill.role} skill and you are on the ECM roster "
            f"as {roles}. {DEC_011}",
        )
    if workflow_id is None and skill.role == "field" and args and args.get("order_id"):
        workflow_id, parent_id = _linked_workflow(stores, str(args["order_id"]))
    run = Run(
        skill.name,
        skill.role,
        caller.email,
        trigger,
        workflow_id=workflow_id or "",
        parent_id=parent_id,
        assigns=skill.config.output.assigns,
        domain=skill.config.skill.domain,
        version=skill.version,
        track=track,
    )
    ctx = SkillContext(
        skill=skill,
        caller=caller,
        stores=stores,
        registry=registry,
        guard=guard,
        execution_id=run.id,
        workflow_id=run.workflow_id,
        parent_id=run.parent_id,
        trigger=trigger,
        at=run.at,
    )
    with recording(stores, run):
        try:
            data = entry_point(skill)(ctx, **(args or {}))
            if assistant is not None:
                run.usage = assistant.narrate(ctx, data)
            result = SkillResult(
                skill.name, data, run.id, run.workflow_id, output=skill.config.output
            )
        finally:  # a skill may replace its lists rather than extend them
            run.metrics, run.order_ids = ctx.metrics, ctx.order_ids
    for job in ctx.after:  # recorded: their time is not the run's duration
        try:
            job()
        except Exception:
            log.exception("follow-up of %s failed (execution %s)", run.skill, run.id)
    return result


def _linked_workflow(stores: Stores, raw_id: str) -> tuple[str | None, str | None]:
    """Field work on a ticket joins the workflow of the manager run that assigned it."""
    try:
        found = stores.state.workflow_for_order(valid_order_id(raw_id))
    except EcmError:
        return None, None
    return found if found else (None, None)


def system_member(roles: tuple[str, ...] = ("manager",)) -> Member:
    """The scheduler acting as a manager (for cron triggers)."""
    return Member(
        "scheduler@ecm.local", "ECM scheduler", "", roles, frozenset(), 0, True, system=True
    )


def today() -> str:
    return ts(now())[:10]
