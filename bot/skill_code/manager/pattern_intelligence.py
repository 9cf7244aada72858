"""pattern-intelligence: flag reasons, corridors and partners stuck far above their baseline
(the Poisson rule documented in bot/triage/patterns.py and the skill's SKILL.md)."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ts
from bot.runtime.skill_run import SkillContext
from bot.triage.patterns import detect


def run(ctx: SkillContext, **_: object) -> dict:
    ctx.tool("detect_patterns")
    config = ctx.resources.patterns()
    since = ctx.at - timedelta(hours=config["recent_hours"], days=config["baseline_days"])
    rows = ctx.query("ecm-stuck-trends", since=ts(since), now=ts(ctx.at))
    anomalies = detect(rows, ctx.at, config)
    ctx.metrics["anomalies_found"] = len(anomalies)
    return {
        "window_hours": config["recent_hours"],
        "baseline_days": config["baseline_days"],
        "rule": (
            f"observed ≥ {config['min_count']} and Poisson P(X ≥ observed | baseline) "
            f"< {config['p_value']}"
        ),
        "orders_considered": len(rows),
        "anomalies": [a.__dict__ for a in anomalies],
    }
