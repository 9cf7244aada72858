"""run-ecm: the dashboard. Open tickets by status, priority, reason and agent; SLA breaches
measured live from the warehouse; tickets resolved today with the median time to resolve; and
the last triage (when, by whom, how it ended and the counts its summary showed); who is away
and today's handovers."""

from __future__ import annotations

import json
import re
from collections import Counter
from statistics import median

from bot.clock import hours_between, parse_ts, ts
from bot.runtime.skill_run import SkillContext
from bot.stores.away import AwayStore

OPEN = ("ASSIGNED", "IN_PROGRESS", "WAITING", "ESCALATED")


def minutes(text: object) -> float | None:
    """Minutes from a 'Time To Resolve' cell such as '6 min' or '2h 05m'."""
    m = re.match(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$", str(text or ""))
    if not m or not any(m.groups()):
        return None
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0)


def run(ctx: SkillContext, **_: object) -> dict:
    for tool in ("read_dashboard", "read_roster"):
        ctx.tool(tool)
    rows = ctx.workbook.read("Assignments")
    open_rows = [r for r in rows if r["Status"] in OPEN]
    reasons = ctx.resources.stuck_reasons()
    pending = {o["order_id"]: o for o in ctx.query("ecm-pending-list")}
    breaches = []
    for r in open_rows:
        order = pending.get(r["Order ID"])
        sla = (reasons.get(r["Stuck Reason"]) or {}).get("sla_hours")
        if order is None or sla is None:
            continue
        hours = hours_between(parse_ts(order["stuck_since"]), ctx.at)
        if hours > sla:
            breaches.append(
                {
                    "order_id": r["Order ID"],
                    "reason": r["Stuck Reason"],
                    "agent": r["Assigned Agent"],
                    "priority": r["Priority"],
                    "hours": round(hours, 1),
                    "sla_hours": sla,
                    "status": r["Status"],
                }
            )
    breaches.sort(key=lambda b: (b["priority"], -b["hours"] / b["sla_hours"], b["order_id"]))
    today = ts(ctx.at)[:10]
    resolved = [
        r for r in ctx.workbook.read("Resolutions") if str(r["Resolved At"]).startswith(today)
    ]
    durations = [m for m in (minutes(r["Time To Resolve"]) for r in resolved) if m is not None]
    by_reason_wh = ctx.query("ecm-dashboard-counts")
    ctx.metrics["sla_breaches"] = len(breaches)
    return {
        "open": len(open_rows),
        "by_status": dict(Counter(r["Status"] for r in open_rows).most_common()),
        "by_priority": dict(sorted(Counter(r["Priority"] for r in open_rows).items())),
        "by_reason": dict(Counter(r["Stuck Reason"] for r in open_rows).most_common()),
        "by_agent": dict(
            Counter(r["Assigned Agent"] or "(unassigned)" for r in open_rows).most_common()
        ),
        "sla_breaches": breaches,
        "resolved_today": len(resolved),
        "median_minutes_to_resolve": median(durations) if durations else None,
        "stuck_in_warehouse": sum(int(r["stuck_orders"]) for r in by_reason_wh),
        "not_on_sheet": len(set(pending) - {r["Order ID"] for r in rows}),
        "last_triage": last_triage(ctx),
        **away_now(ctx),
    }


def away_now(ctx: SkillContext) -> dict:
    """Who is away (until when) and today's handovers by kind (``bot/stores/away.py``)."""
    store = AwayStore(ctx.stores.db)
    away = sorted(store.away_at(ctx.at).values(), key=lambda a: (a.until, a.agent))
    return {
        "away": [{"agent": a.agent, "until": a.until} for a in away],
        "handovers_today": store.count_by_kind(since=ts(ctx.at)[:10]),
    }


def last_triage(ctx: SkillContext) -> dict | None:
    """The newest finished triage that wrote: when it ran, by whom, ``done`` or ``failed``,
    and the counts its summary showed (None before the first)."""
    run = ctx.stores.state.last_triage_run()
    if run is None:
        return None
    try:
        counts = json.loads(run.get("summary") or "{}")
    except ValueError:
        counts = {}
    return {
        "run_id": run["id"],
        "started_at": run["started_at"],
        "finished_at": run["finished_at"],
        "started_by": run["started_by"],
        "status": run["status"],
        "counts": counts if isinstance(counts, dict) and run["status"] == "done" else {},
    }
