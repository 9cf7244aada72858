"""The Slack messages the bot posted and may edit in place, kept in the system of record
(m012): per message its channel and ts, what it shows, the blocks as posted and the orders it
lists. Written when a message is posted; read when a ticket changes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

from bot.clock import now, ts
from bot.db.base import Database

Kind = Literal["triage_summary", "agent_thread", "triage_list", "dm_queue", "escalation"]
"""What a message shows: a run's summary, an agent's thread reply in it, its unassigned or
escalated list (``agent`` names the list), an agent's DM queue, an order's escalation post."""


@dataclass
class Posted:
    """One recorded message."""

    channel: str
    ts: str
    kind: str
    run_id: str = ""
    agent: str = ""
    order_id: str = ""
    thread_ts: str = ""
    text: str = ""
    blocks: list[dict] = field(default_factory=list)
    digest: str = ""


def digest(blocks: list[dict]) -> str:
    """A short fingerprint of a message's content (to tell an unchanged repost)."""
    return hashlib.sha256(json.dumps(blocks, sort_keys=True).encode()).hexdigest()[:16]


def _posted(row: dict) -> Posted:
    return Posted(
        channel=row["channel"],
        ts=row["ts"],
        kind=row["kind"],
        run_id=row["run_id"] or "",
        agent=row["agent"] or "",
        order_id=row["order_id"] or "",
        thread_ts=row["thread_ts"] or "",
        text=row["text"] or "",
        blocks=json.loads(row["blocks"] or "[]"),
        digest=row["digest"] or "",
    )


class SlackMessages:
    """Message references on a ``Database`` (SQLite or PostgreSQL)."""

    def __init__(self, db: Database):
        self.db = db

    def record(self, message: Posted, order_ids: list[str] | tuple[str, ...] = ()) -> None:
        """Remember a posted message and the orders it shows (a repost replaces the row)."""
        stamp = ts(now())
        with self.db.transaction():
            self.db.execute(
                "DELETE FROM slack_messages WHERE channel = ? AND ts = ?",
                [message.channel, message.ts],
            )
            self.db.execute(
                "DELETE FROM slack_message_orders WHERE channel = ? AND ts = ?",
                [message.channel, message.ts],
            )
            self.db.execute(
                "INSERT INTO slack_messages (channel, ts, kind, run_id, agent, order_id, "
                "thread_ts, text, blocks, digest, posted_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    message.channel,
                    message.ts,
                    message.kind,
                    message.run_id,
                    message.agent.lower(),
                    message.order_id,
                    message.thread_ts,
                    message.text,
                    json.dumps(message.blocks),
                    message.digest or digest(message.blocks),
                    stamp,
                    stamp,
                ],
            )
            if order_ids:
                self.db.executemany(
                    "INSERT INTO slack_message_orders (channel, ts, order_id) VALUES (?, ?, ?)",
                    [(message.channel, message.ts, oid) for oid in dict.fromkeys(order_ids)],
                )

    def edited(
        self, channel: str, ts_: str, blocks: list[dict], text: str, run_id: str = ""
    ) -> None:
        """Store what a message shows after a chat.update (and, given ``run_id``, the run it
        stands for now: a summary re-checked by a run that changed nothing)."""
        sql, params = (
            "UPDATE slack_messages SET blocks = ?, text = ?, updated_at = ?",
            [
                json.dumps(blocks),
                text,
                ts(now()),
            ],
        )
        if run_id:
            sql, params = sql + ", run_id = ?", [*params, run_id]
        self.db.execute(sql + " WHERE channel = ? AND ts = ?", [*params, channel, ts_])

    def showing(self, order_id: str) -> list[Posted]:
        """Every recorded message that lists ``order_id``, oldest first."""
        rows = self.db.query(
            "SELECT m.* FROM slack_messages m JOIN slack_message_orders o "
            "ON o.channel = m.channel AND o.ts = m.ts WHERE o.order_id = ? ORDER BY m.posted_at",
            [order_id],
        )
        return [_posted(r) for r in rows]

    def of_run(self, run_id: str, kind: Kind = "triage_summary") -> list[Posted]:
        rows = self.db.query(
            "SELECT * FROM slack_messages WHERE kind = ? AND run_id = ? ORDER BY posted_at",
            [kind, run_id],
        )
        return [_posted(r) for r in rows]

    def latest(self, kind: Kind, *, channel: str = "", agent: str = "") -> Posted | None:
        """The newest message of ``kind`` (in ``channel``, for ``agent`` when given)."""
        sql, params = "SELECT * FROM slack_messages WHERE kind = ?", [str(kind)]
        if channel:
            sql, params = sql + " AND channel = ?", [*params, channel]
        if agent:
            sql, params = sql + " AND agent = ?", [*params, agent.lower()]
        rows = self.db.query(sql + " ORDER BY posted_at DESC, ts DESC LIMIT 1", params)
        return _posted(rows[0]) if rows else None

    def run_counts(self, run_id: str) -> dict:
        """The counts a finished triage run recorded (``triage_runs.summary``), or {}."""
        row = self.db.one("SELECT summary FROM triage_runs WHERE id = ?", [run_id])
        try:
            found = json.loads((row or {}).get("summary") or "{}")
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}
