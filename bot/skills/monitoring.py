"""Each skill's monitoring thresholds (``monitoring`` in aspora.config.yaml) applied to its
figures: a success rate below ``success_rate_threshold``, a p95 latency above
``latency_p95_threshold`` (seconds), and failures of a skill with ``alert_on_failure``."""

from __future__ import annotations

from bot.skills.loader import Skill


def breaches(skill: Skill, figures: dict) -> list[str]:
    """What in ``figures`` (executions, success_rate, p95_ms, failures) breaks the skill's
    thresholds, in plain words; empty when everything is within them."""
    limits = skill.config.monitoring
    found: list[str] = []
    rate = figures.get("success_rate")
    if rate is not None and figures.get("executions") and rate < limits.success_rate_threshold:
        found.append(f"success rate {rate:.1%} is below {limits.success_rate_threshold:.0%}")
    p95_ms = figures.get("p95_ms")
    if p95_ms is not None and p95_ms > limits.latency_p95_threshold * 1000:
        found.append(f"p95 {p95_ms / 1000:.1f} s is above {limits.latency_p95_threshold:g} s")
    failures = int(figures.get("failures") or 0)
    if limits.alert_on_failure and failures:
        found.append(f"{failures} failed run{'s' if failures != 1 else ''}")
    return found
