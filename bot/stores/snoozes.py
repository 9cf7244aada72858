"""Snoozed tickets (m019): a field agent's ticket set WAITING while they wait on someone.

One row per order: its owner, until when, the note, the status it returns to, when it was
snoozed and when it woke. ``put`` is written inside the snoozing skill's transaction, with the
status change and its audit row. ``wake`` is the wake pass's claim: a conditional UPDATE that
only one replica wins, so a snooze ends once."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.base import Database


@dataclass(frozen=True)
class Snooze:
    order_id: str
    agent: str
    until: str
    note: str = ""
    resume_status: str = "IN_PROGRESS"
    snoozed_at: str = ""
    woken_at: str | None = None


def _snooze(row: dict) -> Snooze:
    return Snooze(
        order_id=row["order_id"],
        agent=str(row["agent"] or "").lower(),
        until=str(row["until_at"]),
        note=row["note"] or "",
        resume_status=row["resume_status"] or "IN_PROGRESS",
        snoozed_at=row["snoozed_at"] or "",
        woken_at=row["woken_at"] or None,
    )


class Snoozes:
    """The snoozes on a ``Database`` (SQLite or PostgreSQL)."""

    def __init__(self, db: Database):
        self.db = db

    def get(self, order_id: str) -> Snooze | None:
        row = self.db.one("SELECT * FROM ticket_snoozes WHERE order_id = ?", [order_id])
        return _snooze(row) if row else None

    def of_agent(self, agent: str) -> dict[str, Snooze]:
        """The agent's snoozes (asleep or woken), by order id."""
        rows = self.db.query("SELECT * FROM ticket_snoozes WHERE agent = ?", [agent.lower()])
        return {r["order_id"]: _snooze(r) for r in rows}

    def put(self, s: Snooze) -> None:
        """Snooze ``s.order_id`` (a newer snooze of the order replaces the old one)."""
        self.db.execute(
            "INSERT INTO ticket_snoozes (order_id, agent, until_at, note, resume_status, "
            "snoozed_at, woken_at) VALUES (?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (order_id) DO "
            "UPDATE SET agent = excluded.agent, until_at = excluded.until_at, "
            "note = excluded.note, resume_status = excluded.resume_status, "
            "snoozed_at = excluded.snoozed_at, woken_at = NULL",
            [s.order_id, s.agent.lower(), s.until, s.note, s.resume_status, s.snoozed_at],
        )

    def due(self, at: str) -> list[Snooze]:
        """Snoozes still asleep whose end is at or before ``at``, oldest end first."""
        rows = self.db.query(
            "SELECT * FROM ticket_snoozes WHERE woken_at IS NULL AND until_at <= ? "
            "ORDER BY until_at, order_id",
            [at],
        )
        return [_snooze(r) for r in rows]

    def wake(self, s: Snooze, at: str) -> bool:
        """Mark ``s`` woken at ``at``; True for the one caller that did (the snooze is still
        the same one and nobody woke it yet)."""
        return bool(
            self.db.query(
                "UPDATE ticket_snoozes SET woken_at = ? WHERE order_id = ? AND woken_at IS NULL "
                "AND until_at = ? AND snoozed_at = ? RETURNING order_id",
                [at, s.order_id, s.until, s.snoozed_at],
            )
        )
