"""Where alerts go: the small interface every destination implements, and what it is given.

A destination is told one ``Notice`` at a time: ``trigger`` (an alert opened) or ``resolve``
(it recovered). It returns a reference (Slack: the message ts, which a resolution replies
to; PagerDuty: the dedup key) or raises ``ChannelDown`` (unreachable, rate-limited, 5xx: the
delivery is kept and retried on the next pass) or ``ChannelRejected`` (the request itself
was refused, e.g. PagerDuty's 400: retrying cannot help, so it is recorded and dropped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.errors import AdapterError

TRIGGER, RESOLVE = "trigger", "resolve"


class ChannelDown(AdapterError):
    """The destination did not take the notice (network, 429, 5xx); try again later."""


class ChannelRejected(AdapterError):
    """The destination refused the notice as malformed; sending it again cannot help."""


@dataclass(frozen=True)
class Notice:
    """One alert's opening or resolution, as a destination sends it."""

    key: str  # "<subject>:<rule>", e.g. "triage-and-assign:failure"
    subject: str  # a skill name, or "sheets-sync"
    rule: str
    action: str  # TRIGGER or RESOLVE
    severity: str  # critical | error | warning | info (PagerDuty's values)
    summary: str
    details: dict = field(default_factory=dict)
    opened_at: str = ""
    resolved_at: str = ""
    ref: str | None = None  # a resolution: the reference its trigger's delivery returned

    @property
    def dedup_key(self) -> str:
        """Stable per subject and rule: a repeat trigger folds in, a resolve closes it."""
        return f"ecm-bot:{self.key}"

    def lines(self) -> list[tuple[str, str]]:
        """(label, text) lines: the figure against its threshold, the window, the last
        error and how to see the trace."""
        d = self.details
        out = []
        if d.get("figure"):
            against = f" (threshold: {d['threshold']})" if d.get("threshold") else ""
            out.append(("Figure", f"{d['figure']}{against}"))
        if d.get("window"):
            out.append(("Window", d["window"]))
        if d.get("last_error"):
            out.append(("Last error", d["last_error"]))
        if d.get("see"):
            out.append(("Trace" if d["see"].startswith("ecm-bot trace") else "See", d["see"]))
        if self.action == RESOLVE and self.opened_at:
            out.append(("Open", f"since {self.opened_at} UTC, resolved {self.resolved_at} UTC"))
        return out

    def text(self) -> str:
        """The notice as plain text (a title line, then one line per fact)."""
        return "\n".join([self.title(), *(f"{k}: {v}" for k, v in self.lines())])

    def title(self) -> str:
        if self.action == RESOLVE:
            return f"Resolved: {self.summary}"
        return f"ECM alert ({self.severity}): {self.summary}"


class AlertChannel(Protocol):
    """A destination of alerts (Slack, PagerDuty)."""

    name: str

    def send(self, notice: Notice) -> str | None:
        """Deliver ``notice``; return its reference, or raise ChannelDown / ChannelRejected."""
        ...
