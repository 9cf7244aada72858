"""Charts as data, drawn only when a surface needs the picture.

A chart is described here with no drawing library (``ReasonChart``: stuck orders per reason,
the recent window against its baseline, the flagged spikes marked); ``png`` draws it with the
one adapter, ``bot.charts.mpl`` (matplotlib, Agg backend), imported on the first draw. So
building a result's view, ``ecm-bot --help`` and every module that only names a chart load no
plotting library."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

MAX_BARS = 12
"""A chart shows at most this many reasons (the flagged ones first, then the busiest)."""


@dataclass(frozen=True)
class Bar:
    """One stuck reason: orders that became stuck in the recent window, the baseline's
    expected count for a window of that length, and whether the rule flagged it."""

    label: str
    recent: int
    baseline: float
    flagged: bool = False


@dataclass(frozen=True)
class ReasonChart:
    """Stuck orders per reason: the recent window's counts beside the baseline's."""

    title: str
    bars: tuple[Bar, ...]
    recent_label: str  # "last 24h"
    baseline_label: str  # "expected (previous 7 days)"

    def alt(self) -> str:
        """The chart in words: what it compares, and each flagged reason with its figures."""
        flagged = [b for b in self.bars if b.flagged]
        said = "; ".join(f"{b.label} {b.recent} vs {b.baseline:g} expected" for b in flagged)
        head = (
            f"{self.title}: {len(self.bars)} reasons, {self.recent_label} against "
            f"{self.baseline_label}"
        )
        return head + (f"; spikes: {said}" if said else "; no spikes")


@lru_cache(maxsize=16)
def png(chart: ReasonChart) -> bytes:
    """The chart as PNG bytes (imports the plotting adapter on first use). A chart is a frozen
    value and its picture depends on nothing else, so the last few are kept: the pattern
    report and the digest of one daily flow carry the same chart, drawn once (about 0.15 s)."""
    from bot.charts.mpl import draw_reasons

    return draw_reasons(chart)
