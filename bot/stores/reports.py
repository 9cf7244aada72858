"""Reports over the executions table, computed by the database: ``ecm-bot metrics``,
``ecm-bot trace`` and ``ecm-bot costs`` answer from indexes without reading every execution
into Python, on SQLite and on PostgreSQL alike.

- **Tiers** (all / per role / per skill): every count and success rate comes from one pass
  grouped by skill over a covering index; the p95 is exact, the value at ``ceil(0.95 n)`` in
  duration order, read with ``ORDER BY duration_ms DESC LIMIT 1 OFFSET n - ceil(0.95 n)``
  on an index (so the walk covers the top 5 % of the group, not the other 95 %).
- **Custom metrics** ("last" and "total" per skill and key) cover a recent window (default the
  last 7 days): the JSON ``metrics`` column is unpacked by the database, the only SQL here
  that differs per engine (``json_each`` on both, spelled per engine).
- **Spend** (``costs``): model runs grouped per day and skill, plus the ``execution_days``
  roll-ups of days already pruned from ``executions``.
- **Trace**: one day's executions, an index range on ``started_at``.

The figures are right without any extra index, but fast (well under a second at a million
executions) thanks to the indexes of migration m009; without them the tiers are a full scan
and a sort.
SQLite needs 3.30 or later (aggregate ``FILTER``) with JSON1 (built in since 3.38).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import now, ts
from bot.db.base import Database
from bot.stores.state import StateStore

CUSTOM_DAYS = 7
"""The default window of the custom metrics, in days."""

MODEL_RUN = "(cost <> 0 OR tokens_in <> 0)"
"""An execution that used a language model (m009's partial index condition, verbatim)."""

_CUSTOM_SQL = {
    "sqlite": (
        "SELECT e.skill AS skill, j.key AS key, SUM(j.value) AS total, "
        "SUM(CASE WHEN j.type = 'real' THEN 1 ELSE 0 END) AS reals "
        "FROM executions e, json_each(e.metrics) j "
        "WHERE e.started_at >= ? AND j.type IN ('integer', 'real') "
        "GROUP BY e.skill, j.key"
    ),
    "postgres": (
        "SELECT e.skill AS skill, j.key AS key, "
        "SUM(CAST(j.value #>> '{}' AS NUMERIC)) AS total, "
        "SUM(CASE WHEN (j.value #>> '{}') ~ '[.eE]' THEN 1 ELSE 0 END) AS reals "
        "FROM executions e CROSS JOIN LATERAL json_each(CAST(e.metrics AS json)) j "
        "WHERE e.started_at >= ? AND json_typeof(j.value) = 'number' "
        "GROUP BY e.skill, j.key"
    ),
}


def _check(column: str) -> None:
    if column not in ("role", "skill"):
        raise ValueError(f"no tier by {column!r}")


def p95_rank(n: int) -> int:
    """The 0-based position of the p95 in ``n`` values sorted ascending."""
    return max(0, math.ceil(0.95 * n) - 1)


@dataclass
class Tier:
    """Counts of one group of executions (everything, one role or one skill)."""

    executions: int = 0
    ok: int = 0
    timed: int = 0  # executions with a duration
    p95_ms: float = 0.0

    def summary(self) -> dict:
        return {
            "executions": self.executions,
            "success_rate": round(self.ok / self.executions, 3) if self.executions else None,
            "p95_ms": round(self.p95_ms, 1),
        }


@dataclass
class Spend:
    """Model use of one skill."""

    today: float = 0.0
    month: float = 0.0
    runs: int = 0
    max_run: float = 0.0
    tokens: int = 0

    def as_dict(self) -> dict:
        return {
            "today": self.today,
            "month": self.month,
            "runs": self.runs,
            "max_run": self.max_run,
            "tokens": self.tokens,
        }


@dataclass
class Costs:
    """Spend per skill (today, this month, runs, largest run, tokens) and per UTC day."""

    per_skill: dict[str, Spend] = field(default_factory=dict)
    per_day: dict[str, float] = field(default_factory=dict)


class Reports:
    """The reports of one system-of-record database."""

    def __init__(self, db: Database):
        self.db = db

    # -- tiers -------------------------------------------------------------------------------
    def tiers(self) -> dict:
        """{"all": Tier, "by_role": {role: Tier}, "by_skill": {skill: Tier}}: every count in
        one grouped pass over the skill index, then one indexed p95 look-up per group."""
        roles = self.distinct("role")
        cols = ["skill", "COUNT(*) AS n", "COUNT(*) FILTER (WHERE outcome = 'ok') AS ok"]
        params: list = []
        for i, role in enumerate(roles):
            cols += [
                f"COUNT(*) FILTER (WHERE role = ?) AS n{i}",
                f"COUNT(*) FILTER (WHERE role = ? AND outcome = 'ok') AS ok{i}",
            ]
            params += [role, role]
        rows = self.db.query(f"SELECT {', '.join(cols)} FROM executions GROUP BY skill", params)
        untimed: dict[tuple, int] = defaultdict(int)  # executions without a duration
        for r in self.db.query(
            "SELECT role, skill, COUNT(*) AS n FROM executions WHERE duration_ms IS NULL "
            "GROUP BY role, skill"
        ):
            untimed[(None, None)] += int(r["n"])
            untimed[("role", r["role"])] += int(r["n"])
            untimed[("skill", r["skill"])] += int(r["n"])
        everything = Tier()
        by_role = {role: Tier() for role in roles}
        by_skill: dict[str, Tier] = {}
        for r in rows:
            n, ok = int(r["n"]), int(r["ok"] or 0)
            everything.executions += n
            everything.ok += ok
            if r["skill"] is not None:
                by_skill[r["skill"]] = Tier(n, ok)
            for i, role in enumerate(roles):
                by_role[role].executions += int(r[f"n{i}"] or 0)
                by_role[role].ok += int(r[f"ok{i}"] or 0)
        groups: list[tuple[str | None, str | None, Tier]] = [(None, None, everything)]
        groups += [("role", k, v) for k, v in by_role.items()]
        groups += [("skill", k, v) for k, v in by_skill.items()]
        for column, value, tier in groups:
            tier.timed = tier.executions - untimed[(column, value)]
            tier.p95_ms = self._p95(column, value, tier.timed)
        return {
            "all": everything,
            "by_role": dict(sorted(by_role.items())),
            "by_skill": dict(sorted(by_skill.items())),
        }

    def distinct(self, column: str) -> list[str]:
        """The distinct non-null values of an indexed column, one index step each."""
        _check(column)
        values: list[str] = []
        while True:
            after = (f" WHERE {column} > ?", [values[-1]]) if values else ("", [])
            found = self.db.scalar(f"SELECT MIN({column}) AS v FROM executions{after[0]}", after[1])
            if found is None:
                return sorted(values)
            values.append(found)

    def _p95(self, column: str | None, value: str | None, timed: int) -> float:
        if not timed:
            return 0.0
        if column is None:
            where, params = "", []
        else:
            _check(column)
            where, params = f"{column} = ? AND ", [value]
        found = self.db.scalar(
            f"SELECT duration_ms FROM executions WHERE {where}duration_ms IS NOT NULL "
            "ORDER BY duration_ms DESC LIMIT 1 OFFSET ?",
            [*params, timed - 1 - p95_rank(timed)],
        )
        return float(found or 0)

    # -- custom metrics ----------------------------------------------------------------------
    def custom_metrics(self, since: str) -> dict[str, dict[str, dict]]:
        """skill → metric → {"last", "total"} over executions started at or after ``since``
        (numeric values only; "last" is the latest execution's value)."""
        rows = self.db.query(_CUSTOM_SQL[self.db.engine], [since])
        found: dict[str, dict[str, dict]] = defaultdict(dict)
        for r in sorted(rows, key=lambda r: (r["skill"] or "", r["key"])):
            if r["skill"] is None:
                continue
            total = r["total"]
            value = round(float(total), 4) if r["reals"] else int(total)
            found[r["skill"]][r["key"]] = {"last": None, "total": value}
        for skill, metrics in found.items():
            self._fill_last(skill, since, metrics)
        return dict(found)

    def latest_custom(
        self, skill: str, keys: list[str], since: str, max_rows: int = 64
    ) -> dict[str, float]:
        """The latest value of each of ``keys`` that ``skill`` reported since ``since``, read
        from at most ``max_rows`` of its newest executions (an index range on skill and start:
        cheap enough for every ``/metrics`` scrape)."""
        found: dict[str, dict] = {k: {"last": None} for k in keys}
        self._fill_last(skill, since, found, max_rows)
        return {k: v["last"] for k, v in found.items() if v["last"] is not None}

    def _fill_last(
        self, skill: str, since: str, metrics: dict[str, dict], max_rows: int | None = None
    ) -> None:
        """The latest value of each metric: the newest executions first, a few at a time
        (at most ``max_rows`` of them when given)."""
        missing, offset, batch = set(metrics), 0, 8
        while missing and (max_rows is None or offset < max_rows):
            batch = batch if max_rows is None else min(batch, max_rows - offset)
            rows = self.db.query(
                "SELECT metrics FROM executions WHERE skill = ? AND started_at >= ? "
                "ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?",
                [skill, since, batch, offset],
            )
            for r in rows:
                values = json.loads(r["metrics"] or "{}")
                for key in list(missing):
                    v = values.get(key) if isinstance(values, dict) else None
                    if isinstance(v, int | float) and not isinstance(v, bool):
                        metrics[key]["last"] = v
                        missing.discard(key)
            if len(rows) < batch:
                break
            offset, batch = offset + batch, batch * 4

    # -- open tickets (the business gauges of ``/metrics``) ----------------------------------
    def open_tickets(self, statuses: tuple[str, ...]) -> list[dict]:
        """Each ticket in ``statuses``: priority, status, stuck reason, hours stuck at its last
        triage, and that triage's start (a primary-key look-up; None once it was pruned) or
        else when it was assigned."""
        marks = ", ".join("?" * len(statuses))
        return self.db.query(
            "SELECT a.priority AS priority, a.status AS status, a.stuck_reason AS reason, "
            "a.hours_stuck_at_triage AS hours, a.assigned_at AS assigned_at, "
            "e.started_at AS triaged_at "
            "FROM assignments a LEFT JOIN executions e ON e.id = a.triage_run "
            f"WHERE a.status IN ({marks})",
            list(statuses),
        )

    # -- spend -------------------------------------------------------------------------------
    def costs(self, moment: datetime | None = None) -> Costs:
        """Model spend per skill and per day: executions that used a model, plus the daily
        roll-ups of pruned days (their runs are the roll-up's runs with spend; the largest
        run comes from the executions still kept)."""
        stamp = ts(moment or now())
        today, month = stamp[:10], stamp[:7]
        kept = self.db.query(
            "SELECT substr(started_at, 1, 10) AS day, skill, COUNT(*) AS runs, "
            "COALESCE(SUM(cost), 0) AS spend, MAX(COALESCE(cost, 0)) AS max_run, "
            "COALESCE(SUM(COALESCE(tokens_in, 0) + COALESCE(tokens_out, 0)), 0) AS tokens "
            f"FROM executions WHERE {MODEL_RUN} GROUP BY substr(started_at, 1, 10), skill"
        )
        rolled = self.db.query(
            "SELECT day, skill, COALESCE(SUM(runs), 0) AS runs, COALESCE(SUM(cost), 0) AS spend, "
            "0 AS max_run, "
            "COALESCE(SUM(COALESCE(tokens_in, 0) + COALESCE(tokens_out, 0)), 0) AS tokens "
            f"FROM execution_days WHERE {MODEL_RUN} GROUP BY day, skill"
        )
        out = Costs()
        per_day: dict[str, float] = defaultdict(float)
        for r in kept + rolled:
            day, spend = str(r["day"]), float(r["spend"] or 0)
            s = out.per_skill.setdefault(r["skill"], Spend())
            s.runs += int(r["runs"] or 0)
            s.tokens += int(r["tokens"] or 0)
            s.max_run = max(s.max_run, float(r["max_run"] or 0))
            s.today += spend if day == today else 0
            s.month += spend if day.startswith(month) else 0
            per_day[day] += spend
        out.per_day = dict(sorted(per_day.items()))
        return out

    # -- trace -------------------------------------------------------------------------------
    def day(self, day: str) -> list[dict]:
        """One UTC day's executions in start order (an index range on ``started_at``)."""
        return StateStore(self.db).executions(day)

    def day_notices(self, day: str) -> list[dict]:
        """One UTC day's SLA watch notices (their audit rows: warn, renotify, escalate), the
        away agents, handovers and shift digests, in
        time order, each with its ticket's workflow (an index range on the audit log's time)."""
        rows = self.db.query(
            "SELECT at, action, target, after, workflow_id FROM audit_log "
            "WHERE at >= ? AND at < ? AND action IN ('sla_warn', 'sla_renotify', 'sla_escalate', "
            "'handover', 'handover_to_managers', 'shift_digest', 'away', 'back') "
            "ORDER BY at, id",
            [day, day + "~"],
        )
        return [{**r, "after": json.loads(r["after"] or "null") or {}} for r in rows]

    # -- everything ``ecm-bot metrics`` shows ------------------------------------------------
    def metrics(self, moment: datetime | None = None, days: int = CUSTOM_DAYS) -> dict:
        """The three tiers (all, by role, by skill with its custom metrics over ``days``)."""
        since = ts((moment or now()) - timedelta(days=days))
        custom = self.custom_metrics(since)
        tiers = self.tiers()
        return {
            "all": tiers["all"].summary(),
            "by_role": {f"ecm/{k}": v.summary() for k, v in tiers["by_role"].items()},
            "by_skill": {
                k: {**v.summary(), "custom": custom.get(k, {})}
                for k, v in tiers["by_skill"].items()
            },
            "custom_window": {"days": days, "since": since},
        }
