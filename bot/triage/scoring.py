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


class Band:
    """A rising piecewise-linear band, prepared once: its x values for the search and, per
    segment, ``(x0, y0, y1 - y0, x1 - x0)``, so a point costs one bisect and the same
    arithmetic, in the same order, as interpolating the raw ``[x, y]`` pairs."""

    __slots__ = ("first", "last", "low", "high", "segments", "xs")

    def __init__(self, bands: list[list[float]]):
        self.xs = [b[0] for b in bands]
        self.first, self.last = self.xs[0], self.xs[-1]
        self.low, self.high = float(bands[0][1]), float(bands[-1][1])
        self.segments = [
            (x0, y0, y1 - y0, x1 - x0) for (x0, y0), (x1, y1) in zip(bands, bands[1:], strict=False)
        ]

    def at(self, x: float) -> float:
        if x <= self.first:
            return self.low
        if x >= self.last:
            return self.high
        x0, y0, dy, dx = self.segments[bisect_right(self.xs, x) - 1]
        return y0 + dy * (x - x0) / dx


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
        self.time_band, self.amount_band = Band(self.time_bands), Band(self.amount_bands)
        self._rates = {c: float(r) for c, r in self.rates.items()}
        minimums = [m for _, m in self.thresholds]
        falling = all(a > b for a, b in zip(minimums, minimums[1:], strict=False))
        # thresholds that fall from P1 to P4 (as configured): a bisect finds the first met
        self._ascending = minimums[::-1] if falling else None
        self._by_met = [PRIORITIES[len(minimums) - k] for k in range(len(minimums) + 1)]

    def to_base(self, amount: float, currency: str) -> float:
        rate = self.rates.get(currency)
        if rate is None:
            raise ValueError(f"scoring.yaml has no rate for currency {currency}")
        return float(amount) * float(rate)

    def priority_of(self, score: float) -> str:
        if self._ascending is not None and score == score:  # not NaN: meets no threshold
            return self._by_met[bisect_right(self._ascending, score)]
        for priority, minimum in self.thresholds:
            if score >= minimum:
                return priority
        return PRIORITIES[-1]

    def amount_part(self, amount: float, currency: str) -> tuple[float, float]:
        """The amount's share of the score, ``(base amount, weighted amount points)``: it
        does not move with the clock, so triage computes it once per order."""
        rate = self._rates.get(currency)
        if rate is None:
            raise ValueError(f"scoring.yaml has no rate for currency {currency}")
        base = float(amount) * rate
        return base, self.w_amount * self.amount_band.at(base)

    def value(self, ratio: float, amount_points: float) -> float:
        """The score for an SLA ratio and an order's weighted amount points (``amount_part``):
        the same arithmetic as ``score``, without building the explanation."""
        return round(self.w_time * self.time_band.at(ratio) + amount_points, 2)

    def score(self, hours: float, sla_hours: float, amount: float, currency: str) -> Score:
        ratio = max(0.0, hours) / max(float(sla_hours), 0.1)
        base, amount_points = self.amount_part(amount, currency)
        value = self.value(ratio, amount_points)
        priority = self.priority_of(value)
        state = "over SLA" if ratio >= 1 else "within SLA"
        why = (
            f"{hours:.0f}h stuck vs {sla_hours:g}h SLA ({ratio:.1f}×, {state}); "
            f"{base:,.0f} {self.base}"
        )
        return Score(priority, value, why, round(base, 2), round(ratio, 3))
