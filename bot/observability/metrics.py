"""Metrics behind a small interface: the names (one list, used by the Prometheus adapter, the
alert rules and the dashboard), per-process recording of skill runs and model use (a no-op
until a recorder is installed: ``prometheus.enable()`` installs one where ``/metrics`` is
served), and ``Gauge``, the sample a business-gauge source returns at scrape time.

Conventions: base units (seconds, US dollars), ``_total`` counters, ``_seconds`` histograms;
labels only from bounded sets (domain, role, skill, outcome, model, priority, status, stuck
reason, metric name from the skills' configs): never an order ID, an email or a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SKILL_EXECUTIONS = "ecm_skill_executions_total"
SKILL_DURATION = "ecm_skill_duration_seconds"
LLM_TOKENS = "ecm_llm_tokens_total"
LLM_COST = "ecm_llm_cost_usd_total"
OPEN_TICKETS = "ecm_open_tickets"
SLA_BREACHES = "ecm_sla_breaches"
SYNC_LAG = "ecm_sheets_sync_lag_seconds"
SYNC_FAILING = "ecm_sheets_sync_failing"
CUSTOM_METRIC = "ecm_skill_custom_metric"
DATABASE_UP = "ecm_database_up"
SLA_NOTICES = "ecm_sla_notices"

COUNTERS = {SKILL_EXECUTIONS, LLM_TOKENS, LLM_COST}
HISTOGRAMS = {SKILL_DURATION}
GAUGES = {
    OPEN_TICKETS,
    SLA_BREACHES,
    SLA_NOTICES,
    SYNC_LAG,
    SYNC_FAILING,
    CUSTOM_METRIC,
    DATABASE_UP,
}
NAMES = COUNTERS | HISTOGRAMS | GAUGES
"""Every metric family the bot exposes (a histogram also has _bucket, _sum and _count)."""

OUTCOMES = ("ok", "denied", "refused", "error")
"""An execution's outcome (``bot.runtime.executor.recording``)."""


@dataclass(frozen=True)
class Gauge:
    """One sample of a gauge read at scrape time, e.g.
    ``Gauge(OPEN_TICKETS, "...", (("priority", "P1"), ("status", "ASSIGNED")), 3)``."""

    name: str
    help: str
    labels: tuple[tuple[str, str], ...]
    value: float


class Recorder(Protocol):
    """Where per-process counts go (``prometheus.PrometheusRecorder``)."""

    def skill_run(self, *, domain: str, role: str, skill: str, outcome: str, seconds: float):
        """One execution ended with ``outcome`` after ``seconds``."""
        ...

    def model_use(self, *, skill: str, model: str, tokens_in: int, tokens_out: int, cost: float):
        """An execution used ``model``: its tokens and its cost in US dollars."""
        ...


_recorder: Recorder | None = None


def install(recorder: Recorder | None) -> Recorder | None:
    """Send counts to ``recorder`` (None: drop them); returns the previous one."""
    global _recorder
    previous, _recorder = _recorder, recorder
    return previous


def installed() -> Recorder | None:
    return _recorder


def skill_run(*, domain: str, role: str, skill: str, outcome: str, seconds: float) -> None:
    recorder = _recorder
    if recorder is not None:
        recorder.skill_run(domain=domain, role=role, skill=skill, outcome=outcome, seconds=seconds)


def model_use(*, skill: str, model: str, tokens_in: int, tokens_out: int, cost: float) -> None:
    recorder = _recorder
    if recorder is not None:
        recorder.model_use(
            skill=skill, model=model, tokens_in=tokens_in, tokens_out=tokens_out, cost=cost
        )
