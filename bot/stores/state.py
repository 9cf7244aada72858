"""The bot's own state in the system of record: triage runs, the audit log, access denials,
executions, locks with leases, seen Slack events, cron slot claims, model spend, alerts and
proposals. Implements the guard's DenialSink. Every method is one short transaction, or joins
the caller's (``db.transaction()``), so a state change and its audit row commit together."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.clock import now, parse_ts, ts
from bot.db.base import Database
from bot.errors import Conflict

HOST = socket.gethostname()


@dataclass(frozen=True)
class LockTaken:
    """A lock now held; ``took_over`` describes a dead holder it replaced, if any."""

    name: str
    holder: str
    took_over: str | None = None


def _process_gone(pid: object) -> bool:
    """True when ``pid`` is no process on this host (a holder that died without releasing)."""
    try:
        os.kill(int(str(pid)), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError, OverflowError):
        return False
    return False


class StateStore:
    """Bot state on a ``Database`` (SQLite or PostgreSQL)."""

    def __init__(self, db: Database):
        self.db = db

    # -- denials and audit -------------------------------------------------------------------
    def record_denial(self, *, caller: str, skill: str, role: str, resource: str, rule: str):
        self.db.execute(
            "INSERT INTO access_denials (at, caller, skill, role, resource, rule) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [ts(now()), caller, skill, role, resource, rule],
        )

    def denials(self) -> list[dict]:
        return self.db.query("SELECT * FROM access_denials ORDER BY id")

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
        self.db.execute(
            "INSERT INTO audit_log (at, actor, action, target, before, after, workflow_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                ts(now()),
                actor,
                action,
                target,
                json.dumps(before, default=str),
                json.dumps(after, default=str),
                workflow_id,
            ],
        )

    def audit_entries(self, target: str | None = None) -> list[dict]:
        if target:
            return self.db.query("SELECT * FROM audit_log WHERE target = ? ORDER BY id", [target])
        return self.db.query("SELECT * FROM audit_log ORDER BY id")

    # -- locks with leases -------------------------------------------------------------------
    def acquire_lock(self, name: str, holder: str, ttl_seconds: int) -> LockTaken:
        """Take a named lock, or raise Conflict saying who holds it and since when. A holder
        whose lease expired, or whose process is gone on this host, is taken over.

        Race-free on both engines: the claim is an INSERT ... ON CONFLICT DO NOTHING (a rival's
        uncommitted claim makes it wait, then find the row), and a takeover is an UPDATE
        conditional on the dead holder's row, so of two takers exactly one wins."""
        current = now()
        mine = [
            holder,
            ts(current),
            ts(current + timedelta(seconds=ttl_seconds)),
            HOST,
            os.getpid(),
            ts(current),
        ]
        with self.db.transaction():
            if self.db.query(
                "INSERT INTO locks (name, holder, acquired_at, expires_at, host, pid, "
                "heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING RETURNING name",
                [name, *mine],
            ):
                return LockTaken(name, holder)
            row = self.db.one("SELECT * FROM locks WHERE name = ?", [name])
            if row is None:  # released between our two statements: a plain retry
                return self.acquire_lock(name, holder, ttl_seconds)
            expired = parse_ts(row["expires_at"]) <= current
            gone = row.get("host") == HOST and row.get("pid") and _process_gone(row["pid"])
            if (expired or gone) and self.db.execute(
                "UPDATE locks SET holder = ?, acquired_at = ?, expires_at = ?, host = ?, "
                "pid = ?, heartbeat_at = ? WHERE name = ? AND holder = ? AND acquired_at = ? "
                "AND COALESCE(pid, 0) = ?",
                [*mine, name, row["holder"], row["acquired_at"], row.get("pid") or 0],
            ):
                why = "its process is gone" if gone else "its lease expired"
                return LockTaken(
                    name,
                    holder,
                    f"the {name} started by {row['holder']} at {row['acquired_at']} UTC "
                    f"did not finish ({why})",
                )
            if expired or gone:  # another replica took it over first
                row = self.db.one("SELECT * FROM locks WHERE name = ?", [name]) or row
        started = parse_ts(row["acquired_at"])
        where = f" on {row['host']}" if row.get("host") else ""
        raise Conflict(
            f"A {name} is already running: started by {row['holder']}{where} at "
            f"{started:%H:%M:%S} UTC ({int((current - started).total_seconds())} s ago). "
            "Wait for it to finish."
        )

    def heartbeat(self, name: str, holder: str, ttl_seconds: int) -> bool:
        """Extend our lease; False if the lock is no longer ours."""
        current = now()
        return (
            self.db.execute(
                "UPDATE locks SET heartbeat_at = ?, expires_at = ? "
                "WHERE name = ? AND holder = ? AND host = ? AND pid = ?",
                [
                    ts(current),
                    ts(current + timedelta(seconds=ttl_seconds)),
                    name,
                    holder,
                    HOST,
                    os.getpid(),
                ],
            )
            == 1
        )

    def release_lock(self, name: str, holder: str) -> None:
        self.db.execute(
            "DELETE FROM locks WHERE name = ? AND holder = ? AND host = ? AND pid = ?",
            [name, holder, HOST, os.getpid()],
        )

    def lock(self, name: str) -> dict | None:
        return self.db.one("SELECT * FROM locks WHERE name = ?", [name])

    # -- triage runs -------------------------------------------------------------------------
    def start_triage_run(self, run_id: str, workflow_id: str, started_by: str, dry_run: bool):
        self.db.execute(
            "INSERT INTO triage_runs (id, workflow_id, started_by, started_at, status, dry_run) "
            "VALUES (?, ?, ?, ?, 'running', ?)",
            [run_id, workflow_id, started_by, ts(now()), int(dry_run)],
        )

    def finish_triage_run(self, run_id: str, status: str, summary: dict) -> None:
        self.db.execute(
            "UPDATE triage_runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
            [ts(now()), status, json.dumps(summary, default=str), run_id],
        )

    def fail_unfinished_runs(self, why: str) -> int:
        """Mark runs still 'running' as failed (call while holding the triage lock)."""
        return self.db.execute(
            "UPDATE triage_runs SET finished_at = ?, status = 'failed', summary = ? "
            "WHERE status = 'running'",
            [ts(now()), json.dumps({"error": why})],
        )

    def triage_runs(self) -> list[dict]:
        return self.db.query("SELECT * FROM triage_runs ORDER BY started_at, id")

    def last_triage_run(self) -> dict | None:
        """The newest triage that wrote (not a dry run) and has finished, done or failed."""
        return self.db.one(
            "SELECT * FROM triage_runs WHERE dry_run = 0 AND status <> 'running' "
            "ORDER BY started_at DESC, id DESC LIMIT 1"
        )

    # -- executions --------------------------------------------------------------------------
    EXECUTION_COLUMNS = (
        "id", "workflow_id", "parent_id", "skill", "role", "caller", "trigger", "started_at",
        "duration_ms", "outcome", "error", "metrics", "order_ids", "model", "fallback_used",
        "tokens_in", "tokens_out", "cost", "tool_calls", "recorded_at",
    )  # fmt: skip

    def record_execution(self, record: dict) -> None:
        row = dict(record)
        # to the microsecond: orders runs that started in the same second (alerts' last run)
        row["recorded_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        row["metrics"] = json.dumps(row.get("metrics") or {}, default=str)
        row["tool_calls"] = json.dumps(row.get("tool_calls") or [], default=str)
        row["order_ids"] = ",".join(row.get("order_ids") or [])
        if "fallback_used" in row and row["fallback_used"] is not None:
            row["fallback_used"] = int(row["fallback_used"])
        values = [row.get(c) for c in self.EXECUTION_COLUMNS]
        # a run whose skill assigns orders (its config's output.assigns): later field work
        # on those orders joins its workflow (``workflow_for_order``)
        joins = bool(record.get("assigns") and row.get("outcome") == "ok" and row["order_ids"])
        if not joins:  # one plain INSERT (its own transaction): every run records once
            self.db.execute(_INSERT_EXECUTION, values)
            return
        with self.db.transaction():
            self.db.execute(_INSERT_EXECUTION, values)
            self.db.executemany(
                "INSERT INTO order_workflows (order_id, workflow_id, execution_id, at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET "
                "workflow_id = excluded.workflow_id, execution_id = excluded.execution_id, "
                "at = excluded.at",
                [
                    (oid, row.get("workflow_id"), row["id"], row.get("started_at"))
                    for oid in record.get("order_ids") or []
                ],
            )

    def executions(self, day: str | None = None) -> list[dict]:
        """Executions in start order; one UTC day's (an index range) when ``day`` is given."""
        if day:
            rows = self.db.query(
                "SELECT * FROM executions WHERE started_at >= ? AND started_at < ? "
                "ORDER BY started_at, id",
                [day, day + "~"],
            )
        else:
            rows = self.db.query("SELECT * FROM executions ORDER BY started_at, id")
        return [_decode_execution(r) for r in rows]

    def workflow_for_order(self, order_id: str) -> tuple[str, str] | None:
        """(workflow id, execution id) of the manager run that last assigned ``order_id``."""
        row = self.db.one(
            "SELECT workflow_id, execution_id FROM order_workflows WHERE order_id = ?",
            [order_id],
        )
        return (row["workflow_id"], row["execution_id"]) if row else None

    # -- roster ------------------------------------------------------------------------------
    def roster_version(self) -> int:
        """The roster's version: the database bumps it on every change to the Agents table
        (m011), so a cache of roster lookups is fresh while it holds the same number."""
        return int(self.db.scalar("SELECT version FROM roster_version WHERE id = 1") or 0)

    # -- redelivery dedupe ------------------------------------------------------------------
    def first_time(self, key: str) -> bool:
        """Record ``key`` (an event id, message id or action ts); False if already seen."""
        return bool(
            self.db.query(
                "INSERT INTO seen_events (key, at) VALUES (?, ?) "
                "ON CONFLICT (key) DO NOTHING RETURNING key",
                [key, ts(now())],
            )
        )

    # -- scheduled slots ---------------------------------------------------------------------
    def claim_slot(self, skill: str, slot: str) -> bool:
        """Claim one cron slot for ``skill``; False if it was already claimed (never twice)."""
        return bool(
            self.db.query(
                "INSERT INTO schedule_slots (skill, slot, claimed_at) VALUES (?, ?, ?) "
                "ON CONFLICT (skill, slot) DO NOTHING RETURNING slot",
                [skill, slot, ts(now())],
            )
        )

    def unclaim_slot(self, skill: str, slot: str) -> None:
        """Give a claimed slot back (its run was deferred), so a later tick retries it."""
        self.db.execute("DELETE FROM schedule_slots WHERE skill = ? AND slot = ?", [skill, slot])

    def finish_slot(
        self, skill: str, slot: str, outcome: str, *, error: str = "", execution_id: str = ""
    ) -> None:
        """Record how a claimed slot's run ended ('ok', 'refused', 'error'; the dead man's
        switch in ``bot/alerts`` reads it)."""
        self.db.execute(
            "UPDATE schedule_slots SET outcome = ?, finished_at = ?, error = ?, "
            "execution_id = ? WHERE skill = ? AND slot = ?",
            [outcome, ts(now()), error or None, execution_id or None, skill, slot],
        )

    # -- language-model spend, alerts and proposed actions -----------------------------------
    def spend(self, skill: str, since: str) -> float:
        """Model cost recorded for ``skill`` since the timestamp text ``since``."""
        value = self.db.scalar(
            "SELECT COALESCE(SUM(cost), 0) AS spent FROM executions "
            "WHERE skill = ? AND started_at >= ?",
            [skill, since],
        )
        rolled = self.db.scalar(
            "SELECT COALESCE(SUM(cost), 0) AS spent FROM execution_days "
            "WHERE skill = ? AND day >= ?",
            [skill, since[:10]],
        )
        return float(value or 0) + float(rolled or 0)

    def alert_once(self, key: str, message: str) -> bool:
        """Record an alert; False if this key was already alerted (so it is sent once)."""
        return bool(
            self.db.query(
                "INSERT INTO alerts (key, at, message) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO NOTHING RETURNING key",
                [key, ts(now()), message],
            )
        )

    def save_proposal(self, proposal_id: str, caller: str, skill: str, args: dict) -> None:
        self.db.execute(
            "INSERT INTO proposals (id, caller, skill, args, created_at) VALUES (?, ?, ?, ?, ?)",
            [proposal_id, caller, skill, json.dumps(args), ts(now())],
        )

    def take_proposal(self, proposal_id: str, caller: str) -> dict | None:
        """The caller's unused proposal, marked used (so a double click acts once)."""
        row = self.db.one(
            "UPDATE proposals SET used_at = ? WHERE id = ? AND caller = ? AND used_at IS NULL "
            "RETURNING skill, args, created_at",
            [ts(now()), proposal_id, caller],
        )
        if row is None:
            return None
        return {
            "skill": row["skill"],
            "args": json.loads(row["args"]),
            "created_at": row["created_at"],
        }

    # -- retention ---------------------------------------------------------------------------
    def prune(self, moment: datetime, *, keep_days: int, seen_hours: int = 24) -> dict:
        """Forget seen-event keys older than ``seen_hours``; roll executions older than
        ``keep_days`` into daily totals, then delete them. Small batches, one transaction each,
        so nothing on the request path waits long."""
        seen_cut = ts(moment - timedelta(hours=seen_hours))
        seen = self.db.execute("DELETE FROM seen_events WHERE at < ?", [seen_cut])
        cut = ts(moment - timedelta(days=keep_days))[:10]
        pruned = 0
        while True:
            day = self.db.scalar(
                "SELECT MIN(started_at) AS first FROM executions WHERE started_at < ?", [cut]
            )
            if not day:
                break
            day = str(day)[:10]
            with self.db.transaction():
                self.db.execute(
                    "INSERT INTO execution_days (day, skill, outcome, runs, total_ms, max_ms, "
                    "cost, tokens_in, tokens_out) "
                    "SELECT ?, skill, outcome, COUNT(*), SUM(duration_ms), MAX(duration_ms), "
                    "COALESCE(SUM(cost), 0), COALESCE(SUM(tokens_in), 0), "
                    "COALESCE(SUM(tokens_out), 0) FROM executions "
                    "WHERE started_at >= ? AND started_at < ? GROUP BY skill, outcome "
                    "ON CONFLICT (day, skill, outcome) DO UPDATE SET "
                    "runs = execution_days.runs + excluded.runs, "
                    "total_ms = execution_days.total_ms + excluded.total_ms, "
                    "max_ms = CASE WHEN excluded.max_ms > execution_days.max_ms "
                    "THEN excluded.max_ms ELSE execution_days.max_ms END, "
                    "cost = execution_days.cost + excluded.cost, "
                    "tokens_in = execution_days.tokens_in + excluded.tokens_in, "
                    "tokens_out = execution_days.tokens_out + excluded.tokens_out",
                    [day, day, day + "~"],
                )
                pruned += self.db.execute(
                    "DELETE FROM executions WHERE started_at >= ? AND started_at < ?",
                    [day, day + "~"],
                )
        return {"seen_events": seen, "executions": pruned}

    def execution_days(self) -> list[dict]:
        return self.db.query("SELECT * FROM execution_days ORDER BY day, skill, outcome")


_INSERT_EXECUTION = (
    f"INSERT INTO executions ({', '.join(StateStore.EXECUTION_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(StateStore.EXECUTION_COLUMNS))})"
)


def _decode_execution(r: dict) -> dict:
    r["metrics"] = json.loads(r["metrics"] or "{}")
    r["tool_calls"] = json.loads(r.get("tool_calls") or "[]")
    r["order_ids"] = [x for x in (r["order_ids"] or "").split(",") if x]
    return r
