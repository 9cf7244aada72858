"""Shadow mode: after a real run of a batch skill's live version has committed, its candidate
runs on the same input, as a dry run, and its plan is compared with the live plan.

The candidate never writes the team's tabs or posts to Slack: it is called with
``dry_run=True`` and the live run's input, through a workbook that refuses every write, under
its ``CandidateGuard``; its result is never delivered. Its plan goes to
``assignments_canary`` and the diff to ``canary_runs``, linked to the live run by execution
and workflow id. A failing candidate never fails the live run: the shadow run is recorded
as ``error`` (or ``denied``) instead."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from bot.access.candidate import CandidateGuard
from bot.canary.diff import Placement, PlanDiff, diff_plans
from bot.canary.store import CanaryStore, ShadowRun
from bot.clock import now, ts
from bot.errors import AccessDenied, EcmError
from bot.ids import new_id
from bot.runtime.executor import entry_point
from bot.runtime.skill_run import SkillContext
from bot.runtime.versions import release_state
from bot.stores.db_workbook import DatabaseWorkbook
from bot.stores.factory import Stores
from bot.stores.releases import CANDIDATE, Releases

log = logging.getLogger(__name__)
SHADOW_TRIGGER = "shadow"
TRY_TRIGGER = "canary-try"
"""``ecm-bot canary try``: the live version runs dry, its candidate beside it (kind ``try``)."""


@dataclass(frozen=True)
class TriageInput:
    """What the live run read, handed to its shadow unchanged: the pending list, the tabs
    (before the live run wrote) and the pins."""

    pending: list[dict]
    tabs: dict[str, list[dict]]
    pins: Mapping


class ReadOnlyWorkbook(DatabaseWorkbook):
    """The team's tabs as a shadow run sees them: readable, never written."""

    def append(self, tab: str, rows: list[dict]) -> None:
        raise EcmError(f"a shadow run never writes the {tab} tab")

    def update(self, tab: str, updates: list) -> list[str]:
        raise EcmError(f"a shadow run never writes the {tab} tab")


def read_only(stores: Stores) -> Stores:
    return replace(stores, workbook=ReadOnlyWorkbook(stores.db))


def wanted(ctx: SkillContext, dry_run: bool) -> bool:
    """Whether this run is shadowed: a real run (or ``canary try``'s dry run) of a skill with
    a shadow candidate that is neither promoted nor rolled back (then the live run keeps its
    input and plan for it)."""
    if dry_run and ctx.trigger != TRY_TRIGGER:
        return False
    candidate = ctx.skill.candidate
    if candidate is None or candidate.config.canary is None:
        return False
    if candidate.config.canary.strategy != "shadow":
        return False
    if ctx.trigger == TRY_TRIGGER:
        return True
    return release_state(Releases(ctx.stores.db), ctx.skill) == CANDIDATE


def after_live(ctx: SkillContext, given: TriageInput, live: Mapping[str, Placement]) -> dict:
    """Run the candidate on ``given`` and record its plan and diff; never raises. Returns
    what the live result shows of it."""
    candidate = ctx.skill.candidate
    assert candidate is not None
    run_id, started, at = new_id(), time.perf_counter(), ts(now())
    outcome, error, diff, plan = "ok", None, None, None
    try:
        guard = CandidateGuard(
            candidate, ctx.skill, caller=ctx.caller.email, denials=ctx.stores.state
        )
        shadow_ctx = replace(
            ctx,
            skill=candidate,
            guard=guard,
            stores=read_only(ctx.stores),
            execution_id=run_id,
            trigger=SHADOW_TRIGGER,
            metrics={},
            order_ids=[],
            after=[],
        )
        data = entry_point(candidate)(shadow_ctx, dry_run=True, full_lists=True, shadow_input=given)
        plan = data["plan"]
        diff = diff_plans(live, plan)
    except AccessDenied as exc:
        outcome, error = "denied", str(exc)
    except Exception as exc:
        outcome, error = "error", f"{type(exc).__name__}: {exc}"
        log.warning("shadow run of %s %s failed", candidate.name, candidate.version, exc_info=True)
    seconds = time.perf_counter() - started
    run = ShadowRun(
        run_id,
        candidate.name,
        candidate.version,
        ctx.execution_id,
        ctx.workflow_id,
        at,
        outcome,
        round(seconds * 1000, 2),
        error,
        "try" if ctx.trigger == TRY_TRIGGER else "shadow",
    )
    try:
        CanaryStore(ctx.stores.db).record(run, diff, live, plan)
    except Exception:
        log.exception("recording the shadow run of %s failed", candidate.name)
    return _shown(run, diff)


def _shown(run: ShadowRun, diff: PlanDiff | None) -> dict:
    shown: dict[str, object] = {"version": run.version, "run": run.id, "outcome": run.outcome}
    if diff is not None:
        shown.update(
            orders=diff.orders,
            share=round(diff.share, 4),
            agent_share=round(diff.agent_share, 4),
            priority_share=round(diff.priority_share, 4),
        )
    if run.error:
        shown["error"] = run.error
    return shown
