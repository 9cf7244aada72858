"""Who acknowledged an escalation (m016): one row per Escalations row, keyed by its order and
its ``At``. The claim is an INSERT ... ON CONFLICT DO NOTHING, so of two people acknowledging
at once exactly one is recorded and the other is told who was first."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.base import Database


@dataclass(frozen=True)
class Ack:
    order_id: str
    escalated_at: str
    by: str
    at: str


class EscalationAcks:
    """Acknowledgements on a ``Database`` (SQLite or PostgreSQL); joins the caller's
    transaction, so an acknowledgement and its audit row commit together."""

    def __init__(self, db: Database):
        self.db = db

    def claim(self, order_id: str, escalated_at: str, by: str, at: str) -> Ack | None:
        """Record ``by`` as the acknowledger; None when someone already is (see ``of``)."""
        won = self.db.query(
            "INSERT INTO escalation_acks (order_id, escalated_at, acked_by, acked_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (order_id, escalated_at) DO NOTHING "
            "RETURNING order_id",
            [order_id, escalated_at, by, at],
        )
        return Ack(order_id, escalated_at, by, at) if won else None

    def of(self, order_id: str, escalated_at: str) -> Ack | None:
        row = self.db.one(
            "SELECT * FROM escalation_acks WHERE order_id = ? AND escalated_at = ?",
            [order_id, escalated_at],
        )
        if row is None:
            return None
        return Ack(row["order_id"], row["escalated_at"], row["acked_by"], row["acked_at"])
