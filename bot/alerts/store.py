"""The alert tables of the system of record (migration m010), written only with conditional
statements, so replicas evaluating or delivering at once still open, resolve and send each
alert once:

- ``alert_states``: one row per subject and rule (``key``): ``open`` or ``resolved``, and its
  incarnation ``seq`` (opening again after a resolution is a new incarnation). Opening is an
  INSERT ... ON CONFLICT DO NOTHING or an UPDATE conditional on the status and seq read;
  resolving is an UPDATE conditional on ``open`` and that seq. The loser of a race changes
  nothing.
- ``alert_deliveries``: one row per incarnation, channel and action (trigger, resolve), its
  primary key. A sender claims a pending row with an UPDATE conditional on it being pending
  and unclaimed (or its claim expired), sends, then marks it sent; a failed send gives it
  back (kept, retried next pass), a refused one is marked rejected.
- ``alert_events``: the history (opened, resolved, sent, send_failed, rejected, superseded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from bot.alerts.channels import RESOLVE, TRIGGER, Notice
from bot.alerts.rules import Finding
from bot.clock import now, ts
from bot.db.base import Database

PENDING, SENT, REJECTED, SUPERSEDED = "pending", "sent", "rejected", "superseded"
OPEN, RESOLVED = "open", "resolved"


@dataclass(frozen=True)
class Delivery:
    key: str
    seq: int
    channel: str
    action: str
    status: str
    attempts: int
    ref: str | None
    last_error: str | None

    @classmethod
    def of(cls, row: dict) -> Delivery:
        return cls(
            row["key"],
            int(row["seq"]),
            row["channel"],
            row["action"],
            row["status"],
            int(row["attempts"] or 0),
            row.get("ref"),
            row.get("last_error"),
        )

    @property
    def pk(self) -> list:
        return [self.key, self.seq, self.channel, self.action]


_PK = "key = ? AND seq = ? AND channel = ? AND action = ?"
_FREE = "status = 'pending' AND (claimed_until IS NULL OR claimed_until < ?)"


class AlertStore:
    """Alert states, deliveries and history on one ``Database``."""

    def __init__(self, db: Database):
        self.db = db

    # -- states ------------------------------------------------------------------------------
    def state(self, key: str) -> dict | None:
        row = self.db.one("SELECT * FROM alert_states WHERE key = ?", [key])
        return _decode(row) if row else None

    def open(self, f: Finding, channels: list[str], previous: dict | None) -> int | None:
        """Open an incarnation of ``f``'s alert (first, or again after ``previous`` was
        resolved) with a pending trigger per channel; its seq, or None if another process
        opened it first."""
        at = ts(now())
        values = [f.severity, f.summary, json.dumps(f.details()), json.dumps(channels), at, at]
        with self.db.transaction():
            if previous is None:
                row = self.db.one(
                    "INSERT INTO alert_states (key, subject, rule, status, seq, severity, "
                    "summary, details, channels, opened_at, updated_at) "
                    "VALUES (?, ?, ?, 'open', 1, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (key) DO NOTHING RETURNING seq",
                    [f.key, f.subject, f.rule, *values],
                )
            else:
                row = self.db.one(
                    "UPDATE alert_states SET status = 'open', seq = seq + 1, severity = ?, "
                    "summary = ?, details = ?, channels = ?, opened_at = ?, updated_at = ?, "
                    "resolved_at = NULL WHERE key = ? AND status = 'resolved' AND seq = ? "
                    "RETURNING seq",
                    [*values, f.key, previous["seq"]],
                )
            if row is None:
                return None
            seq = int(row["seq"])
            for channel in channels:
                self._add_delivery(f.key, seq, channel, TRIGGER, at)
            self.event(f.key, seq, "opened", severity=f.severity, summary=f.summary)
        return seq

    def update(self, f: Finding, seq: int) -> None:
        """Refresh an open alert's figure (no new alert, nothing sent)."""
        self.db.execute(
            "UPDATE alert_states SET summary = ?, details = ?, updated_at = ? "
            "WHERE key = ? AND status = 'open' AND seq = ?",
            [f.summary, json.dumps(f.details()), ts(now()), f.key, seq],
        )

    def resolve(self, f: Finding, seq: int) -> bool:
        """Resolve the open incarnation ``seq`` with a pending resolve wherever its trigger
        went; False if it was no longer open (another process resolved it)."""
        at = ts(now())
        with self.db.transaction():
            row = self.db.one(
                "UPDATE alert_states SET status = 'resolved', details = ?, updated_at = ?, "
                "resolved_at = ? WHERE key = ? AND status = 'open' AND seq = ? RETURNING seq",
                [json.dumps(f.details()), at, at, f.key, seq],
            )
            if row is None:
                return False
            for r in self.db.query(
                "SELECT channel FROM alert_deliveries WHERE key = ? AND seq = ? AND action = ?",
                [f.key, seq, TRIGGER],
            ):
                self._add_delivery(f.key, seq, r["channel"], RESOLVE, at)
            self.event(f.key, seq, "resolved", summary=f.summary or f"{f.key} recovered")
        return True

    def open_alerts(self) -> list[dict]:
        rows = self.db.query("SELECT * FROM alert_states WHERE status = 'open' ORDER BY opened_at")
        return [_decode(r) for r in rows]

    # -- deliveries --------------------------------------------------------------------------
    def _add_delivery(self, key: str, seq: int, channel: str, action: str, at: str) -> None:
        self.db.execute(
            "INSERT INTO alert_deliveries (key, seq, channel, action, status, attempts, "
            "created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?) "
            "ON CONFLICT (key, seq, channel, action) DO NOTHING",
            [key, seq, channel, action, at],
        )

    def due(self) -> list[Delivery]:
        """Pending, unclaimed deliveries; an incarnation's trigger before its resolve."""
        rows = self.db.query(
            f"SELECT * FROM alert_deliveries WHERE {_FREE} ORDER BY key, seq, action DESC, channel",
            [ts(now())],
        )
        return [Delivery.of(r) for r in rows]

    def delivery(self, key: str, seq: int, channel: str, action: str) -> Delivery | None:
        row = self.db.one(
            f"SELECT * FROM alert_deliveries WHERE {_PK}", [key, seq, channel, action]
        )
        return Delivery.of(row) if row else None

    def deliveries(self, key: str, seq: int) -> list[Delivery]:
        rows = self.db.query(
            "SELECT * FROM alert_deliveries WHERE key = ? AND seq = ? ORDER BY channel, action",
            [key, seq],
        )
        return [Delivery.of(r) for r in rows]

    def claim(self, d: Delivery, holder: str, ttl: timedelta) -> bool:
        """Take ``d`` for sending (False: another process has it, or it is done)."""
        current = now()
        return (
            self.db.execute(
                f"UPDATE alert_deliveries SET claimed_by = ?, claimed_until = ? "
                f"WHERE {_PK} AND {_FREE}",
                [holder, ts(current + ttl), *d.pk, ts(current)],
            )
            == 1
        )

    def sent(self, d: Delivery, holder: str, ref: str | None) -> None:
        with self.db.transaction():
            if self.db.execute(
                "UPDATE alert_deliveries SET status = 'sent', ref = ?, sent_at = ?, "
                "attempts = attempts + 1, last_error = NULL, claimed_until = NULL "
                f"WHERE {_PK} AND claimed_by = ?",
                [ref, ts(now()), *d.pk, holder],
            ):
                self.event(d.key, d.seq, "sent", channel=d.channel, detail=d.action)

    def failed(self, d: Delivery, holder: str, error: str, *, final: bool) -> None:
        """A send that failed: given back for the next pass, or (``final``) rejected."""
        status = REJECTED if final else PENDING
        with self.db.transaction():
            if self.db.execute(
                "UPDATE alert_deliveries SET status = ?, attempts = attempts + 1, "
                "last_error = ?, claimed_by = NULL, claimed_until = NULL "
                f"WHERE {_PK} AND claimed_by = ?",
                [status, error[:500], *d.pk, holder],
            ):
                event = "rejected" if final else "send_failed"
                self.event(d.key, d.seq, event, channel=d.channel, detail=f"{d.action}: {error}")

    def supersede(self, d: Delivery, why: str) -> None:
        """Drop a pending delivery that no longer means anything (its alert resolved before
        its trigger went out; a resolve whose trigger never went out)."""
        with self.db.transaction():
            if self.db.execute(
                f"UPDATE alert_deliveries SET status = 'superseded', last_error = ? "
                f"WHERE {_PK} AND {_FREE}",
                [why, *d.pk, ts(now())],
            ):
                self.event(d.key, d.seq, "superseded", channel=d.channel, detail=why)

    # -- history -----------------------------------------------------------------------------
    def event(
        self,
        key: str,
        seq: int,
        event: str,
        *,
        channel: str | None = None,
        severity: str | None = None,
        summary: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO alert_events (at, key, seq, event, channel, severity, summary, "
            "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [ts(now()), key, seq, event, channel, severity, summary, (detail or "")[:500] or None],
        )

    def events(self, limit: int = 20) -> list[dict]:
        """The newest ``limit`` events, newest first."""
        return self.db.query("SELECT * FROM alert_events ORDER BY id DESC LIMIT ?", [limit])

    def count_events(self) -> int:
        return int(self.db.scalar("SELECT COUNT(*) AS n FROM alert_events") or 0)


def notice(state: dict, action: str, ref: str | None = None) -> Notice:
    """What a channel is told about ``state`` (a decoded alert_states row)."""
    return Notice(
        key=state["key"],
        subject=state["subject"],
        rule=state["rule"],
        action=action,
        severity=state["severity"],
        summary=state["summary"],
        details=state["details"],
        opened_at=state["opened_at"] or "",
        resolved_at=state.get("resolved_at") or "",
        ref=ref,
    )


def _decode(row: dict) -> dict:
    out = dict(row)
    out["seq"] = int(out["seq"])
    out["details"] = json.loads(out.get("details") or "{}")
    out["channels"] = json.loads(out.get("channels") or "[]")
    return out
