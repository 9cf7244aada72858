"""The scheduler: cron slots in Asia/Dubai, catch-up within the grace window, never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import spawn

from bot.scheduling.cron import cron_jobs, due
from bot.scheduling.runner import Scheduler
from bot.stores.factory import open_stores

GRACE = timedelta(minutes=30)


def at(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_triage_is_scheduled_at_7_14_and_20_dubai(registry):
    (job,) = cron_jobs(registry)
    assert job.skill == "triage-and-assign" and job.timezone == "Asia/Dubai"
    # Dubai is UTC+4: 07:00, 14:00 and 20:00 there are 03:00, 10:00 and 16:00 UTC
    assert job.next(at(2)) == at(3)
    assert job.next(at(3)) == at(10)
    assert job.next(at(10, 1)) == at(16)
    assert job.next(at(16, 1)) == at(3, day=25)


def test_a_slot_is_due_only_within_the_grace_window(registry):
    jobs = cron_jobs(registry)
    assert [s for _, s in due(jobs, at(10, 20), GRACE)] == [at(10)]
    assert due(jobs, at(10, 31), GRACE) == []
    assert [s for _, s in due(jobs, at(10), GRACE)] == [at(10)]


def published(demo):
    out = []
    return out, Scheduler(demo.registry, lambda: open_stores(demo.path), out.append, GRACE)


def test_a_missed_slot_runs_once_on_start_and_never_twice(demo):
    out, sched = published(demo)
    assert sched.tick(at(10, 12)) == ["triage-and-assign@2026-11-24 10:00:00"]
    assert out[0].skill == "triage-and-assign" and out[0].data["counts"]["assigned"] > 0
    assert sched.tick(at(10, 20)) == []
    _, restarted = published(demo)  # a new process, same state.db
    assert restarted.tick(at(10, 25)) == []
    runs = [e for e in demo.stores.state.executions() if e["trigger"] == "cron"]
    assert len(runs) == 1


def test_a_slot_missed_beyond_the_grace_window_is_skipped(demo):
    out, sched = published(demo)
    assert sched.tick(at(12)) == []
    assert out == [] and demo.rows("Assignments") == []


def test_a_failing_publisher_does_not_stop_the_clock(demo):
    def boom(result):
        raise RuntimeError("slack is down")

    sched = Scheduler(demo.registry, lambda: open_stores(demo.path), boom, GRACE)
    assert sched.tick(at(16, 5)) == ["triage-and-assign@2026-11-24 16:00:00"]


def test_the_scheduler_command_runs_what_is_due_once(tmp_path, monkeypatch):
    import sys
    from pathlib import Path

    env_bin = Path(sys.executable).parent / "ecm-bot"
    env = {"ECM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    spawn.run(
        [str(env_bin), "seed-demo", "--orders", "20"], env=env, check=True, capture_output=True
    )
    out = spawn.run(
        [str(env_bin), "scheduler", "--once", "--grace-minutes", "720"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "Ran: triage-and-assign@" in out.stderr and "ECM Triage" in out.stdout
    again = spawn.run(
        [str(env_bin), "scheduler", "--once", "--grace-minutes", "720"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "nothing due" in again.stderr


def test_a_slot_that_meets_a_running_triage_is_retried_within_its_grace_window(demo):
    out, sched = published(demo)
    demo.stores.state.acquire_lock("triage", "maya.manager@example.com", 600)
    assert sched.tick(at(10, 5)) == [] and sched.deferred == {
        "triage-and-assign@2026-11-24 10:00:00"
    }
    demo.stores.state.release_lock("triage", "maya.manager@example.com")
    assert sched.tick(at(10, 6)) == ["triage-and-assign@2026-11-24 10:00:00"]
    assert sched.deferred == set() and len(out) == 1
    assert sched.tick(at(10, 7)) == []


def test_maintenance_prunes_once_an_hour(demo):
    _, sched = published(demo)
    demo.stores.db.execute(
        "INSERT INTO seen_events (key, at) VALUES ('old', '2026-11-01 00:00:00')"
    )
    assert sched.maintain(at(12)) == {"seen_events": 1, "executions": 0}
    assert sched.maintain(at(12, 30)) is None  # this hour is done
    assert sched.maintain(at(13)) is not None


def test_the_scheduler_serves_health_on_ecm_health_port(tmp_path):
    import json
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"ECM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "ECM_HEALTH_PORT": str(port)}
    proc = spawn.Popen(
        [sys.executable, "-m", "bot", "scheduler", "--grace-minutes", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, answer = time.monotonic() + 30, None
        while answer is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                    answer = json.loads(r.read())
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)  # polling until the process is up
        assert answer == {"ok": True, "checks": {"database": "ok"}}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
