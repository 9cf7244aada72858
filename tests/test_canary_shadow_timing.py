"""A shadow run is not the live run's time: the candidate runs once the live execution is
recorded (``ctx.after``), so the live record's duration (and its version metrics) exclude a
slow candidate, whose own time is in its ``canary_runs`` row."""

from __future__ import annotations

from conftest import MANAGER
from helpers_skills import importable_code
from test_canary_candidates import TRIAGE, write_candidate
from test_canary_shadow import with_candidate

from bot.canary.store import CanaryStore
from bot.runtime.executor import execute
from bot.runtime.roster import Roster

PAUSE = 0.5
SLOW = f"""
import time

from bot.skill_code.manager import triage_and_assign


def run(ctx, **args):
    time.sleep({PAUSE})
    return triage_and_assign.run(ctx, **args)
"""


def test_the_live_runs_recorded_duration_excludes_a_slow_shadow_candidate(
    triaged, tmp_path, monkeypatch
):
    importable_code(tmp_path, monkeypatch, "slow_shadow_candidate", SLOW)
    folder = write_candidate(
        tmp_path / "canary",
        {
            "skill": {"name": TRIAGE, "version": "1.6.0"},
            "runtime": {"entry_point": "slow_shadow_candidate:run"},
            "canary": {"strategy": "shadow"},
        },
    )
    maya = Roster.load(triaged.stores.workbook).resolve(MANAGER)
    result = execute(with_candidate(triaged.registry, folder), triaged.stores, TRIAGE, maya, {})
    assert result.data["canary"]["outcome"] == "ok"  # the shadow ran, after the record
    (shadow,) = CanaryStore(triaged.stores.db).runs(TRIAGE)
    assert shadow["live_execution_id"] == result.execution_id
    assert shadow["duration_ms"] >= PAUSE * 1000
    (live,) = [e for e in triaged.stores.state.executions() if e["id"] == result.execution_id]
    # with the shadow inside it, the live duration would be at least the shadow's
    assert live["outcome"] == "ok" and live["duration_ms"] < shadow["duration_ms"] - PAUSE * 500
    version = triaged.stores.db.one(
        "SELECT * FROM skill_versions WHERE execution_id = ?", [result.execution_id]
    )
    assert version["track"] == "live" and version["duration_ms"] == live["duration_ms"]
