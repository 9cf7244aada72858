"""Metrics behind a small interface: the names (one list, used by the Prometheus adapter, the
alert rules and the dashboard), per-process recording of skill runs and model use (a no-op
until a recorder is installed: ``prometheus.enable()`` installs one where ``/metrics`` is
served), and ``Gauge``, the sample a business-gauge source returns at scrape time.

Conventions: base units (seconds, US dollars), ``_total`` counters, ``_seconds`` histograms;
labels only from bounded sets (domain, role, skill, outcome, model, priority, status, stuck
reason, metric name from the skills' configs, a skill's version where it has a candidate:
two at a time): never an order ID, an email or a time."""

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
HANDOVERS = "ecm_handovers"
"""Tickets an away agent's handover moved (kind moved) or left to the managers (pinned,
no_room), ever (``bot/stores/away.py``)."""
SKILL_VERSION_EXECUTIONS = "ecm_skill_version_executions_total"
"""Executions of skills that have a candidate, by version (track: live or candidate)."""

COUNTERS = {SKILL_EXECUTIONS, LLM_TOKENS, LLM_COST, SKILL_VERSION_EXECUTIONS}
HISTOGRAMS = {SKILL_DURATION}
GAUGES = {
    OPEN_TICKETS,
    SLA_BREACHES,
    SLA_NOTICES,
    HANDOVERS,
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


class VersionRecorder(Protocol):
    """A recorder that also counts executions by version (``prometheus.PrometheusRecorder``)."""

    def skill_version_run(
        self, *, skill: str, version: str, track: str, outcome: str, seconds: float
    ):
        """One execution of a skill with a candidate ended, in ``version``."""
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


def skill_version_run(*, skill: str, version: str, track: str, outcome: str, seconds: float):
    """Count one execution of a skill with a candidate by its version (a recorder without
    per-version counts ignores it)."""
    recorder = getattr(_recorder, "skill_version_run", None)
    if recorder is not None:
        recorder(skill=skill, version=version, track=track, outcome=outcome, seconds=seconds)
