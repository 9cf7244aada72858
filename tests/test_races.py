"""Conflicting actions from separate processes on one system of record, on both engines: of
two conflicting actions exactly one wins, the other is told why, and nothing is half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import spawn
from conftest import MANAGER, SARAH, Demo

from bot.clock import now, ts
from bot.demo.seed import seed_demo
from bot.stores.away import Away, AwayStore
from bot.stores.factory import open_stores
from bot.stores.workbook import RowUpdate

CHILD = Path(__file__).with_name("race_child.py")


@pytest.fixture
def seeded(engine_env, tmp_path, registry) -> tuple[Demo, dict]:
    stores = open_stores(tmp_path, env=engine_env)
    seed_demo(tmp_path, stores.workbook, orders=60, seed=3)
    demo = Demo(tmp_path, registry, stores)
    demo.run(MANAGER, "triage-and-assign")
    return demo, engine_env


def race(env: dict, tmp_path: Path, *actors: tuple[str, str, list[str]]) -> list[list[dict]]:
    """Start one process per (who, skill, order ids), release them together, collect output."""
    barrier = tmp_path / "go"
    full_env = {**os.environ, **env, "PYTHONPATH": str(CHILD.parent.parent)}
    procs = [
        spawn.Popen(
            [sys.executable, str(CHILD), str(tmp_path), who, skill, str(barrier), *ids],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
        )
        for who, skill, ids in actors
    ]
    for p in procs:  # every process has opened the database and waits at the barrier
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    barrier.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append([json.loads(line) for line in out.splitlines()])
    return results


def test_a_resolve_and_an_escalate_of_the_same_ticket_never_both_succeed(seeded, tmp_path):
    demo, env = seeded
    ids = [t["Order ID"] for t in demo.tickets_of(SARAH)[:4]]
    resolved, escalated = race(
        env, tmp_path, (SARAH, "resolve-ticket", ids), (SARAH, "escalate-ticket", ids)
    )
    resolutions = {r["Order ID"] for r in demo.rows("Resolutions")}
    escalations = {r["Order ID"] for r in demo.rows("Escalations") if r["From"] == SARAH}
    for oid, r, e in zip(ids, resolved, escalated, strict=True):
        assert r["ok"] != e["ok"], (oid, r, e)
        loser = e if r["ok"] else r
        assert "already" in loser["error"] or "changed while you were" in loser["error"]
        status = demo.stores.workbook.find("Assignments", oid)["Status"]
        assert status == ("RESOLVED" if r["ok"] else "ESCALATED")
        assert (oid in resolutions) == r["ok"] and (oid in escalations) == e["ok"]
        assert len(demo.stores.state.audit_entries(f"order:{oid}")) == 1


def test_a_resolve_racing_a_reassignment_is_never_reverted_or_half_done(seeded, tmp_path):
    demo, env = seeded
    ids = [t["Order ID"] for t in demo.tickets_of(SARAH)[:6]]
    resolved, moved = race(
        env, tmp_path, (SARAH, "resolve-ticket", ids), (MANAGER, "assign-tickets", ids)
    )
    resolutions = {r["Order ID"] for r in demo.rows("Resolutions")}
    for oid, r, m in zip(ids, resolved, moved, strict=True):
        row = demo.stores.workbook.find("Assignments", oid)
        if r["ok"]:
            assert not m["ok"] and row["Status"] == "RESOLVED" and oid in resolutions
            assert row["Assigned Agent"] == SARAH
        else:
            assert m["ok"] and row["Status"] == "ASSIGNED" and oid not in resolutions
            assert row["Assigned Agent"] == "james.ops@example.com"


def test_two_agents_taking_the_same_unassigned_orders_from_two_processes_one_gets_each(
    engine_env, tmp_path, registry
):
    stores = open_stores(tmp_path, env=engine_env)
    seed_demo(tmp_path, stores.workbook, orders=60, seed=3)
    field = [a for a in stores.workbook.read("Agents") if str(a["role"]) == "field"]
    stores.workbook.update("Agents", [RowUpdate(a["email"], {"capacity": "1"}) for a in field])
    demo = Demo(tmp_path, registry, stores)
    unassigned = demo.run(MANAGER, "triage-and-assign").data["unassigned"]
    by_team: dict[str, list[str]] = {}
    for a in field:
        for team in str(a["specializations"]).split(","):
            by_team.setdefault(team.strip(), []).append(a["email"])
    team = next(o["team"] for o in unassigned if len(by_team.get(o["team"], [])) >= 2)
    ids = [o["order_id"] for o in unassigned if o["team"] == team][:3]
    first, second = by_team[team][:2]
    stores.workbook.update("Agents", [RowUpdate(e, {"capacity": "10"}) for e in (first, second)])

    a, b = race(engine_env, tmp_path, (first, "take-ticket", ids), (second, "take-ticket", ids))
    for oid, x, y in zip(ids, a, b, strict=True):
        assert x["ok"] != y["ok"], (oid, x, y)
        winner, loser = (first, y) if x["ok"] else (second, x)
        assert "nothing was changed" in loser["error"], loser
        row = demo.stores.workbook.find("Assignments", oid)
        assert row["Assigned Agent"] == winner and row["Status"] == "IN_PROGRESS"
        audit = demo.stores.state.audit_entries(f"order:{oid}")
        assert [e["action"] for e in audit] == ["take_ticket"]  # one write, one audit row


def alone_on(demo, team: str, *emails: str) -> None:
    """Make ``emails`` the only agents covering ``team``, always on shift."""
    demo.stores.workbook.update(
        "Agents",
        [
            RowUpdate(
                a["email"],
                {"specializations": f"{a['specializations']},{team}", "Working Hours": ""},
            )
            for a in demo.rows("Agents")
            if a["email"] in emails
        ],
    )


def test_an_away_set_while_this_one_waited_for_the_lock_counts_as_away(seeded):
    """The other process's away was written after this run began (its since is later than
    this run's moment): it still counts, so this one is refused as the last on shift."""
    demo, _ = seeded
    other = next(
        a["email"] for a in demo.rows("Agents") if a["role"] == "field" and a["email"] != SARAH
    )
    alone_on(demo, "solo-team", SARAH, other)
    later, until = now() + timedelta(seconds=5), now() + timedelta(days=1)
    AwayStore(demo.stores.db).put(Away(other, ts(until), ts(later), other))
    result = demo.run(SARAH, "set-away", until="tomorrow").data
    assert result["refused"] is True and result["uncovered"] == ["solo-team"]
    assert AwayStore(demo.stores.db).get(SARAH) is None


def test_the_last_two_agents_of_a_team_going_away_at_once_leave_one_on_shift(seeded, tmp_path):
    """Each away checks that someone else still covers the agent's teams; two at once would
    each see the other on shift without the away lock, and the team would have nobody."""
    demo, env = seeded
    field = [a for a in demo.rows("Agents") if str(a["role"]) == "field"]
    first, second = SARAH, next(a["email"] for a in field if a["email"] != SARAH)
    alone_on(demo, "solo-team", first, second)
    a, b = race(env, tmp_path, (first, "set-away", ["away"]), (second, "set-away", ["away"]))
    assert a[0]["ok"] and b[0]["ok"], (a, b)
    assert sorted([a[0]["refused"], b[0]["refused"]]) == [False, True], (a, b)
    away = {r["agent"] for r in demo.stores.db.query("SELECT agent FROM agent_away")}
    assert len(away & {first, second}) == 1
    assert demo.stores.state.lock("away") is None  # released by the winner
