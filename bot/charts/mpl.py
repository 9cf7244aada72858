"""The matplotlib adapter: the only module that imports matplotlib (tested). It uses the Agg
backend through the object API (``Figure``, no pyplot state), so drawing is safe from any
thread and needs no display."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.charts import ReasonChart

RECENT, BASELINE, SPIKE = "#1f77b4", "#b0b7c3", "#d62728"


def draw_reasons(chart: ReasonChart) -> bytes:
    """Horizontal bars per reason, busiest on top: the recent window and the baseline side
    by side; a flagged reason's recent bar is red, marked ▲ with its ratio."""
    bars = list(reversed(chart.bars))  # barh draws bottom-up
    height = 1.6 + 0.42 * max(len(bars), 1)
    figure = Figure(figsize=(8.5, height), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ys = range(len(bars))
    ax.barh(
        [y - 0.2 for y in ys],
        [b.baseline for b in bars],
        height=0.38,
        color=BASELINE,
        label=chart.baseline_label,
    )
    ax.barh(
        [y + 0.2 for y in ys],
        [b.recent for b in bars],
        height=0.38,
        color=[SPIKE if b.flagged else RECENT for b in bars],
        label=chart.recent_label,
    )
    top = max([b.recent for b in bars] + [b.baseline for b in bars] + [1])
    for y, b in zip(ys, bars, strict=True):
        if b.flagged:
            ratio = b.recent / b.baseline if b.baseline else float("inf")
            ax.text(
                b.recent + top * 0.01,
                y + 0.2,
                f"▲ spike {ratio:.1f}×",
                va="center",
                fontsize=8,
                color=SPIKE,
                fontweight="bold",
            )
    ax.set_yticks(list(ys), [b.label for b in bars], fontsize=8)
    ax.set_xlim(0, top * 1.25)
    ax.set_xlabel("stuck orders")
    ax.set_title(chart.title, fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    if not bars:
        ax.text(0.5, 0.5, "no stuck orders in the window", ha="center", transform=ax.transAxes)
    handles, labels = ax.get_legend_handles_labels()
    if any(b.flagged for b in bars):
        from matplotlib.patches import Patch

        handles.append(Patch(color=SPIKE, label="flagged spike"))
        labels.append("flagged spike")
    ax.legend(handles, labels, loc="lower right", fontsize=8)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
