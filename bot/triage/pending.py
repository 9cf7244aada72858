"""Scoring the whole pending list, with exactly the scores ``Scorer.score`` gives each order.

Per order it computes only the score and priority, with the scorer's prepared bands and the
same arithmetic in the same order; the explanation (``Score.why``) is written only for the
orders that need one (assigned or escalated), by ``Scorer.score`` itself. Every score moves
with the clock, so each triage scores every pending order: this pass is most of triage's
floor (tests/test_triage_equivalence.py pins it to the straightforward computation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from bot.clock import parse_ts
from bot.triage.scoring import Scorer

DEFAULT_REASON: dict[str, Any] = {
    "team": "ops",
    "sla_hours": 24,
    "actions": [],
    "escalate_to": "ECM manager",
}
"""What triage assumes of a stuck reason the config does not know."""


class Scored(NamedTuple):
    """One pending order scored at a moment; also the planner's ticket (its first four
    fields are ``bot.triage.assign.Ticket``'s)."""

    order_id: str
    priority: str
    score: float
    team: str
    order: dict[str, Any]
    reason: dict[str, Any]
    hours: float  # unrounded hours stuck at the moment


def score_pending(
    pending: list[dict], reasons: dict[str, dict], scorer: Scorer, moment: datetime
) -> list[Scored]:
    """Every pending order scored at ``moment``, in the pending list's order."""
    band, w_time, priority_of = scorer.time_band, scorer.w_time, scorer.priority_of
    amount_part = scorer.amount_part
    divisors: dict[int, float] = {}  # per reason entry: max(SLA hours, 0.1)
    scored: list[Scored] = []
    append = scored.append
    for o in pending:
        reason = reasons.get(o["stuck_reason"]) or DEFAULT_REASON
        divisor = divisors.get(id(reason))
        if divisor is None:
            divisor = divisors[id(reason)] = max(float(reason["sla_hours"]), 0.1)
        hours = max(0.0, (moment - parse_ts(o["stuck_since"])).total_seconds() / 3600)
        value = round(
            w_time * band.at(hours / divisor) + amount_part(o["amount"], o["currency"])[1], 2
        )
        append(Scored(o["order_id"], priority_of(value), value, reason["team"], o, reason, hours))
    return scored
