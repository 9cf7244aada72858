"""Pinned assignments (m015): a manager's assignment that re-triage keeps with its agent.

One row per order: the agent, who pinned it, when and why. A pin *holds* while the order's
Assignments row is open and still that agent's (``Pin.holds``); once the ticket ends
(resolved, escalated, closed) or someone else moved it, the pin is stale and triage removes
it. Written inside the caller's transaction, so a pin commits with its assignment and audit
row, or not at all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.db.base import Database
from bot.stores.workbook import OPEN_STATUSES


@dataclass(frozen=True)
class Pin:
    order_id: str
    agent: str
    pinned_by: str = ""
    pinned_at: str = ""
    reason: str = ""

    def holds(self, row: dict | None) -> bool:
        """True while ``row`` (the order's Assignments row) is open and still this agent's."""
        if not row or row.get("Status") not in OPEN_STATUSES:
            return False
        return str(row.get("Assigned Agent") or "").strip().lower() == self.agent


def _pin(row: dict) -> Pin:
    return Pin(
        order_id=row["order_id"],
        agent=str(row["agent"] or "").lower(),
        pinned_by=row["pinned_by"] or "",
        pinned_at=row["pinned_at"] or "",
        reason=row["reason"] or "",
    )


class Pins:
    """The pins on a ``Database`` (SQLite or PostgreSQL)."""

    def __init__(self, db: Database):
        self.db = db

    def get(self, order_id: str) -> Pin | None:
        row = self.db.one("SELECT * FROM assignment_pins WHERE order_id = ?", [order_id])
        return _pin(row) if row else None

    def all(self) -> dict[str, Pin]:
        """Every pin, by order id."""
        return {r["order_id"]: _pin(r) for r in self.db.query("SELECT * FROM assignment_pins")}

    def pin(self, order_id: str, agent: str, *, by: str, reason: str, at: str) -> None:
        """Pin ``order_id`` to ``agent`` (a newer pin of the order replaces the old one)."""
        self.db.execute(
            "INSERT INTO assignment_pins (order_id, agent, pinned_by, pinned_at, reason) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET "
            "agent = excluded.agent, pinned_by = excluded.pinned_by, "
            "pinned_at = excluded.pinned_at, reason = excluded.reason",
            [order_id, agent.strip().lower(), by, at, reason],
        )

    def unpin(self, order_id: str, agent: str | None = None) -> bool:
        """Remove the pin of ``order_id`` (only if it is ``agent``'s, when given); True if
        there was one to remove."""
        sql, params = "DELETE FROM assignment_pins WHERE order_id = ?", [order_id]
        if agent is not None:
            sql, params = sql + " AND agent = ?", [*params, agent.strip().lower()]
        return self.db.execute(sql, params) > 0

    def drop(self, order_ids: Iterable[str]) -> None:
        """Remove the pins of ``order_ids`` (stale ones: their ticket ended or moved)."""
        rows = [(oid,) for oid in dict.fromkeys(order_ids)]
        if rows:
            self.db.executemany("DELETE FROM assignment_pins WHERE order_id = ?", rows)
