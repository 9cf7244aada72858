"""Away agents, handed-over tickets and shift digests (m021).

``agent_away``: one row per agent marked away, until when, who set it and when they came back
(``back`` ends it early; an ``until`` in the past has ended by itself). ``ticket_handovers``:
one row per ticket an away agent's handover moved (``kind`` ``moved``) or left to the managers
(``pinned``: a manager's pin; ``no_room``: nobody fitting had room). Both are written inside
the caller's transaction, with the ticket moves and their audit rows. ``shift_digests``: the
end-of-shift digest claimed once per agent and shift end, like ``sla_notices``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import ts
from bot.db.base import Database

DIGEST_LEASE = timedelta(minutes=10)
"""How long a claimed digest may stay unsent before another pass takes it again."""


@dataclass(frozen=True)
class Away:
    agent: str
    until: str
    since: str
    set_by: str = ""
    back_at: str | None = None

    def active(self, at: str) -> bool:
        """Away at ``at`` (stored timestamp text): not back yet and not past ``until``."""
        return self.back_at is None and self.since <= at < self.until


@dataclass(frozen=True)
class Handover:
    order_id: str
    from_agent: str
    to_agent: str  # "" when it went to the managers
    at: str
    kind: str  # moved, pinned, no_room


def _away(row: dict) -> Away:
    return Away(
        agent=str(row["agent"]),
        until=str(row["until_at"]),
        since=str(row["since_at"]),
        set_by=row["set_by"] or "",
        back_at=row["back_at"] or None,
    )


class AwayStore:
    """Away rows, handovers and digest claims on a ``Database`` (SQLite or PostgreSQL)."""

    def __init__(self, db: Database):
        self.db = db

    # ---- away
    def get(self, agent: str) -> Away | None:
        row = self.db.one("SELECT * FROM agent_away WHERE agent = ?", [agent.lower()])
        return _away(row) if row else None

    def current(self, agent: str, at: datetime) -> Away | None:
        """The agent's away at ``at``, or None when they are working."""
        found = self.get(agent)
        return found if found and found.active(ts(at)) else None

    def away_at(self, at: datetime) -> dict[str, Away]:
        """Everyone away at ``at``, by email."""
        stamp = ts(at)
        rows = self.db.query(
            "SELECT * FROM agent_away WHERE back_at IS NULL AND since_at <= ? AND until_at > ?",
            [stamp, stamp],
        )
        return {r["agent"]: _away(r) for r in rows}

    def not_over_at(self, at: datetime) -> dict[str, Away]:
        """Everyone marked away whose away has not ended at ``at``, including one set after
        ``at`` (another replica's, decided while this one waited for the away lock)."""
        rows = self.db.query(
            "SELECT * FROM agent_away WHERE back_at IS NULL AND until_at > ?", [ts(at)]
        )
        return {r["agent"]: _away(r) for r in rows}

    def put(self, a: Away) -> None:
        """Mark ``a.agent`` away (a newer away replaces the old one)."""
        self.db.execute(
            "INSERT INTO agent_away (agent, until_at, since_at, set_by, back_at) "
            "VALUES (?, ?, ?, ?, NULL) ON CONFLICT (agent) DO UPDATE SET "
            "until_at = excluded.until_at, since_at = excluded.since_at, "
            "set_by = excluded.set_by, back_at = NULL",
            [a.agent.lower(), a.until, a.since, a.set_by],
        )

    def back(self, agent: str, at: str) -> bool:
        """End the agent's away now; True for the one caller that did."""
        return bool(
            self.db.query(
                "UPDATE agent_away SET back_at = ? WHERE agent = ? AND back_at IS NULL "
                "AND until_at > ? RETURNING agent",
                [at, agent.lower(), at],
            )
        )

    # ---- handovers
    def record(self, handovers: list[Handover], away_since: str) -> None:
        self.db.executemany(
            "INSERT INTO ticket_handovers (order_id, from_agent, to_agent, at, away_since, kind) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(h.order_id, h.from_agent, h.to_agent, h.at, away_since, h.kind) for h in handovers],
        )

    def handed_to(self, agent: str, since: str) -> dict[str, Handover]:
        """Tickets handed to ``agent`` at or after ``since``, by order id (the newest)."""
        rows = self.db.query(
            "SELECT * FROM ticket_handovers WHERE to_agent = ? AND at >= ? ORDER BY at",
            [agent.lower(), since],
        )
        return {
            r["order_id"]: Handover(
                r["order_id"], r["from_agent"], r["to_agent"] or "", r["at"], r["kind"]
            )
            for r in rows
        }

    def count_by_kind(self, since: str = "") -> dict[str, int]:
        """Handovers recorded at or after ``since`` (default: ever), counted by kind."""
        rows = self.db.query(
            "SELECT kind, COUNT(*) AS n FROM ticket_handovers WHERE at >= ? GROUP BY kind",
            [since],
        )
        return {str(r["kind"]): int(r["n"]) for r in rows}

    # ---- shift digests
    def claim_digest(self, agent: str, shift_end: str, at: datetime, tickets: list[str]) -> bool:
        """Take the digest of ``agent``'s shift ending at ``shift_end``; one replica wins. A
        claim never marked sent and older than ``DIGEST_LEASE`` is taken again."""
        stale = ts(at - DIGEST_LEASE)
        return bool(
            self.db.query(
                "INSERT INTO shift_digests (agent, shift_end, at, tickets) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (agent, shift_end) DO UPDATE SET at = excluded.at, "
                "tickets = excluded.tickets WHERE shift_digests.sent_at IS NULL "
                "AND shift_digests.at <= ? RETURNING agent",
                [agent.lower(), shift_end, ts(at), json.dumps(tickets), stale],
            )
        )

    def digest_sent(self, agent: str, shift_end: str, at: str) -> None:
        self.db.execute(
            "UPDATE shift_digests SET sent_at = ? WHERE agent = ? AND shift_end = ?",
            [at, agent.lower(), shift_end],
        )

    def give_back_digest(self, agent: str, shift_end: str) -> None:
        self.db.execute(
            "DELETE FROM shift_digests WHERE agent = ? AND shift_end = ? AND sent_at IS NULL",
            [agent.lower(), shift_end],
        )

    def digests(self) -> list[dict]:
        return self.db.query("SELECT * FROM shift_digests ORDER BY shift_end, agent")

    def latest_digests(self, since: str) -> list[dict]:
        """Digests sent for shifts that ended at or after ``since`` (the next shift's view)."""
        return self.db.query(
            "SELECT * FROM shift_digests WHERE sent_at IS NOT NULL AND shift_end >= ? "
            "ORDER BY shift_end, agent",
            [since],
        )
