"""What the alert rules read from the system of record, each an indexed look-up (the skill and
start-time index of the executions, the slot claims, the sync status), so a pass stays cheap
at a million executions."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.base import Database
from bot.stores.reports import p95_rank

FINISHED = "outcome IN ('ok', 'error')"
"""Runs that say whether the skill works: ok, or failed (refusals and denials are the
caller's, not the skill's)."""


@dataclass(frozen=True)
class Window:
    """One skill's executions started in [since, until]."""

    since: str
    until: str
    runs: int = 0  # every execution, refused and denied included (as ``ecm-bot metrics``)
    ok: int = 0
    errors: int = 0
    timed: int = 0
    p95_ms: float = 0.0
    last_problem: dict | None = None  # the newest run in the window that was not ok


def window(db: Database, skill: str, since: str, until: str) -> Window:
    """Counts, p95 and the newest problem of ``skill``'s runs in the window."""
    where, params = "skill = ? AND started_at >= ? AND started_at <= ?", [skill, since, until]
    row = db.one(
        "SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE outcome = 'ok') AS ok, "
        "COUNT(*) FILTER (WHERE outcome = 'error') AS errors, COUNT(duration_ms) AS timed "
        f"FROM executions WHERE {where}",
        params,
    ) or {"n": 0, "ok": 0, "errors": 0, "timed": 0}
    runs, timed = int(row["n"] or 0), int(row["timed"] or 0)
    if not runs:
        return Window(since, until)
    p95 = 0.0
    if timed:
        p95 = float(
            db.scalar(
                # "+ 0": sort the window's rows (found by start time) rather than walk the
                # skill's whole duration index, which planners otherwise pick
                f"SELECT duration_ms FROM executions WHERE {where} AND duration_ms IS NOT NULL "
                "ORDER BY duration_ms + 0 DESC LIMIT 1 OFFSET ?",
                [*params, timed - 1 - p95_rank(timed)],
            )
            or 0
        )
    problem = _newest(db, f"{where} AND outcome <> 'ok'", params)
    return Window(
        since, until, runs, int(row["ok"] or 0), int(row["errors"] or 0), timed, p95, problem
    )


def last_finished(db: Database, skill: str, until: str) -> dict | None:
    """The newest run of ``skill`` started by ``until`` that finished ok or failed."""
    return _newest(db, f"skill = ? AND started_at <= ? AND {FINISHED}", [skill, until])


def _newest(db: Database, where: str, params: list) -> dict | None:
    """The newest execution matching ``where`` (on ``skill`` and ``started_at``): a reverse
    walk of the skill/start index to the newest second, then, among the runs of that second,
    the one recorded last."""
    second = db.scalar(
        f"SELECT started_at FROM executions WHERE {where} ORDER BY started_at DESC LIMIT 1",
        params,
    )
    if second is None:
        return None
    return db.one(
        "SELECT id, workflow_id, outcome, error, started_at FROM executions "
        f"WHERE {where} AND started_at = ? ORDER BY COALESCE(recorded_at, '') DESC LIMIT 1",
        [*params, second],
    )


def slots(db: Database, skill: str, since: str) -> tuple[str | None, dict[str, dict]]:
    """(the first slot ever claimed for ``skill``, which arms its dead man's switch; the
    claims from ``since`` on, by slot)."""
    armed = db.scalar("SELECT MIN(slot) AS first FROM schedule_slots WHERE skill = ?", [skill])
    rows = db.query(
        "SELECT slot, claimed_at, outcome, finished_at, error, execution_id FROM schedule_slots "
        "WHERE skill = ? AND slot >= ?",
        [skill, since],
    )
    return (str(armed) if armed else None), {str(r["slot"]): r for r in rows}


def open_p1_tickets(db: Database) -> int:
    """Open P1 tickets (assigned, in progress or waiting): what a manager failure affects."""
    return int(
        db.scalar(
            "SELECT COUNT(*) AS n FROM assignments WHERE priority = 'P1' "
            "AND status IN ('ASSIGNED', 'IN_PROGRESS', 'WAITING')"
        )
        or 0
    )


def sync_status(db: Database) -> dict | None:
    """The sheet sync's last outcome (``bot/sync``), or None if it never ran."""
    return db.one("SELECT * FROM sync_status WHERE name = 'sheets'")
