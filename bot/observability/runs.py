"""One skill execution as metrics and traces see it: a span from start to end (current while
the skill runs, so its database, warehouse, model and tool calls nest under it) and, when it
ends, the per-process counters. Called by ``bot.runtime.executor.recording`` only; telemetry
never fails a run."""

from __future__ import annotations

import logging
from typing import Protocol

from bot.observability import metrics, tracing

log = logging.getLogger(__name__)


class RunLike(Protocol):
    """What is read of ``bot.runtime.executor.Run``."""

    skill: str
    role: str
    domain: str
    trigger: str
    id: str
    workflow_id: str
    parent_id: str | None
    usage: dict
    order_ids: list[str]


class ObservedRun:
    def __init__(self, run: RunLike):
        self.run = run
        self.span: tracing.RunSpan = tracing.NULL_SPAN
        try:
            self.span = self._start(run)
        except Exception:  # never fail a skill run for its telemetry
            log.warning("tracing %s (execution %s) failed", run.skill, run.id, exc_info=True)

    @staticmethod
    def _start(run: RunLike) -> tracing.RunSpan:
        return tracing.start_run(
            f"skill {run.skill}",
            {
                "ecm.domain": run.domain,
                "ecm.role": run.role,
                "ecm.skill": run.skill,
                "ecm.trigger": run.trigger,
                "ecm.execution.id": run.id,
                "ecm.workflow.id": run.workflow_id,
                "ecm.parent.execution.id": run.parent_id,
            },
            execution_id=run.id,
            workflow_id=run.workflow_id,
            parent_id=run.parent_id,
        )

    def done(self, outcome: str, error: str | None, seconds: float) -> None:
        """End the span and count the run (its model use too)."""
        run = self.run
        try:
            usage = run.usage or {}
            orders = run.order_ids or []
            self.span.finish(
                outcome,
                error,
                {
                    "ecm.order.id": orders[0] if len(orders) == 1 else None,
                    "ecm.orders": len(orders),
                    "gen_ai.request.model": usage.get("model"),
                    "gen_ai.usage.input_tokens": usage.get("tokens_in") or None,
                    "gen_ai.usage.output_tokens": usage.get("tokens_out") or None,
                },
            )
            labels = {"domain": run.domain, "role": run.role, "skill": run.skill}
            metrics.skill_run(**labels, outcome=outcome, seconds=seconds)
            if usage.get("model"):
                metrics.model_use(
                    skill=run.skill,
                    model=str(usage["model"]),
                    tokens_in=int(usage.get("tokens_in") or 0),
                    tokens_out=int(usage.get("tokens_out") or 0),
                    cost=float(usage.get("cost") or 0.0),
                )
        except Exception:  # never fail a skill run for its telemetry
            log.warning("telemetry of %s (execution %s) failed", run.skill, run.id, exc_info=True)


def observe_run(run: RunLike) -> ObservedRun:
    """Start observing ``run``; call ``done`` exactly once when it ends."""
    return ObservedRun(run)
