"""Priority scoring P1–P5 from hours stuck relative to the reason's SLA and the amount in the
base currency. Both inputs go through rising piecewise-linear bands, so the score, and with it
the priority, is monotonic: more hours or more money never lowers the priority."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

PRIORITIES = ("P1", "P2", "P3", "P4", "P5")


@dataclass(frozen=True)
class Score:
    priority: str
    score: float
    why: str
    amount_base: float
    sla_ratio: float


def _interpolate(bands: list[list[float]], x: float) -> float:
    xs = [b[0] for b in bands]
    if x <= xs[0]:
        return float(bands[0][1])
    if x >= xs[-1]:
        return float(bands[-1][1])
    i = bisect_right(xs, x) - 1
    (x0, y0), (x1, y1) = bands[i], bands[i + 1]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


class Scorer:
    """Scores orders with the thresholds and weights of shared/config/scoring.yaml."""

    def __init__(self, config: dict):
        self.rates = config["rates_to_base"]
        self.base = config["base_currency"]
        self.w_time = float(config["weights"]["time"])
        self.w_amount = float(config["weights"]["amount"])
        self.time_bands = config["time_bands"]
        self.amount_bands = config["amount_bands"]
        self.thresholds = [(p, float(config["priorities"][p])) for p in PRIORITIES[:-1]]
        for name, bands in (("time_bands", self.time_bands), ("amount_bands", self.amount_bands)):
            pairs = list(zip(bands, bands[1:], strict=False))
            if any(a[0] >= b[0] or a[1] > b[1] for a, b in pairs):
                raise ValueError(f"scoring.yaml: {name} must rise (monotonic scoring)")

    def to_base(self, amount: float, currency: str) -> float:
        rate = self.rates.get(currency)
        if rate is None:
            raise ValueError(f"scoring.yaml has no rate for currency {currency}")
        return float(amount) * float(rate)

    def priority_of(self, score: float) -> str:
        for priority, minimum in self.thresholds:
            if score >= minimum:
                return priority
        return PRIORITIES[-1]

    def score(self, hours: float, sla_hours: float, amount: float, currency: str) -> Score:
        ratio = max(0.0, hours) / max(float(sla_hours), 0.1)
        base = self.to_base(amount, currency)
        value = round(
            self.w_time * _interpolate(self.time_bands, ratio)
            + self.w_amount * _interpolate(self.amount_bands, base),
            2,
        )
        priority = self.priority_of(value)
        state = "over SLA" if ratio >= 1 else "within SLA"
        why = (
            f"{hours:.0f}h stuck vs {sla_hours:g}h SLA ({ratio:.1f}×, {state}); "
            f"{base:,.0f} {self.base}"
        )
        return Score(priority, value, why, round(base, 2), round(ratio, 3))
