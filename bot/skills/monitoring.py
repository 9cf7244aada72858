"""Each skill's monitoring thresholds (``monitoring`` in aspora.config.yaml) applied to its
figures: a success rate below ``success_rate_threshold``, a p95 latency above
``latency_p95_threshold`` (seconds), and failures of a skill with ``alert_on_failure``."""

from __future__ import annotations

from bot.skills.loader import Skill
from bot.skills.schema import Monitoring


def rate_low(limits: Monitoring, rate: float) -> bool:
    """A success rate (0-1) below the skill's ``success_rate_threshold``."""
    return rate < limits.success_rate_threshold


def p95_high(limits: Monitoring, p95_ms: float) -> bool:
    """A p95 (milliseconds) above the skill's ``latency_p95_threshold`` (seconds)."""
    return p95_ms > limits.latency_p95_threshold * 1000


def breaches(skill: Skill, figures: dict) -> list[str]:
    """What in ``figures`` (executions, success_rate, p95_ms, failures) breaks the skill's
    thresholds, in plain words; empty when everything is within them."""
    limits = skill.config.monitoring
    found: list[str] = []
    rate = figures.get("success_rate")
    if rate is not None and figures.get("executions") and rate_low(limits, rate):
        found.append(f"success rate {rate:.1%} is below {limits.success_rate_threshold:.0%}")
    p95_ms = figures.get("p95_ms")
    if p95_ms is not None and p95_high(limits, p95_ms):
        found.append(f"p95 {p95_ms / 1000:.1f} s is above {limits.latency_p95_threshold:g} s")
    failures = int(figures.get("failures") or 0)
    if limits.alert_on_failure and failures:
        found.append(f"{failures} failed run{'s' if failures != 1 else ''}")
    return found
