"""The bot's own state in SQLite: triage runs, the audit log, access denials, executions and
locks. Implements the guard's DenialSink."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlite_utils import Database

from bot.clock import now, parse_ts, ts
from bot.errors import Conflict
from bot.stores.migrations import migrate


class StateStore:
    """Bot state on a sqlite_utils Database (a file, or memory in tests)."""

    def __init__(self, db: Database | Path | str):
        self.db = db if isinstance(db, Database) else Database(Path(db))
        migrate(self.db)

    # -- denials and audit -------------------------------------------------------------------
    def record_denial(self, *, caller: str, skill: str, role: str, resource: str, rule: str):
        self.db["access_denials"].insert(
            {
                "at": ts(now()),
                "caller": caller,
                "skill": skill,
                "role": role,
                "resource": resource,
                "rule": rule,
            }
        )

    def denials(self) -> list[dict]:
        return list(self.db["access_denials"].rows_where(order_by="id"))

    def audit(
        self,
        *,
        actor: str,
        action: str,
        target: str,
        before: object,
        after: object,
        workflow_id: str | None = None,
    ) -> None:
        """Record one write: who, what, and the values before and after."""
        self.db["audit_log"].insert(
            {
                "at": ts(now()),
                "actor": actor,
                "action": action,
                "target": target,
                "before": json.dumps(before, default=str),
                "after": json.dumps(after, default=str),
                "workflow_id": workflow_id,
            }
        )

    def audit_entries(self, target: str | None = None) -> list[dict]:
        where = "target = ?" if target else None
        return list(
            self.db["audit_log"].rows_where(where, [target] if target else [], order_by="id")
        )

    # -- locks -------------------------------------------------------------------------------
    def acquire_lock(self, name: str, holder: str, ttl_seconds: int) -> None:
        """Take a named lock, or raise Conflict saying who holds it and since when.
        BEGIN IMMEDIATE makes check-and-take atomic across threads and processes."""
        current = now()
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT holder, acquired_at, expires_at FROM locks WHERE name = ?", [name]
            ).fetchone()
            if row and parse_ts(row[2]) > current:
                started = parse_ts(row[1])
                raise Conflict(
                    f"A {name} is already running: started by {row[0]} at "
                    f"{started:%H:%M:%S} UTC ({int((current - started).total_seconds())} s ago). "
                    "Wait for it to finish."
                )
            conn.execute(
                "INSERT OR REPLACE INTO locks (name, holder, acquired_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                [name, holder, ts(current), ts(current + timedelta(seconds=ttl_seconds))],
            )
            conn.commit()
        except BaseException:
            conn.rollback()
            raise

    def release_lock(self, name: str, holder: str) -> None:
        with self.db.conn:
            self.db.execute("DELETE FROM locks WHERE name = ? AND holder = ?", [name, holder])

    # -- triage runs -------------------------------------------------------------------------
    def start_triage_run(self, run_id: str, workflow_id: str, started_by: str, dry_run: bool):
        self.db["triage_runs"].insert(
            {
                "id": run_id,
                "workflow_id": workflow_id,
                "started_by": started_by,
                "started_at": ts(now()),
                "status": "running",
                "dry_run": int(dry_run),
            }
        )

    def finish_triage_run(self, run_id: str, status: str, summary: dict) -> None:
        self.db["triage_runs"].update(
            run_id,
            {
                "finished_at": ts(now()),
                "status": status,
                "summary": json.dumps(summary, default=str),
            },
        )

    def triage_runs(self) -> list[dict]:
        return list(self.db["triage_runs"].rows_where(order_by="started_at"))

    # -- executions --------------------------------------------------------------------------
    def record_execution(self, record: dict) -> None:
        row = dict(record)
        row["metrics"] = json.dumps(row.get("metrics") or {}, default=str)
        row["tool_calls"] = json.dumps(row.get("tool_calls") or [], default=str)
        row["order_ids"] = ",".join(row.get("order_ids") or [])
        self.db["executions"].insert(row, pk="id", replace=True)

    def executions(self, day: str | None = None) -> list[dict]:
        where, args = ("started_at LIKE ?", [f"{day}%"]) if day else (None, [])
        rows = list(self.db["executions"].rows_where(where, args, order_by="started_at"))
        for r in rows:
            r["metrics"] = json.loads(r["metrics"] or "{}")
            r["tool_calls"] = json.loads(r.get("tool_calls") or "[]")
            r["order_ids"] = [x for x in (r["order_ids"] or "").split(",") if x]
        return rows

    def workflow_for_order(self, order_id: str) -> tuple[str, str] | None:
        """(workflow id, execution id) of the manager run that last assigned ``order_id``."""
        row = self.db.execute(
            "SELECT workflow_id, id FROM executions WHERE skill IN ('triage-and-assign', "
            "'assign-tickets') AND outcome = 'ok' AND (',' || order_ids || ',') LIKE ? "
            "ORDER BY started_at DESC, rowid DESC LIMIT 1",
            [f"%,{order_id},%"],
        ).fetchone()
        return (row[0], row[1]) if row else None

    # -- redelivery dedupe ------------------------------------------------------------------
    def first_time(self, key: str) -> bool:
        """Record ``key`` (an event id, message id or action ts); False if already seen."""
        with self.db.conn:
            cursor = self.db.conn.execute(
                "INSERT OR IGNORE INTO seen_events (key, at) VALUES (?, ?)", [key, ts(now())]
            )
        return cursor.rowcount == 1

    # -- scheduled slots ---------------------------------------------------------------------
    def claim_slot(self, skill: str, slot: str) -> bool:
        """Claim one cron slot for ``skill``; False if it was already claimed (never twice)."""
        with self.db.conn:
            cursor = self.db.conn.execute(
                "INSERT OR IGNORE INTO schedule_slots (skill, slot, claimed_at) VALUES (?, ?, ?)",
                [skill, slot, ts(now())],
            )
        return cursor.rowcount == 1

    # -- language-model spend, alerts and proposed actions -----------------------------------
    def spend(self, skill: str, since: str) -> float:
        """Model cost recorded for ``skill`` since the timestamp text ``since``."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(cost), 0) FROM executions WHERE skill = ? AND started_at >= ?",
            [skill, since],
        ).fetchone()
        return float(row[0])

    def alert_once(self, key: str, message: str) -> bool:
        """Record an alert; False if this key was already alerted (so it is sent once)."""
        with self.db.conn:
            cursor = self.db.conn.execute(
                "INSERT OR IGNORE INTO alerts (key, at, message) VALUES (?, ?, ?)",
                [key, ts(now()), message],
            )
        return cursor.rowcount == 1

    def save_proposal(self, proposal_id: str, caller: str, skill: str, args: dict) -> None:
        self.db["proposals"].insert(
            {
                "id": proposal_id,
                "caller": caller,
                "skill": skill,
                "args": json.dumps(args),
                "created_at": ts(now()),
            }
        )

    def take_proposal(self, proposal_id: str, caller: str) -> dict | None:
        """The caller's unused proposal, marked used (so a double click acts once)."""
        with self.db.conn:
            cursor = self.db.conn.execute(
                "UPDATE proposals SET used_at = ? WHERE id = ? AND caller = ? AND used_at IS NULL",
                [ts(now()), proposal_id, caller],
            )
            if cursor.rowcount != 1:
                return None
            row = self.db.execute(
                "SELECT skill, args, created_at FROM proposals WHERE id = ?", [proposal_id]
            ).fetchone()
        return {"skill": row[0], "args": json.loads(row[1]), "created_at": row[2]}
