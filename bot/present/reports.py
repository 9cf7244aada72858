"""The manager's reports with a picture: the pattern report and the daily digest, each the
text view of ``bot.present.manager`` plus a chart of stuck orders per reason (``bot.charts``),
the recent window against its baseline with the flagged spikes marked. The chart is drawn
only when a surface asks for its PNG (Slack uploads it, the CLI writes it to a file)."""

from __future__ import annotations

from functools import partial

from bot.charts import Bar, ReasonChart, png
from bot.present import as_view, manager, presenter
from bot.present.model import Figure, View

CHART_FILE = "ecm-stuck-by-reason.png"


def reason_chart(data: dict) -> ReasonChart | None:
    """The chart of a pattern result's ``by_reason`` series (None when it has none)."""
    series = data.get("by_reason") or []
    if not series:
        return None
    days, hours = data["baseline_days"], data["window_hours"]
    return ReasonChart(
        title=f"Stuck orders per reason — last {hours}h vs the previous {days} days",
        bars=tuple(
            Bar(str(s["reason"]), int(s["recent"]), float(s["baseline"]), bool(s["flagged"]))
            for s in series
        ),
        recent_label=f"last {hours}h",
        baseline_label=f"expected per {hours}h (previous {days} days)",
    )


def chart_figure(data: dict) -> Figure | None:
    chart = reason_chart(data)
    if chart is None:
        return None
    return Figure(CHART_FILE, chart.title, chart.alt(), partial(png, chart))


def _with_chart(view: View, patterns: dict) -> View:
    figure = chart_figure(patterns)
    return view.add(figure) if figure else view


@presenter
def pattern_report(data: dict) -> View:
    """The anomalies (``manager.patterns``) and the chart of stuck orders per reason."""
    return _with_chart(as_view(manager.patterns(data)), data)


@presenter
def daily_digest(data: dict) -> View:
    """The digest (``manager.daily``) and the patterns' chart."""
    return _with_chart(as_view(manager.daily(data)), data["patterns"])
