"""takeable-orders: the stuck orders the caller can take now, found in the system of record and
the warehouse (not in posted Slack lists): stuck for a reason whose team is one of the
caller's specializations, nobody working them (no Assignments row, a closed one, or no active
field agent on an open one: what take-ticket accepts), and room in the caller's queue.

Order: the priority the latest triage gave, where it recorded one, then time stuck, oldest
first. Triage records a priority only on the Assignments rows it writes (the orders it
assigned, "Triage Run" naming it); for the orders it left unassigned the priority is in no
table (only in the posted list's text), so those, like orders stuck since, come after the
prioritised ones, oldest first. The candidates are read oldest first, 200 a page (indexed:
warehouse status, Assignments by order ID), until a page leaves more than 5 to offer, at most
5 pages; the order and ``more`` cover the pages read (``more_is_exact``: they were all).
Never computes a priority (DEC-011); reads only; Take is take-ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.clock import hours_between, parse_ts
from bot.errors import InputError
from bot.ids import order_id as valid_order_id
from bot.skill_code.field.take_ticket import owners_of
from bot.skill_code.field.tickets import open_count

if TYPE_CHECKING:
    from bot.runtime.skill_run import SkillContext

QUERY = "ecm-stuck-for-teams"
PAGE = 200
"""Rows a page of the query returns (its LIMIT)."""
PAGES = 5
"""At most this many pages (the oldest 1,000 stuck orders of the caller's teams) are checked."""
SHOWN = 5
FIRST = ("1970-01-01 00:00:00", "")
"""The place before the first page (stuck since, order ID)."""
UNRANKED = "P~"
"""Sorts after every priority (P1…P5): the orders the latest triage gave none."""


def _ids(value: object) -> set[str]:
    """The optional filter: the valid order IDs in ``value`` (a list or a spaced string)."""
    raw = value if isinstance(value, (list, tuple)) else str(value or "").replace(",", " ").split()
    ids = set()
    for item in raw:
        try:
            ids.add(valid_order_id(item))
        except InputError:
            continue  # not an order id: nothing to filter on
    return ids


def _latest_run(ctx: SkillContext) -> str:
    """The id of the latest triage that wrote (``triage_runs``), or "" before the first."""
    last = ctx.stores.state.last_triage_run()
    return str((last or {}).get("id") or "")


def run(ctx: SkillContext, order_ids: object = (), home: object = False, **_: object) -> dict:
    """The first 5 orders the caller can take now, and how many more (``order_ids``: only
    those; ``home``: for App Home, which shows nothing rather than "nothing to take")."""
    for tool in ("read_my_queue", "run_query", "read_config"):
        ctx.tool(tool)
    held, capacity = open_count(ctx), ctx.caller.capacity
    teams = sorted(ctx.caller.specializations)
    base = {
        "held": held,
        "capacity": capacity,
        "teams": teams,
        "orders": [],
        "more": 0,
        "home": bool(home),
    }
    if held >= capacity:
        return {**base, "full": True}
    reasons = ctx.resources.stuck_reasons()
    team_of = {code: str(r.get("team") or "").strip().lower() for code, r in reasons.items()}
    codes = sorted(c for c, t in team_of.items() if t in ctx.caller.specializations)
    only = _ids(order_ids)
    latest = _latest_run(ctx) if codes else ""
    found: list[tuple[str, str, dict]] = []  # (priority, stuck since, order)
    after, checked_all = FIRST, True
    for _page in range(PAGES) if codes else ():
        got = ctx.query(QUERY, reason_codes=codes, after_since=after[0], after_id=after[1])
        if got:
            after = (str(got[-1]["stuck_since"]), str(got[-1]["order_id"]))
        page = [o for o in got if not only or str(o["order_id"]) in only]
        ids = [str(o["order_id"]) for o in page]
        rows = {r["Order ID"]: r for r in ctx.workbook.read("Assignments", {"Order ID": ids})}
        owned = owners_of(ctx, rows)
        for order in page:
            oid = str(order["order_id"])
            if oid in owned or str(order.get("status") or "") != "STUCK":
                continue
            row = rows.get(oid) or {}
            ranked = bool(latest) and str(row.get("Triage Run") or "") == latest
            priority = str(row.get("Priority") or "").strip() if ranked else ""
            found.append((priority or UNRANKED, str(order.get("stuck_since") or ""), order))
        checked_all = len(got) < PAGE
        if checked_all or len(found) > SHOWN:
            break
    found.sort(key=lambda f: (f[0], f[1], str(f[2]["order_id"])))
    orders = []
    for priority, _since, order in found[:SHOWN]:
        hours = None
        if order.get("stuck_since"):
            hours = round(hours_between(parse_ts(order["stuck_since"]), ctx.at), 1)
        code = str(order.get("stuck_reason") or "")
        orders.append(
            {
                "order_id": str(order["order_id"]),
                "priority": "" if priority == UNRANKED else priority,
                "reason_code": code,
                "team": team_of.get(code, ""),
                "amount": order.get("amount"),
                "currency": order.get("currency") or "",
                "hours": hours,
            }
        )
    ctx.order_ids = [str(o["order_id"]) for o in orders]
    more = max(0, len(found) - SHOWN)
    return {**base, "full": False, "orders": orders, "more": more, "more_is_exact": checked_all}
