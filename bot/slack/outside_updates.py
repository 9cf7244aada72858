"""Slack updates for changes made outside a Slack request: sheet sync, snooze wake.

The core takes a plain callable (``SheetSync(on_changed=...)`` in ``bot.sync.sheets_sync``,
``sla_pass(on_woken=...)`` in ``bot.cli.sla_cmd``); this is the Slack one, built outside
Bolt as ``bot.mcp.slack_updates`` is. After the write has committed, every message showing
the ticket is edited in place (``bot.slack.live.refresh_ticket``, the escalation posts and
take lists of ``bot.slack.unowned``, the new owner's DM queue), the App Home of the people
concerned is republished, and a ticket a sheet edit moved is told to its previous and new
owner in one DM each. A failure is logged, never raised: the write is done."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from bot.runtime.roster import Roster
from bot.skills.registry import Registry
from bot.slack.app_state import SlackContext
from bot.slack.blocks.kit import escape
from bot.slack.delivery import refresh_queue
from bot.slack.live import refresh_homes, refresh_ticket
from bot.slack.posting import slack_ids
from bot.slack.settings import SlackSettings
from bot.slack.unowned import refresh_unowned
from bot.stores.factory import Stores
from bot.stores.pins import Pins

log = logging.getLogger(__name__)

SHEET = "A Google Sheet edit"


def _mention(ids: Callable[[str], str | None], email: str) -> str:
    found = ids(email)
    return f"<@{found}>" if found else "@" + escape(email.split("@")[0])


def _about(row: dict) -> str:
    oid = escape(str(row.get("Order ID") or ""))
    priority, reason = (escape(str(row.get(k) or "?")) for k in ("Priority", "Stuck Reason"))
    return f"`{oid}` ({priority}, {reason})"


def sheet_assigned_note(row: dict, pinned: bool) -> str:
    """The new owner's DM, worded as a manager's assign tells them (``delivery.assigned_note``)."""
    oid = str(row.get("Order ID") or "")
    pin = " It's pinned to you: triage won't move it." if pinned else ""
    return f"📥 {SHEET} assigned you {_about(row)}.{pin} Say `order {oid}` here to open it."


def sheet_moved_away_note(row: dict, to: str) -> str:
    """The previous owner's DM, worded as ``delivery.moved_away_note``."""
    return (
        f"↪️ {SHEET} moved {_about(row)} from your queue to {to}. "
        "You don't need to work it any more."
    )


def previous_owner(stores: Stores, order_id: str) -> str:
    """Who held ``order_id`` before its latest applied sheet edit, when that edit moved it
    (from its audit row), else ''."""
    for entry in reversed(stores.state.audit_entries(f"order:{order_id}")):
        if (entry["actor"], entry["action"]) != ("sheet", "sheet_edit"):
            continue
        before = entry["before"]
        before = json.loads(before) if isinstance(before, str) else before
        return str((before or {}).get("Assigned Agent") or "").lower()
    return ""


class OutsideUpdates:
    """The Slack follow-ups of writes made outside a Slack request."""

    def __init__(self, sc: SlackContext):
        self.sc = sc

    @classmethod
    def from_settings(
        cls,
        settings: SlackSettings,
        *,
        registry: Registry | None = None,
        stores: Callable[[], Stores] | None = None,
    ) -> OutsideUpdates:
        """Against the workspace of ``settings`` (its bot token and API URL), with stores
        opened per thread unless given."""
        from bot.slack.app import thread_local_stores, web_client

        client = web_client(settings)
        sc = SlackContext(
            settings, client, registry or Registry.load(), stores or thread_local_stores()
        )
        return cls(sc)

    def sheet_edits(self, order_ids: list[str]) -> None:
        """After a sync cycle applied edits of these tickets' Assigned Agent or Status."""
        for oid in dict.fromkeys(order_ids):
            self._guard(f"sheet edit of {oid}", self._sheet_edit, oid)

    def woken(self, order_ids: list[str]) -> None:
        """After the wake pass brought these snoozed tickets back to their owners."""
        for oid in dict.fromkeys(order_ids):
            self._guard(f"wake of {oid}", self._redraw, oid)

    # -- the follow-ups ---------------------------------------------------------------------
    def _sheet_edit(self, oid: str) -> None:
        sc, stores = self.sc, self.sc.stores()
        row = stores.workbook.find("Assignments", oid) or {}
        owner = str(row.get("Assigned Agent") or "").lower()
        was = previous_owner(stores, oid)
        moved = bool(was and owner and was != owner)
        concerned = self._guard("messages", refresh_ticket, sc, oid, "") or set()
        self._guard("escalation post", refresh_unowned, sc, oid)
        if moved:
            self._guard(f"{owner}'s DM queue", refresh_queue, sc, owner)
        ids = slack_ids(Roster.load(stores.workbook))
        self._homes(ids, {*concerned, was, owner})
        if moved:
            pin = Pins(stores.db).get(oid)
            sc.dm(
                ids(owner) or "", sheet_assigned_note(row, pin is not None and pin.agent == owner)
            )
            sc.dm(ids(was) or "", sheet_moved_away_note(row, _mention(ids, owner)))

    def _redraw(self, oid: str) -> None:
        concerned = self._guard("messages", refresh_ticket, self.sc, oid, "") or set()
        ids = slack_ids(Roster.load(self.sc.stores().workbook))
        self._homes(ids, concerned)

    def _homes(self, ids: Callable[[str], str | None], emails: Iterable[str]) -> None:
        people = {ids(e) or "" for e in emails if e}
        self._guard("App Homes", refresh_homes, self.sc, people - {""})

    @staticmethod
    def _guard(what: str, step: Callable[..., Any], *args: Any) -> Any:
        """Run one follow-up; a failure is logged and the next one still runs."""
        try:
            return step(*args)
        except Exception:  # the write is committed; only this redraw is lost
            log.warning("Slack follow-up (%s) failed", what, exc_info=True)
            return None
