"""my-tickets: the caller's open tickets, highest priority first, with live hours stuck (one
warehouse round trip for the whole queue), the knowledge-graph diagnosis and action steps."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.clock import hours_between, parse_ts, ts
from bot.errors import AccessDenied, InputError
from bot.ids import order_id as valid_order_id
from bot.sla.digest import shift_notes
from bot.stores.away import AwayStore
from bot.stores.snoozes import Snoozes
from bot.stores.workbook import OPEN_STATUSES, WAITING

if TYPE_CHECKING:
    from bot.runtime.skill_run import SkillContext

log = logging.getLogger(__name__)
HANDED_FOR = timedelta(days=1)
"""A ticket handed over from an away colleague is marked so in the queue for this long."""


def to_float(value: object) -> float | None:
    """A workbook cell (text, like Google Sheets) as a number, or None."""
    try:
        return float(str(value).replace(",", "").strip())
    except (TypeError, ValueError):
        return None


def priority_rank(priority: object) -> tuple[int, str]:
    """P1 < P2 < P3; anything unexpected sorts last."""
    text = str(priority or "").strip().upper()
    if len(text) == 2 and text[0] == "P" and text[1].isdigit():
        return int(text[1]), text
    return 99, text


def start_at(start: object) -> int:
    """Where a page of the queue starts (Show more, ``my tickets from 11``): the 1-based
    position ``start`` as an index; anything but a whole number ≥ 1 is the top (0)."""
    try:
        return max(0, int(str(start or 1).strip()) - 1)
    except ValueError:
        return 0


def run(ctx: SkillContext, start: object = None, **_: object) -> dict:
    for tool in ("read_my_queue", "read_config"):
        ctx.tool(tool)
    rows = [  # open tickets only, from the index: the closed history is never read
        r
        for r in ctx.workbook.read("Assignments", {"Status": OPEN_STATUSES})
        if r.get("Status") in OPEN_STATUSES
    ]
    ctx.metrics["active_agents"] = 1 if rows else 0
    if not rows:
        return {
            **_away_notes(ctx),
            "agent": ctx.caller.email,
            "count": 0,
            "by_priority": {},
            "tickets": [],
            "offset": 0,
            "live": True,
            "live_error": None,
        }

    ids: list[str] = []
    for r in rows:
        try:
            ids.append(valid_order_id(r.get("Order ID")))
        except InputError:
            log.warning("Assignments row with a malformed order id %r", r.get("Order ID"))
    ctx.order_ids = sorted(set(ids))

    live: dict[str, dict] = {}
    live_error = None
    if ids:
        try:
            found = ctx.query("ecm-orders-live-status", order_ids=list(ctx.order_ids))
            wanted = set(ids)
            live = {str(o["order_id"]): o for o in found if str(o["order_id"]) in wanted}
        except AccessDenied:
            raise
        except Exception as exc:
            log.warning("live status query failed: %s", exc)
            live_error = "the live status query failed; hours are as of triage"

    reasons = ctx.resources.stuck_reasons()
    tickets = [_ticket(ctx, r, live, reasons, live_error is None) for r in rows]
    _mark_snoozes(ctx, rows, tickets)
    handed = AwayStore(ctx.stores.db).handed_to(ctx.caller.email, ts(ctx.at - HANDED_FOR))
    for t in tickets:  # handed over from an away colleague (in the last day)
        if t["order_id"] in handed:
            t["handed_from"] = handed[t["order_id"]].from_agent
    tickets.sort(  # back from a snooze first, the waiting ones last, else most urgent first
        key=lambda t: (
            0 if t.get("back") else 2 if t["status"] == WAITING else 1,
            priority_rank(t["priority"]),
            -(t["hours"] or 0),
            t["order_id"],
        )
    )
    return {
        **_away_notes(ctx),
        "agent": ctx.caller.email,
        "count": len(tickets),
        "by_priority": dict(
            sorted(
                Counter(t["priority"] for t in tickets).items(), key=lambda kv: priority_rank(kv[0])
            )
        ),
        "tickets": tickets,
        "offset": start_at(start),  # the page to show: PAGE tickets from this index
        "live": live_error is None,
        "live_error": live_error,
    }


def _away_notes(ctx: SkillContext) -> dict:
    """Whether the caller is away (until when), and the shift handovers of teammates whose
    shift just ended (counts only: those tickets stay theirs)."""
    away = AwayStore(ctx.stores.db).current(ctx.caller.email, ctx.at)
    return {
        "away_until": away.until if away else None,
        "shift_notes": shift_notes(ctx.stores, ctx.caller, ctx.at),
    }


def _mark_snoozes(ctx: SkillContext, rows: list[dict], tickets: list[dict]) -> None:
    """A WAITING ticket gets its until-time and note; one whose snooze ended and which has not
    changed since (its Updated At is the wake's) is ``back``, to the top of the queue."""
    snoozes = Snoozes(ctx.stores.db).of_agent(ctx.caller.email)
    if not snoozes:
        return
    updated = {str(r.get("Order ID") or "").strip().upper(): r.get("Updated At") for r in rows}
    for t in tickets:
        s = snoozes.get(t["order_id"])
        if s is None:
            continue
        if t["status"] == WAITING and s.woken_at is None:
            t["waiting_until"], t["waiting_note"] = s.until, s.note
        elif s.woken_at and str(updated.get(t["order_id"]) or "") == s.woken_at:
            t["back"], t["back_note"] = True, s.note


def _ticket(ctx: SkillContext, row: dict, live: dict, reasons: dict, live_ok: bool) -> dict:
    oid = str(row.get("Order ID") or "").strip().upper()
    order = live.get(oid)
    code = str(row.get("Stuck Reason") or (order or {}).get("stuck_reason") or "").strip()
    reason = reasons.get(code) or {}
    knowledge = ctx.resources.knowledge(code) if code in reasons else {}
    hours: float | None
    if order is not None and order.get("stuck_since"):
        hours, source = round(hours_between(parse_ts(order["stuck_since"]), ctx.at), 1), "live"
    else:
        hours, source = to_float(row.get("Hours Stuck at triage")), "triage"
    warehouse_status = str(order["status"]) if order is not None else None
    if order is None:
        note = "not found in the warehouse — check the order ID" if live_ok else None
    elif warehouse_status != "STUCK":
        note = f"cleared in warehouse ({warehouse_status}) — resolve it"
    else:
        note = None
    amount = to_float(row.get("Amount"))
    return {
        "priority": str(row.get("Priority") or "").strip() or "P?",
        "order_id": oid,
        "amount": amount if amount is not None else row.get("Amount"),
        "currency": str(row.get("Currency") or (order or {}).get("currency") or ""),
        "hours": hours,
        "hours_source": source,
        "status": row.get("Status"),
        "warehouse_status": warehouse_status,
        "cleared": warehouse_status is not None and warehouse_status != "STUCK",
        "note": note,
        "reason": code,
        "title": reason.get("title", ""),
        "sla_hours": reason.get("sla_hours"),
        "diagnosis": " ".join(str(knowledge.get("diagnosis") or "").split()),
        "actions": list(reason.get("actions") or []),
    }
