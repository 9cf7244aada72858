"""unowned-orders: every stuck order nobody is working on, a page at a time, most urgent
first, scored as triage scores them (``bot.triage.pending``): the *unassigned* ones (no row,
a CLOSED row, or an open row without an agent) or the ones triage *escalated* that are still
stuck (with their owner, if any). Reads only: what a manager's Show all opens."""

from __future__ import annotations

from bot.errors import InputError
from bot.runtime.skill_run import SkillContext
from bot.stores.workbook import OPEN_STATUSES
from bot.triage.pending import score_pending
from bot.triage.scoring import Scorer

LISTS = ("unassigned", "escalated")
PAGE = 20
"""Orders a page (two blocks each: a modal holds 100, a message 50)."""
TRIAGE = "triage"
"""The Escalations tab's From of triage's own escalations."""


def _list(value: object) -> str:
    kind = str(value or "unassigned").strip().lower()
    if kind not in LISTS:
        raise InputError(
            "There are two lists, unassigned and escalated: say `show all unassigned` or "
            "`show all escalated`."
        )
    return kind


def _start(value: object) -> int:
    """The first order to show, counted from 1 (what a person types), as an offset."""
    text = str(value if value not in (None, "") else "1").strip()
    if not text.isdigit() or int(text) < 1:
        raise InputError(
            f"'{text}' is not a place in the list; say e.g. `show all unassigned from 21`."
        )
    return int(text) - 1


def run(ctx: SkillContext, which: object = "unassigned", start: object = 1, **_: object) -> dict:
    """One page of the list ``which`` (unassigned or escalated) from ``start`` (1 = the top)."""
    kind, offset = _list(which), _start(start)
    for tool in ("read_pending_list", "score_orders", "read_roster", "read_config"):
        ctx.tool(tool)
    pending = ctx.query("ecm-pending-list")
    scored = score_pending(
        pending, ctx.resources.stuck_reasons(), Scorer(ctx.resources.scoring()), ctx.at
    )
    tabs = ctx.workbook.read_many(["Assignments", "Escalations"])
    rows = {r["Order ID"]: r for r in tabs["Assignments"]}
    escalated: dict[str, dict] = {}
    for e in sorted(tabs["Escalations"], key=lambda e: str(e.get("At") or "")):
        if str(e.get("From") or "").lower() == TRIAGE:
            escalated[e["Order ID"]] = e  # the latest one of each order
    found = []
    for entry in scored:
        row = rows.get(entry.order_id) or {}
        status, agent = str(row.get("Status") or ""), str(row.get("Assigned Agent") or "")
        owner = agent.lower() if agent and status in OPEN_STATUSES else ""
        if kind == "escalated":
            if entry.order_id not in escalated:
                continue
        elif owner or (row and status != "CLOSED" and agent):
            continue  # someone has it (or a field agent closed it: triage decides)
        found.append((entry, owner))
    found.sort(key=lambda f: (f[0].priority, -f[0].score, f[0].order_id))
    page = found[offset : offset + PAGE]
    orders = []
    for entry, owner in page:
        o, e = entry.order, escalated.get(entry.order_id) or {}
        orders.append(
            {
                "order_id": entry.order_id,
                "priority": entry.priority,
                "reason_code": o["stuck_reason"],
                "team": entry.team,
                "amount": o["amount"],
                "currency": o["currency"],
                "hours": round(entry.hours, 1),
                "target": e.get("Target") or "",
                "agent": owner,
            }
        )
    end = offset + len(page)
    return {
        "list": kind,
        "orders": orders,
        "total": len(found),
        "start": offset + 1,
        "next": end + 1 if end < len(found) else None,
        "previous": max(1, offset + 1 - PAGE) if offset else None,
        "page_size": PAGE,
    }
