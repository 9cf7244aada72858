"""Shadow mode for triage-and-assign: every real run of the live version also runs its
candidate on the same input, as a dry run; the candidate's plan goes to assignments_canary
and the diff to canary_runs, linked to the live run by execution and workflow id. It never
writes the team's tabs and never reaches Slack. The diff is a pure function, checked on
hand-made plans with known answers."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import MANAGER, Demo
from helpers_skills import importable_code
from test_canary_candidates import EXAMPLE, TRIAGE, write_candidate

from bot.access.guard import Guard
from bot.canary import shadow
from bot.canary.diff import Placement, diff_plans
from bot.canary.store import CanaryStore
from bot.db.migrations import MIGRATIONS
from bot.ids import new_id
from bot.runtime.executor import execute, system_member
from bot.runtime.roster import Roster
from bot.runtime.skill_run import SkillContext
from bot.skill_code.manager import triage_and_assign
from bot.skills.candidates import load_candidate
from bot.skills.registry import Registry

P = Placement


# -- the diff, on hand-made plans ------------------------------------------------------------
def test_the_diff_counts_agent_priority_their_union_and_one_sided_assignments():
    live = {
        "A1": P("sarah@x", "P1"),  # same
        "A2": P("sarah@x", "P2"),  # agent moves
        "A3": P("james@x", "P3"),  # priority changes
        "A4": P("james@x", "P1"),  # both change
        "A5": P("omar@x", "P2"),  # the candidate leaves it unassigned
        "A6": P("", "P4"),  # the candidate assigns it
        "A7": P("", "P5"),  # unassigned in both
        "A8": P("Omar@X ", "P2"),  # same agent, other spelling
    }
    cand = {
        "A1": P("sarah@x", "P1"),
        "A2": P("james@x", "P2"),
        "A3": P("james@x", "P2"),
        "A4": P("omar@x", "P2"),
        "A5": P("", "P2"),
        "A6": P("sarah@x", "P4"),
        "A7": P("", "P5"),
        "A8": P("omar@x", "P2"),
    }
    d = diff_plans(live, cand)
    assert d.orders == 8
    assert d.agent_differs == ("A2", "A4", "A5", "A6")
    assert d.priority_differs == ("A3", "A4")
    assert d.either_differs == ("A2", "A3", "A4", "A5", "A6")
    assert d.only_live == ("A5",) and d.only_candidate == ("A6",)
    assert (d.agent_share, d.priority_share, d.share) == (0.5, 0.25, 0.625)


def test_an_order_only_one_plan_holds_differs_in_agent_and_priority():
    d = diff_plans(
        {"A1": P("s@x", "P1"), "A2": P("", "P3")}, {"A1": P("s@x", "P1"), "A3": P("", "P3")}
    )
    assert d.orders == 3
    assert d.priority_differs == ("A2", "A3") and d.agent_differs == ()
    assert d.share == pytest.approx(2 / 3) and d.only_live == d.only_candidate == ()
    d = diff_plans({"A1": P("s@x", "P1")}, {})
    assert d.agent_differs == d.priority_differs == ("A1",) and d.only_live == ("A1",)


def test_identical_and_empty_plans_differ_by_nothing():
    plan = {"A1": P("s@x", "P1"), "A2": P("", "P5")}
    assert diff_plans(plan, dict(plan)).share == 0.0
    empty = diff_plans({}, {})
    assert (empty.orders, empty.share, empty.agent_share, empty.priority_share) == (0, 0, 0, 0)


def test_the_canary_migration_is_m023():
    assert "m023_canary" in [name for name, _ in MIGRATIONS]


# -- shadow runs ------------------------------------------------------------------------------
def with_candidate(registry: Registry, source=EXAMPLE) -> Registry:
    live = registry.get(TRIAGE)
    cand = load_candidate(live, source)
    return Registry([replace(s, candidate=cand) if s is live else s for s in registry])


def live_written(demo: Demo) -> tuple:
    """Everything a triage may write outside the canary tables."""
    db = demo.stores.db
    return (
        demo.rows("Assignments"),
        demo.rows("Escalations"),
        demo.stores.state.audit_entries(),
        db.query("SELECT * FROM triage_runs ORDER BY id"),
        db.query("SELECT id, skill, outcome FROM executions ORDER BY id"),
        db.query("SELECT * FROM assignment_pins ORDER BY order_id"),
        db.query("SELECT * FROM order_workflows ORDER BY order_id"),
    )


def test_a_real_triage_runs_the_candidate_beside_it_linked_by_workflow_id(on_engine: Demo):
    reg = with_candidate(on_engine.registry)
    maya = Roster.load(on_engine.stores.workbook).resolve(MANAGER)
    result = execute(reg, on_engine.stores, TRIAGE, maya, {})
    shown = result.data["canary"]
    assert shown["outcome"] == "ok" and shown["version"] == "1.1.0"
    (run,) = CanaryStore(on_engine.stores.db).runs(TRIAGE)
    assert run["live_execution_id"] == result.execution_id
    assert run["workflow_id"] == result.workflow_id and run["kind"] == "shadow"
    # the recorded diff is the pure function's on the two plans
    tab = CanaryStore(on_engine.stores.db).tab(TRIAGE)
    live = {r["Order ID"]: P(r["Live Agent"] or "", r["Live Priority"] or "") for r in tab}
    cand = {r["Order ID"]: P(r["Assigned Agent"] or "", r["Priority"]) for r in tab}
    d = diff_plans(live, cand)
    assert run["orders"] == d.orders == len(tab) > 0
    assert run["either_differs"] == len(d.either_differs) and run["diff"] == pytest.approx(d.share)
    assert {r["Order ID"] for r in tab if r["Differs"]} == set(d.either_differs)
    assert d.priority_differs  # other weights: some priorities move
    # the live plan in the canary tab is what the live run wrote
    rows = {r["Order ID"]: r for r in on_engine.rows("Assignments")}
    for r in tab:
        if r["Live Agent"]:
            assert rows[r["Order ID"]]["Assigned Agent"] == r["Live Agent"]
            assert rows[r["Order ID"]]["Priority"] == r["Live Priority"]
    # a dry run is not shadowed; a run without a candidate neither
    execute(reg, on_engine.stores, TRIAGE, maya, {"dry_run": True})
    execute(on_engine.registry, on_engine.stores, TRIAGE, maya, {})
    assert len(CanaryStore(on_engine.stores.db).runs(TRIAGE)) == 1


def _live_ctx(demo: Demo, reg: Registry) -> SkillContext:
    skill = reg.get(TRIAGE)
    run_id = new_id()
    return SkillContext(
        skill=skill,
        caller=system_member(),
        stores=demo.stores,
        registry=reg,
        guard=Guard(skill, caller="scheduler@ecm.local", denials=demo.stores.state),
        execution_id=run_id,
        workflow_id=run_id,
        trigger="cron",
    )


def test_a_shadow_run_writes_no_live_row_on_each_engine(on_engine: Demo):
    reg = with_candidate(on_engine.registry)
    ctx = _live_ctx(on_engine, reg)
    given, live = triage_and_assign.read_input(ctx), {}
    triage_and_assign.triage(ctx, True, None, given, live)
    before = live_written(on_engine)
    shown = shadow.after_live(ctx, given, live)
    assert shown["outcome"] == "ok" and shown["orders"] == len(live)
    assert live_written(on_engine) == before
    assert len(CanaryStore(on_engine.stores.db).tab(TRIAGE)) == len(live)


WRITER = """
from bot.skill_code.manager import triage_and_assign

def run(ctx, **args):
    ctx.workbook.append("Assignments", [{"Order ID": "AE000WRITE1", "Status": "ASSIGNED"}])
    return triage_and_assign.run(ctx, **args)
"""


def test_a_candidate_that_tries_to_write_is_refused_and_the_live_run_stands(
    on_engine: Demo, tmp_path, monkeypatch
):
    importable_code(tmp_path, monkeypatch, "writing_candidate", WRITER)
    folder = write_candidate(
        tmp_path / "canary",
        {
            "skill": {"name": TRIAGE, "version": "1.3.0"},
            "runtime": {"entry_point": "writing_candidate:run"},
            "canary": {"strategy": "shadow"},
        },
    )
    reg = with_candidate(on_engine.registry, folder)
    ctx = _live_ctx(on_engine, reg)
    given, live = triage_and_assign.read_input(ctx), {}
    triage_and_assign.triage(ctx, True, None, given, live)
    before = live_written(on_engine)
    shown = shadow.after_live(ctx, given, live)
    assert shown["outcome"] == "error" and "never writes the Assignments tab" in shown["error"]
    assert live_written(on_engine) == before
    (run,) = CanaryStore(on_engine.stores.db).runs(TRIAGE)
    assert run["outcome"] == "error" and run["orders"] is None
    # through the executor the live run is ok however its candidate ends
    maya = Roster.load(on_engine.stores.workbook).resolve(MANAGER)
    result = execute(reg, on_engine.stores, TRIAGE, maya, {})
    assert result.data["counts"]["pending"] > 0 and result.data["canary"]["outcome"] == "error"
    (mine,) = [e for e in on_engine.stores.state.executions() if e["id"] == result.execution_id]
    assert mine["outcome"] == "ok"


def test_a_candidate_refused_by_the_guard_is_recorded_denied(on_engine: Demo, tmp_path):
    """A candidate whose replaced file its own rules refuse (blocked) is denied, in its role,
    and the denial is in the denial log."""
    perms = on_engine.registry.get(TRIAGE).config.permissions.model_dump()
    perms["blocked_resources"] = [
        *perms["blocked_resources"],
        "../../../shared/config/stuck-reasons.yaml",
    ]
    folder = write_candidate(
        tmp_path / "canary",
        {
            "skill": {"name": TRIAGE, "version": "1.4.0"},
            "canary": {"strategy": "shadow"},
            "permissions": perms,
        },
    )
    reg = with_candidate(on_engine.registry, folder)
    maya = Roster.load(on_engine.stores.workbook).resolve(MANAGER)
    before = len(on_engine.stores.state.denials())
    result = execute(reg, on_engine.stores, TRIAGE, maya, {})
    assert result.data["canary"]["outcome"] == "denied"
    denials = on_engine.stores.state.denials()[before:]
    assert [d["skill"] for d in denials] == [TRIAGE]
    assert denials[0]["resource"].endswith("stuck-reasons.yaml")


def test_a_shadowed_triage_through_slack_posts_only_the_live_summary(triaged, monkeypatch):
    from fake_slack import FakeSlack
    from slack_harness import serve_bot

    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    reg = with_candidate(triaged.registry)
    fake = FakeSlack().start()
    served = serve_bot(reg, triaged.path, fake)
    try:
        served.command("U0MAYA0001", "triage", channel="CFLOOR")
        fake.wait_for(
            lambda f: [p for p in f.of("response_url") if "Triage posted" in p.get("text", "")]
        )
        (run,) = CanaryStore(triaged.stores.db).runs(TRIAGE)
        calls = fake.all_text()
        top = [p for p in fake.of("chat.postMessage") if not p.get("thread_ts")]
        assert len(top) == 1  # the live summary, once
        assert run["id"] not in calls and "1.1.0" not in calls and "canary" not in calls.lower()
        # the shadow itself makes no call: run it again with the app up, nothing is sent
        sent = len(fake.calls)
        ctx = _live_ctx(triaged, reg)
        given, live = triage_and_assign.read_input(ctx), {}
        triage_and_assign.triage(ctx, True, None, given, live)
        assert shadow.after_live(ctx, given, live)["outcome"] == "ok"
        assert len(fake.calls) == sent
    finally:
        served.stop()
        fake.stop()


def test_canary_try_runs_the_example_beside_a_dry_run(demo: Demo):
    from click.testing import CliRunner

    from bot.cli import cli

    before = demo.rows("Assignments")
    out = CliRunner().invoke(cli, ["canary", "try", str(EXAMPLE), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["canary"]["outcome"] == "ok" and data["run"]["kind"] == "try"
    assert data["run"]["orders"] == data["canary"]["orders"] > 0
    assert len(data["differs"]) == data["run"]["either_differs"]
    assert demo.rows("Assignments") == before  # a dry run: nothing assigned
    assert CanaryStore(demo.stores.db).runs(TRIAGE) == []  # a try does not count
    text = CliRunner().invoke(cli, ["canary", "try", str(EXAMPLE)])
    assert text.exit_code == 0 and "triage-and-assign 1.1.0 beside 1.0.0" in text.output
