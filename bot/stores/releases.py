"""Which version of a skill is live, in the system of record so every replica agrees (m023).

``skill_releases`` holds one row per skill and candidate version: ``candidate`` (in shadow or
split), ``promoted`` (the candidate is live for everyone; the old version is kept for
rollback) or ``rolled_back`` (the live version runs; the candidate is stopped until its
version changes). ``skill_versions`` records each execution's version where a skill has a
candidate, which the split's success rate and p95 are read from. State changes are
conditional UPDATEs, so of two racing promotions exactly one wins."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.db.base import Database

CANDIDATE, PROMOTED, ROLLED_BACK = "candidate", "promoted", "rolled_back"


@dataclass(frozen=True)
class VersionFigures:
    """One version's executions in a window: how many, how many ok, and the p95."""

    runs: int
    ok: int
    p95_ms: float | None

    @property
    def success_rate(self) -> float | None:
        return self.ok / self.runs if self.runs else None


class Releases:
    """Release states and per-version executions on one ``Database``."""

    def __init__(self, db: Database):
        self.db = db

    def state(self, skill: str, version: str) -> dict | None:
        return self.db.one(
            "SELECT * FROM skill_releases WHERE skill = ? AND version = ?", [skill, version]
        )

    def all(self) -> list[dict]:
        return self.db.query("SELECT * FROM skill_releases ORDER BY skill, version")

    def ensure(self, skill: str, version: str, strategy: str, base_version: str, at: str) -> None:
        """The candidate's row, ``candidate`` unless it already has one."""
        self.db.execute(
            "INSERT INTO skill_releases (skill, version, state, strategy, base_version, "
            "changed_at, changed_by, reason) VALUES (?, ?, ?, ?, ?, ?, 'system', 'first seen') "
            "ON CONFLICT (skill, version) DO NOTHING",
            [skill, version, CANDIDATE, strategy, base_version, at],
        )

    def change(
        self,
        skill: str,
        version: str,
        *,
        from_states: tuple[str, ...],
        to_state: str,
        by: str,
        reason: str,
        at: str,
    ) -> bool:
        """Move the row to ``to_state`` if it is in one of ``from_states``; False if not."""
        marks = ", ".join("?" * len(from_states))
        return (
            self.db.execute(
                "UPDATE skill_releases SET state = ?, changed_at = ?, changed_by = ?, "
                f"reason = ? WHERE skill = ? AND version = ? AND state IN ({marks})",
                [to_state, at, by, reason, skill, version, *from_states],
            )
            == 1
        )

    # -- executions by version -------------------------------------------------------------
    def record_version(
        self,
        execution_id: str,
        skill: str,
        version: str,
        track: str,
        started_at: str,
        outcome: str,
        duration_ms: float,
    ) -> None:
        self.db.execute(
            "INSERT INTO skill_versions (execution_id, skill, version, track, started_at, "
            "outcome, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [execution_id, skill, version, track, started_at, outcome, duration_ms],
        )

    def figures(self, skill: str, version: str, since: str, until: str) -> VersionFigures:
        """``version``'s executions started in [since, until)."""
        rows = self.db.query(
            "SELECT outcome, duration_ms FROM skill_versions WHERE skill = ? AND version = ? "
            "AND started_at >= ? AND started_at < ?",
            [skill, version, since, until],
        )
        durations = sorted(float(r["duration_ms"] or 0) for r in rows)
        p95 = durations[max(0, math.ceil(0.95 * len(durations)) - 1)] if durations else None
        ok = sum(1 for r in rows if r["outcome"] == "ok")
        return VersionFigures(len(rows), ok, p95)
