"""pattern-intelligence: flag reasons, corridors and partners stuck far above their baseline
(the Poisson rule documented in bot/triage/patterns.py and the skill's SKILL.md), with the
counts per stuck reason that the report's chart draws."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from bot.clock import parse_ts, ts
from bot.runtime.skill_run import SkillContext
from bot.triage.patterns import Anomaly, detect

REASONS_CHARTED = 12


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
        "by_reason": by_reason(rows, ctx.at, config, anomalies),
    }


def by_reason(rows: list[dict], at: datetime, config: dict, anomalies: list[Anomaly]) -> list:
    """Per stuck reason: orders stuck in the recent window, the baseline's expected count for
    one such window (the rule's λ, floored as it is) and whether the rule flagged it; the
    flagged reasons first, then the busiest, at most REASONS_CHARTED."""
    start_recent = at - timedelta(hours=config["recent_hours"])
    start_base = start_recent - timedelta(days=config["baseline_days"])
    windows = config["baseline_days"] * 24 / config["recent_hours"]
    recent: Counter[str] = Counter()
    base: Counter[str] = Counter()
    for r in rows:
        when = parse_ts(r["stuck_since"])
        if when >= start_recent:
            recent[str(r["stuck_reason"])] += 1
        elif when >= start_base:
            base[str(r["stuck_reason"])] += 1
    flagged = {a.value for a in anomalies if a.dimension == "stuck_reason"}
    series = [
        {
            "reason": reason,
            "recent": recent[reason],
            "baseline": round(max(base[reason] / windows, config["min_baseline"]), 2),
            "flagged": reason in flagged,
        }
        for reason in set(recent) | set(base)
    ]
    series.sort(key=lambda s: (not s["flagged"], -s["recent"], -s["baseline"], s["reason"]))
    return series[:REASONS_CHARTED]
