"""The Prometheus adapter behind ``bot.observability.metrics``: the only module importing
prometheus_client.

- This process's counters: skill executions by outcome, their duration (a histogram whose
  buckets include every ``latency_p95_threshold`` the skills use), and model tokens and cost.
  Each replica counts its own; Prometheus sums them.
- ``wsgi_app(source)``: the ``/metrics`` answer: those counters (plus the client's process
  and Python collectors) and the gauges ``source()`` returns at scrape time: the business
  gauges read from the shared database, the same on every replica (``bot/gauges.py``).
- ``enable(skills)``: start counting in this process, with each known skill's series at zero
  so that rates and ratios exist from its first run.

One process serves its own counters; a server with several worker processes would need the
client's multiprocess mode, which the bot's servers (waitress threads, Socket Mode) don't use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, make_wsgi_app
from prometheus_client import disable_created_metrics as _disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric

from bot.observability import metrics
from bot.observability.metrics import Gauge

log = logging.getLogger(__name__)

BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
"""Seconds; 5, 10, 30, 60 and 120 are the skills' p95 thresholds, 900 the longest timeout."""

_disable_created_metrics()  # no ``_created`` series next to every counter

SKILL_RUNS = Counter(
    metrics.SKILL_EXECUTIONS,
    "Skill executions that ended in this process, by outcome (ok, denied, refused, error).",
    ["domain", "role", "skill", "outcome"],
)
SKILL_SECONDS = Histogram(
    metrics.SKILL_DURATION,
    "How long skill executions took in this process, in seconds.",
    ["domain", "role", "skill"],
    buckets=BUCKETS,
)
SKILL_VERSION_RUNS = Counter(
    metrics.SKILL_VERSION_EXECUTIONS,
    "Executions of skills that have a candidate version, by version and track (live, "
    "candidate) and outcome.",
    ["skill", "version", "track", "outcome"],
)
LLM_TOKENS = Counter(
    metrics.LLM_TOKENS,
    "Language-model tokens used by skill executions in this process (kind: input, output).",
    ["skill", "model", "kind"],
)
LLM_COST = Counter(
    metrics.LLM_COST,
    "Language-model cost of skill executions in this process, in US dollars.",
    ["skill", "model"],
)


class PrometheusRecorder:
    """``bot.observability.metrics.Recorder`` into the counters above."""

    def skill_run(self, *, domain: str, role: str, skill: str, outcome: str, seconds: float):
        SKILL_RUNS.labels(domain, role, skill, outcome).inc()
        SKILL_SECONDS.labels(domain, role, skill).observe(max(0.0, seconds))

    def skill_version_run(
        self, *, skill: str, version: str, track: str, outcome: str, seconds: float
    ):
        SKILL_VERSION_RUNS.labels(skill, version, track, outcome).inc()

    def model_use(self, *, skill: str, model: str, tokens_in: int, tokens_out: int, cost: float):
        if tokens_in > 0:
            LLM_TOKENS.labels(skill, model, "input").inc(tokens_in)
        if tokens_out > 0:
            LLM_TOKENS.labels(skill, model, "output").inc(tokens_out)
        if cost > 0:
            LLM_COST.labels(skill, model).inc(cost)


RECORDER = PrometheusRecorder()


def enable(skills: Iterable[tuple[str, str, str]] = ()) -> None:
    """Count this process's skill runs from now on; ``skills`` are (domain, role, skill)
    whose series start at zero."""
    metrics.install(RECORDER)
    for domain, role, skill in skills:
        for outcome in metrics.OUTCOMES:
            SKILL_RUNS.labels(domain, role, skill, outcome)
        SKILL_SECONDS.labels(domain, role, skill)


def gauge_families(samples: Iterable[Gauge]) -> Iterator[Metric]:
    """Gauge samples as metric families, one per name (in first-seen order)."""
    families: dict[str, GaugeMetricFamily] = {}
    for sample in samples:
        family = families.get(sample.name)
        if family is None:
            names = [k for k, _ in sample.labels]
            family = families[sample.name] = GaugeMetricFamily(
                sample.name, sample.help, labels=names
            )
        family.add_metric([v for _, v in sample.labels], float(sample.value))
    yield from families.values()


class GaugeCollector:
    """A collector that asks ``source`` for its gauges at every scrape (a failing source is
    logged and leaves its gauges out; the scrape still answers)."""

    def __init__(self, source: Callable[[], Iterable[Gauge]]):
        self.source = source

    def collect(self) -> Iterator[Metric]:
        try:
            samples = list(self.source())
        except Exception:
            log.warning("business gauges failed at scrape time", exc_info=True)
            return iter(())
        return gauge_families(samples)


class _ProcessCounters:
    """The client's default registry: the counters above and the process/Python collectors."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def registry(source: Callable[[], Iterable[Gauge]] | None = None) -> CollectorRegistry:
    """What one ``/metrics`` endpoint exposes."""
    found = CollectorRegistry(support_collectors_without_names=True)
    found.register(_ProcessCounters())
    if source is not None:
        found.register(GaugeCollector(source))
    return found


def wsgi_app(source: Callable[[], Iterable[Gauge]] | None = None):
    """The WSGI app answering a scrape (text format, or OpenMetrics when asked for)."""
    return make_wsgi_app(registry(source))
