"""Anomaly detection for pattern-intelligence.

Rule: for each value of each dimension (stuck reason, corridor, payout partner), observed =
orders that became stuck in the last ``recent_hours``; baseline λ = orders per recent window
over the previous ``baseline_days`` days, floored at ``min_baseline``. A value is flagged when
observed ≥ ``min_count`` and the Poisson upper tail P(X ≥ observed | λ) < ``p_value``.
Flagged values are ranked by that probability, smallest first.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import parse_ts


@dataclass(frozen=True)
class Anomaly:
    dimension: str
    value: str
    observed: int
    baseline: float
    ratio: float
    p_value: float


def poisson_upper_tail(k: int, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(λ). Above the mean: summed upward from k in log space (exact
    for small tails). At or below the mean: 1 − P(X < k), summed downward from k − 1, because
    there the first upward term can underflow to 0 for a large λ and give a false p of 0."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    if k <= lam:
        term = math.exp(-lam + (k - 1) * math.log(lam) - math.lgamma(k))
        lower, i = 0.0, k - 1
        while term > 0 and term >= lower * 1e-17:
            lower += term
            term *= i / lam
            i -= 1
        return max(0.0, 1.0 - lower)
    term = math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1))
    total, i = 0.0, k
    while term > 1e-300 and (i < lam + 50 or term > total * 1e-16):
        total += term
        i += 1
        term *= lam / i
    return min(1.0, total)


def detect(rows: list[dict], now: datetime, config: dict) -> list[Anomaly]:
    """Flag anomalies in ``rows`` (orders with stuck_since and the dimension columns)."""
    recent = timedelta(hours=config["recent_hours"])
    windows = config["baseline_days"] * 24 / config["recent_hours"]
    start_recent = now - recent
    start_base = start_recent - timedelta(days=config["baseline_days"])
    found: list[Anomaly] = []
    for dim in config["dimensions"]:
        observed: Counter[object] = Counter()
        base: Counter[object] = Counter()
        for r in rows:
            when = parse_ts(r["stuck_since"])
            if when >= start_recent:
                observed[r[dim]] += 1
            elif when >= start_base:
                base[r[dim]] += 1
        for value, seen in observed.items():
            lam = max(base[value] / windows, config["min_baseline"])
            if seen < config["min_count"]:
                continue
            p = poisson_upper_tail(seen, lam)
            if p < config["p_value"]:
                found.append(Anomaly(dim, str(value), seen, round(lam, 2), round(seen / lam, 1), p))
    return sorted(found, key=lambda a: (a.p_value, -a.observed, a.dimension, a.value))
