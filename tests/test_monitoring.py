"""Each skill's monitoring thresholds are read and applied to its figures."""

from __future__ import annotations

import json
import sys

import spawn
from conftest import SARAH

from bot.clock import now, ts
from bot.skills.monitoring import breaches


def test_thresholds_flag_a_low_success_rate_a_slow_p95_and_failures(registry):
    skill = registry.get("triage-and-assign")  # 95 %, 60 s, alert on failure
    assert breaches(skill, {"executions": 10, "success_rate": 0.99, "p95_ms": 1200.0}) == []
    found = breaches(
        skill, {"executions": 10, "success_rate": 0.5, "p95_ms": 61_000.0, "failures": 2}
    )
    assert found == [
        "success rate 50.0% is below 95%",
        "p95 61.0 s is above 60 s",
        "2 failed runs",
    ]


def test_metrics_reports_the_skills_over_their_thresholds(demo):
    for i in range(4):
        demo.stores.state.record_execution(
            {
                "id": f"e{i}",
                "workflow_id": "w",
                "skill": "my-tickets",
                "role": "field",
                "caller": SARAH,
                "trigger": "chat",
                "started_at": ts(now()),
                "duration_ms": 9000.0,
                "outcome": "error" if i else "ok",
            }
        )
    done = spawn.run(
        [sys.executable, "-m", "bot", "metrics", "--json"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "ECM_DATA_DIR": str(demo.path)},
        timeout=60,
    )
    found = json.loads(done.stdout)["breaches"]["my-tickets"]
    assert any("below" in x for x in found) and any("above 5 s" in x for x in found)
    assert "3 failed runs" in found
