"""Synthetic execution history for the benchmarks: realistic rows (skills, roles, outcomes,
durations, custom metrics, model spend on about one run in ten) spread over the last 90 days
(the scheduler's retention), bulk-loaded fast: executemany in big batches on SQLite, COPY on
PostgreSQL."""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.clock import now, ts  # noqa: E402
from bot.stores.state import StateStore  # noqa: E402

COLUMNS = StateStore.EXECUTION_COLUMNS
DAYS = 90
CALLERS = {
    "field": [
        "sarah.ops@example.com",
        "dinesh.kyc@example.com",
        "alex.ops@example.com",
        "james.ops@example.com",
        "noah.ops@example.com",
    ],
    "manager": ["maya.manager@example.com", "scheduler@ecm.local"],
}
# skill, role, share of executions, median ms, custom metric (key, values)
SKILLS = [
    ("my-tickets", "field", 0.30, 6, ("active_agents", (1,))),
    ("order-details", "field", 0.25, 12, ("tickets_opened", (1,))),
    ("resolve-ticket", "field", 0.14, 25, ("sla_met_rate", (1.0, 0.0))),
    ("escalate-ticket", "field", 0.04, 20, ("escalations", (1,))),
    ("agent-router", None, 0.10, 900, None),
    ("triage-and-assign", "manager", 0.05, 400, ("orders_triaged", (120, 200, 260))),
    ("assign-tickets", "manager", 0.04, 30, ("reassignments", (1,))),
    ("run-ecm", "manager", 0.04, 80, ("sla_breaches", (0, 1, 3))),
    ("pattern-intelligence", "manager", 0.03, 150, ("anomalies_found", (0, 1))),
    ("ecm-daily-flow", "manager", 0.01, 600, ("digests_written", (1,))),
]
OUTCOMES = (("ok", 0.93), ("refused", 0.05), ("denied", 0.015), ("error", 0.005))


def generate(n: int, seed: int = 11, end: datetime | None = None) -> Iterator[tuple]:
    """``n`` execution rows (tuples in ``StateStore.EXECUTION_COLUMNS`` order) with start
    times spread evenly over the ``DAYS`` days before ``end`` (default now)."""
    rng = random.Random(seed)
    end = end or now()
    start = end - timedelta(days=DAYS)
    span = (end - start).total_seconds()
    skills = [s[0] for s in SKILLS]
    weights = [s[2] for s in SKILLS]
    spec = {s[0]: s for s in SKILLS}
    outcomes, o_weights = [o for o, _ in OUTCOMES], [w for _, w in OUTCOMES]
    base = start.timestamp()
    for i in range(n):
        skill = rng.choices(skills, weights)[0]
        _, role, _, median, metric = spec[skill]
        role = role or rng.choice(("field", "manager"))
        outcome = rng.choices(outcomes, o_weights)[0]
        started = datetime.fromtimestamp(base + span * (i + rng.random()) / n, UTC)
        model = skill == "agent-router" or rng.random() < 0.02
        metrics = {metric[0]: rng.choice(metric[1])} if metric and outcome == "ok" else {}
        yield (
            f"x{i:011x}",
            f"w{i // 4:011x}",
            None if i % 4 == 0 else f"w{i // 4:011x}",
            skill,
            role,
            rng.choice(CALLERS[role]),
            "cron" if role == "manager" and rng.random() < 0.5 else "chat",
            ts(started),
            round(rng.lognormvariate(0, 0.8) * median, 2),
            outcome,
            None if outcome == "ok" else f"{outcome}: synthetic",
            json.dumps(metrics),
            "AE136ABC00" if role == "field" else "",
            "claude-sonnet" if model else None,
            0 if model else None,
            rng.randint(300, 3000) if model else None,
            rng.randint(20, 300) if model else None,
            round(rng.uniform(0.0005, 0.01), 6) if model else None,
            "[]",
            None,  # recorded_at: only orders runs that started in the same second
        )


def load_sqlite(
    path: Path, n: int, *, seed: int = 11, batch: int = 50_000, end: datetime | None = None
) -> float:
    """Insert ``n`` rows into the (migrated) SQLite file at ``path``; seconds taken."""
    t0 = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -500000")
    sql = f"INSERT INTO executions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    rows = generate(n, seed, end)
    conn.execute("BEGIN")
    while chunk := [r for _, r in zip(range(batch), rows, strict=False)]:
        conn.executemany(sql, chunk)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - t0


def load_postgres(url: str, n: int, *, seed: int = 11, end: datetime | None = None) -> float:
    """COPY ``n`` rows into the (migrated) PostgreSQL database; seconds taken."""
    import psycopg

    t0 = time.perf_counter()
    with (
        psycopg.connect(url) as conn,
        conn.cursor() as cur,
        cur.copy(f"COPY executions ({', '.join(COLUMNS)}) FROM STDIN") as copy,
    ):
        for row in generate(n, seed, end):
            copy.write_row(row)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE executions")
    return time.perf_counter() - t0


def analyze(db) -> float:
    """Refresh planner statistics after a bulk load (the report indexes come from migration
    m009); seconds taken."""
    t0 = time.perf_counter()
    if db.engine == "postgres":
        db.execute("VACUUM ANALYZE executions")
    else:
        db.execute("ANALYZE")
    return time.perf_counter() - t0
