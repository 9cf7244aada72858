"""Work nobody owns yet, made actionable: the triage summary's unassigned and escalated orders
as items with **Take** (field agents of the order's team) and an **Assign…** menu
(managers), with **Show all** for the whole list a page at a time (``unowned_page``), and the
escalation-channel post with **Acknowledge** and **Take**."""

from __future__ import annotations

from bot.present import hours, money, presenter
from bot.present.model import (
    Action,
    Actions,
    Item,
    Line,
    Mention,
    Part,
    Text,
    View,
    bold,
    code,
    line,
)

TOP = 5
"""The unassigned or escalated orders shown with buttons; the rest are lines to type."""
LISTED = 50
"""At most this many are listed at all; the rest are counted."""
TAKE = "ticket_take"
ACK = "escalation_ack"
SHOW_ALL = "unowned_all"
PAGE_ACTION = "unowned_page"
BACK_ACTION = "unowned_back"
CHECK_AGAIN = "home_takeable"
NOBODY = "👤 Nobody has it yet."
STATUS_BLOCK = "escalation_status"
"""The block id of an escalation post's "acknowledged by / taken by" line."""


def take_action(order_id: str) -> Action:
    return Action(
        "Take",
        TAKE,
        order_id,
        None,
        f"take {order_id}",
        f"Take order {order_id} into your queue",
    )


def assign_menu(order_id: str) -> Action:
    """The manager's Assign… (the override form for this order, as a Reassign… does)."""
    return Action("Assign…", "ticket_overflow", f"reassign:{order_id}", command=None)


def ack_action(order_id: str) -> Action:
    return Action(
        "Acknowledge",
        ACK,
        order_id,
        "primary",
        f"ack {order_id}",
        f"Acknowledge the escalation of order {order_id}",
    )


def _facts(o: dict, age: bool = False) -> str:
    """721 AED | LULU_NOT_CONFIRMED (needs ops); with ``age``, 721 AED | 30h | … (a list
    leaves the hours out, so an unchanged list reads the same at the next triage)."""
    amount = money(o.get("amount"), o.get("currency") or "") if o.get("amount") is not None else "?"
    if o.get("target"):
        team = f" → {o['target']}"
    else:
        team = f" (needs {o['team']})" if o.get("team") else ""
    stuck = f" | stuck {hours(o.get('hours'))}" if age else ""
    return f"{amount}{stuck} | {o.get('reason_code') or o.get('reason')}{team}"


def order_line(o: dict) -> Line:
    """P1 | AE136ABC00 | 721 AED | LULU_NOT_CONFIRMED (needs ops)"""
    return line(bold(o.get("priority") or "P?"), " | ", code(o["order_id"]), " | " + _facts(o))


def unowned_item(o: dict, owner: str = "") -> Item:
    """An unassigned or escalated order: Take while nobody owns it, and Assign…."""
    oid = str(o["order_id"])
    lines = [order_line(o)]
    if owner:
        lines.append(line("👤 with ", Mention(owner)))
    actions = () if owner else (take_action(oid),)
    return Item(oid, tuple(lines), actions=actions, menu=(assign_menu(oid),))


def show_all(which: str) -> Actions:
    """Show all: the whole list, a page at a time (the unowned-orders skill, a modal in Slack)."""
    return Actions(
        f"show_all:{which}",
        (
            Action(
                "Show all",
                SHOW_ALL,
                which,
                command=f"show all {which}",
                accessibility_label=f"Show all {which} orders, a page at a time",
            ),
        ),
    )


def unowned_list(
    title: str, orders: list[dict], total: int, owners: dict[str, str], which: str = ""
) -> list:
    """The top TOP orders as items, the next ones as lines with the command to type, and how
    many more there are of ``total``; with ``which`` (the list's name) and more than TOP,
    Show all."""
    elements: list = [Text((line(title),))]
    elements += [unowned_item(o, owners.get(o["order_id"], "")) for o in orders[:TOP]]
    rest: list[Line] = [
        (*order_line(o), *line(" · "), code(f"take {o['order_id']}")) for o in orders[TOP:LISTED]
    ]
    shown = min(len(orders), LISTED)
    if total > shown:
        more = f"… and {total - shown} more: "
        rest.append(line(more, code("ecm-bot triage --json"), " lists them all"))
    if rest:
        elements.append(Text(tuple(rest), more="orders"))
    if which and total > TOP:
        elements.append(show_all(which))
    return elements


TITLES = {"unassigned": "⚠️ Unassigned", "escalated": "🚨 Escalated by triage"}


@presenter
def unowned_page(data: dict) -> View:
    """One page of the unowned orders (the unowned-orders skill): a heading with the total
    and the page's place, each order with Take (nobody has it) and Assign…, then Previous /
    Next with the commands that do the same."""
    which, orders, total = data["list"], data["orders"], data["total"]
    title = TITLES[which]
    if not orders:
        nobody = (
            "every stuck order has an owner" if which == "unassigned" else "none is still stuck"
        )
        return View([Text((line(bold(f"{title} — {total}"), f": {nobody}."),))])
    first, last = data["start"], data["start"] + len(orders) - 1
    head = line(
        bold(f"{title} — {total}"),
        f" stuck orders nobody works ({first}–{last}, most urgent first)",
    )
    if which == "escalated":
        head = line(bold(f"{title} — {total}"), f" still stuck ({first}–{last}, most urgent first)")
    elements: list = [Text((head,))]
    elements += [unowned_item(o, str(o.get("agent") or "")) for o in orders]
    nav = []
    if data.get("previous"):
        back = data["previous"]
        nav.append(
            Action(
                "◀ Previous",
                BACK_ACTION,
                f"{which}:{back}",
                command=f"show all {which} from {back}",
            )
        )
    if data.get("next"):
        on = data["next"]
        nav.append(
            Action("Next ▶", PAGE_ACTION, f"{which}:{on}", command=f"show all {which} from {on}")
        )
    if nav:
        elements.append(Actions(f"unowned_nav:{which}", tuple(nav)))
    return View(elements, key=f"unowned:{which}")


def escalation_post(d: dict, by: str = "") -> View:
    """The escalation channel's post about one order: who escalated it (``by``: a roster
    email, empty for triage), its amount, age, priority, reason, target team and why, and
    Acknowledge / Take (Take while nobody owns the order)."""
    oid = str(d["order_id"])
    who: tuple[Part, ...] = (Mention(by),) if by else (bold("Triage"),)
    facts = line(bold(d.get("priority") or "P?"), " | " + _facts({**d, "target": ""}, age=True))
    owner = str(d.get("agent") or "")
    lines = [
        line("🚨 ", *who, " escalated ", code(oid)),
        facts,
        line("👤 with ", Mention(owner)) if owner else line(NOBODY),
    ]
    if d.get("target"):
        lines.append(line(bold("To:"), f" {d['target']}"))
    if d.get("reason"):
        lines.append(line(bold("Why:"), f" {d['reason']}"))
    actions = (ack_action(oid),) + (() if owner else (take_action(oid),))
    item = Item(oid, tuple(lines), actions=actions, menu=(assign_menu(oid),))
    return View([item], key="escalation:" + oid)


@presenter
def takeable(data: dict) -> View:
    """A field agent's "Unassigned you can take" (the takeable-orders skill): each stuck order
    of their teams nobody works that they can take now, with Take; a line when their queue is
    full, and when there is none (nothing on App Home)."""
    if data.get("full"):
        held = f"{data['held']} of {data['capacity']}"
        full = f"🙋 Your queue is full ({held}): resolve one to take more unassigned work."
        return View([Text((line(full),))], key="takeable")
    orders = data.get("orders") or []
    if not orders:
        if data.get("home"):
            return View(key="takeable")
        mine = ", ".join(data.get("teams") or ()) or "none"
        none = f"🙋 Nothing unassigned of your teams ({mine}) to take right now."
        return View([Text((line(none),))], key="takeable")
    room = data["capacity"] - data["held"]
    teams = ", ".join(data.get("teams") or ())
    count = len(orders) + int(data.get("more") or 0)
    head = line(
        "🙋 ",
        bold("Unassigned you can take"),
        f" — {count} of your teams ({teams}) · room for {room} more",
    )
    items = [
        Item(
            str(o["order_id"]),
            (line(code(o["order_id"]), " | " + _facts(o, age=True)),),
            actions=(take_action(str(o["order_id"])),),
        )
        for o in orders
    ]
    elements: list = [Text((head,)), *items]
    if data.get("more"):
        more = f"{data['more']}" if data.get("more_is_exact", True) else f"at least {data['more']}"
        elements.append(Text((line(f"… and {more} more"),)))
    if not data.get("home"):  # in chat: Check again is App Home's (say it again instead)
        return View(elements, key="takeable")
    again = Action(
        "🔄 Check again",
        CHECK_AGAIN,
        "takeable",
        accessibility_label="Check again which unassigned orders you can take",
    )
    return View([*elements, Actions("takeable", (again,))], key="takeable")
