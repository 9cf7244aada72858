"""Shadow runs in the system of record (m023): one ``canary_runs`` row per shadow run (its
diff against the live run it shadowed, linked by that run's execution and workflow ids) and
the latest shadow plan per skill and candidate version in ``assignments_canary`` (the
Assignments_canary tab),
written together in one transaction. Never the Assignments tab."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from bot.canary.diff import Placement, PlanDiff
from bot.db.base import Database
from bot.stores.workbook import CANARY_SHEET_HEADERS
from bot.stores.workbook import CANARY_TAB as CANARY_TAB  # the tab's name, re-exported

TAB_HEADERS = (
    "Order ID", "Priority", "Score", "Why", "Assigned Agent", "Live Priority", "Live Agent",
    "Differs", "Version", "Canary Run", "Live Run", "Workflow ID", "Updated At",
)  # fmt: skip
_COLUMNS = (
    "order_id", "priority", "score", "why", "assigned_agent", "live_priority", "live_agent",
    "differs", "version", "canary_run", "live_run", "workflow_id", "updated_at",
)  # fmt: skip
SHEET_HEADERS = CANARY_SHEET_HEADERS
"""The Assignments_canary sheet tab's headers: ``tab()``'s keys, skill and version first (the
sheet sync mirrors the table there, ``bot.sync.sheets_sync``)."""


@dataclass(frozen=True)
class ShadowRun:
    """One shadow run of a candidate: what it shadowed and how it ended."""

    id: str
    skill: str
    version: str
    live_execution_id: str
    workflow_id: str
    at: str
    outcome: str
    duration_ms: float
    error: str | None = None
    kind: str = "shadow"  # or "try": beside a dry run (``ecm-bot canary try``), not counted


class CanaryStore:
    def __init__(self, db: Database):
        self.db = db

    def record(
        self,
        run: ShadowRun,
        diff: PlanDiff | None = None,
        live: Mapping[str, Placement] | None = None,
        plan: Mapping[str, Placement] | None = None,
    ) -> None:
        """The run's row and, when it produced a plan, that plan as the skill's canary tab."""
        d = diff.as_dict() if diff else {}
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO canary_runs (id, skill, version, kind, live_execution_id, "
                "workflow_id, at, outcome, error, duration_ms, orders, agent_differs, "
                "priority_differs, either_differs, diff, only_live, only_candidate) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run.id, run.skill, run.version, run.kind, run.live_execution_id,
                    run.workflow_id,
                    run.at, run.outcome, run.error, run.duration_ms, d.get("orders"),
                    d.get("agent_differs"), d.get("priority_differs"), d.get("either_differs"),
                    diff.share if diff else None, json.dumps(d.get("only_live", [])),
                    json.dumps(d.get("only_candidate", [])),
                ],
            )  # fmt: skip
            if plan is None or live is None or diff is None:
                return
            differs = set(diff.either_differs)
            self.db.execute(
                "DELETE FROM assignments_canary WHERE skill = ? AND version = ?",
                [run.skill, run.version],
            )
            self.db.executemany(
                f"INSERT INTO assignments_canary (skill, {', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})",
                [
                    [
                        run.skill, oid, p.priority, p.score, p.why, p.agent,
                        live[oid].priority if oid in live else "",
                        live[oid].agent if oid in live else "",
                        "yes" if oid in differs else "", run.version, run.id,
                        run.live_execution_id, run.workflow_id, run.at,
                    ]
                    for oid, p in sorted(plan.items())
                ],
            )  # fmt: skip

    def runs(self, skill: str, version: str | None = None, kind: str = "shadow") -> list[dict]:
        """A skill's shadow runs (of one version), oldest first."""
        sql, args = "SELECT * FROM canary_runs WHERE skill = ? AND kind = ?", [skill, kind]
        if version is not None:
            sql, args = sql + " AND version = ?", [skill, kind, version]
        rows = self.db.query(sql + " ORDER BY at, id", args)
        for r in rows:
            r["only_live"] = json.loads(r["only_live"] or "[]")
            r["only_candidate"] = json.loads(r["only_candidate"] or "[]")
        return rows

    def run(self, run_id: str) -> dict | None:
        row = self.db.one("SELECT * FROM canary_runs WHERE id = ?", [run_id])
        if row is not None:
            row["only_live"] = json.loads(row["only_live"] or "[]")
            row["only_candidate"] = json.loads(row["only_candidate"] or "[]")
        return row

    def tab(self, skill: str | None = None) -> list[dict]:
        """The canary tab's rows (one skill's, or every skill's), keyed by its headers."""
        sql = f"SELECT skill, {', '.join(_COLUMNS)} FROM assignments_canary"
        rows = self.db.query(
            sql + (" WHERE skill = ?" if skill else "") + " ORDER BY skill, order_id",
            [skill] if skill else [],
        )
        return [
            {"Skill": r["skill"], **{h: r[c] for h, c in zip(TAB_HEADERS, _COLUMNS, strict=True)}}
            for r in rows
        ]
