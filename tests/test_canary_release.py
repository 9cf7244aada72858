"""Promotion and rollback: the rule (diff below 5% over at least 3 shadow runs by default),
`canary status`, `canary promote` (audited, the managers told, refused while the rule does
not hold unless forced), `canary rollback`, automatic promotion, and the release state in
the system of record so every replica agrees — on both engines."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import MANAGER, SARAH, Demo
from fake_slack import FakeSlack
from test_canary_candidates import TRIAGE, write_candidate
from test_canary_shadow import with_candidate

from bot.canary.promote import promote, rollback
from bot.canary.status import shadow_verdict, status
from bot.canary.store import CanaryStore
from bot.canary.watch import canary_pass
from bot.cli import cli
from bot.clock import now
from bot.errors import Conflict, InputError, NotFound
from bot.runtime.executor import execute
from bot.runtime.roster import Roster
from bot.stores.factory import open_stores
from bot.stores.releases import Releases


def same_as_live(tmp_path, *, auto: bool = False, version: str = "1.2.0"):
    """A candidate with the live scoring (so its diff is 0) under another version."""
    return write_candidate(
        tmp_path / f"canary-{version}",
        {
            "skill": {"name": TRIAGE, "version": version},
            "canary": {"strategy": "shadow", "promote": {"auto": auto}},
        },
    )


def triage(demo: Demo, reg, times: int = 1):
    maya = Roster.load(demo.stores.workbook).resolve(MANAGER)
    return [execute(reg, demo.stores, TRIAGE, maya, {}) for _ in range(times)][-1]


def entry(reg, demo: Demo) -> dict:
    return next(e for e in status(reg, demo.stores.db, now()) if e["skill"] == TRIAGE)


def versions_run(demo: Demo) -> list[tuple[str, str]]:
    rows = demo.stores.db.query("SELECT version, track FROM skill_versions ORDER BY started_at")
    return [(r["version"], r["track"]) for r in rows]


# -- the rule ----------------------------------------------------------------------------------
def _runs(*shares: float, outcome: str = "ok") -> list[dict]:
    return [{"outcome": outcome, "diff": s} for s in shares]


def test_the_rule_wants_the_latest_three_runs_each_below_five_percent(registry, tmp_path):
    from bot.skills.candidates import load_candidate

    skill = registry.get(TRIAGE)
    cand = load_candidate(skill, same_as_live(tmp_path))
    from dataclasses import replace

    skill = replace(skill, candidate=cand)
    assert shadow_verdict(skill, _runs(0.01, 0.02)) == (False, "2 of the 3 shadow runs it needs")
    assert shadow_verdict(skill, _runs(0.01, 0.0, 0.049))[0] is True
    assert shadow_verdict(skill, _runs(0.01, 0.0, 0.05))[0] is False  # below, not at
    assert shadow_verdict(skill, _runs(0.30, 0.01, 0.0, 0.02))[0] is True  # the latest three
    holds, why = shadow_verdict(skill, [*_runs(0.0, 0.0), *_runs(0.0, outcome="error")])
    assert not holds and "failed" in why


# -- promote and rollback ----------------------------------------------------------------------
def test_promote_is_refused_until_the_rule_holds_and_changes_nothing(on_engine: Demo, tmp_path):
    reg = with_candidate(on_engine.registry, same_as_live(tmp_path))
    triage(on_engine, reg, 2)
    audit = on_engine.stores.state.audit_entries()
    with pytest.raises(InputError, match="does not hold yet: 2 of the 3 shadow runs"):
        promote(reg, on_engine.stores.db, TRIAGE, by=MANAGER, moment=now())
    assert on_engine.stores.state.audit_entries() == audit
    assert Releases(on_engine.stores.db).state(TRIAGE, "1.2.0")["state"] == "candidate"
    with pytest.raises(NotFound, match="has no candidate"):
        promote(on_engine.registry, on_engine.stores.db, TRIAGE, by=MANAGER, moment=now())


def test_promote_makes_the_candidate_live_and_rollback_brings_the_old_one_back(
    on_engine: Demo, tmp_path
):
    reg = with_candidate(on_engine.registry, same_as_live(tmp_path))
    triage(on_engine, reg, 3)
    e = entry(reg, on_engine)
    assert e["rule_holds"] and [r["share"] for r in e["runs"]] == [0.0, 0.0, 0.0]
    told: list[str] = []
    message = promote(
        reg, on_engine.stores.db, TRIAGE, by=MANAGER, moment=now(), notify=told.append
    )
    assert told == [message] and "1.2.0 is now live" in message and "rollback" in message
    (audit,) = on_engine.stores.state.audit_entries(f"skill:{TRIAGE}")
    assert audit["action"] == "canary_promote" and audit["actor"] == MANAGER
    assert json.loads(audit["after"])["live"] == "1.2.0"
    assert json.loads(audit["before"])["live"] == "1.0.0"
    # another replica (its own stores on the same database) agrees, and runs 1.2.0, unshadowed
    other = open_stores(on_engine.path, env=_env())
    assert Releases(other.db).state(TRIAGE, "1.2.0")["state"] == "promoted"
    shadows = len(CanaryStore(on_engine.stores.db).runs(TRIAGE))
    result = triage(on_engine, reg)
    assert "canary" not in result.data
    assert len(CanaryStore(on_engine.stores.db).runs(TRIAGE)) == shadows
    assert versions_run(on_engine)[-1] == ("1.2.0", "live")
    with pytest.raises(Conflict, match="already promoted"):
        promote(reg, on_engine.stores.db, TRIAGE, by=MANAGER, moment=now())
    # rollback: the old version is live again, audited, the managers told
    message = rollback(
        reg, on_engine.stores.db, TRIAGE, by=MANAGER, moment=now(), notify=told.append
    )
    assert "back on 1.0.0" in message and told[-1] == message
    actions = [a["action"] for a in on_engine.stores.state.audit_entries(f"skill:{TRIAGE}")]
    assert actions == ["canary_promote", "canary_rollback"]
    triage(on_engine, reg)
    assert versions_run(on_engine)[-1] == ("1.0.0", "live")
    assert entry(reg, on_engine)["state"] == "rolled_back"
    with pytest.raises(Conflict, match="already rolled back"):
        rollback(reg, on_engine.stores.db, TRIAGE, by=MANAGER, moment=now())


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k in ("ECM_DATABASE_URL",)}


def test_promotion_is_automatic_when_the_config_says_so(on_engine: Demo, tmp_path):
    reg = with_candidate(on_engine.registry, same_as_live(tmp_path, auto=True))
    triage(on_engine, reg, 2)
    told: list[str] = []
    assert canary_pass(reg, on_engine.stores, now(), notify=told.append).promoted == []
    triage(on_engine, reg)
    report = canary_pass(reg, on_engine.stores, now(), notify=told.append)
    assert report.promoted == [TRIAGE] and len(told) == 1
    (audit,) = on_engine.stores.state.audit_entries(f"skill:{TRIAGE}")
    assert audit["actor"] == "canary" and "automatic promotion" in audit["after"]
    assert canary_pass(reg, on_engine.stores, now()).promoted == []  # once


def test_a_manual_candidate_is_not_promoted_by_the_pass(demo: Demo, tmp_path):
    reg = with_candidate(demo.registry, same_as_live(tmp_path))
    triage(demo, reg, 3)
    assert canary_pass(reg, demo.stores, now()).promoted == []
    assert entry(reg, demo)["state"] == "candidate" and entry(reg, demo)["rule_holds"]


# -- the CLI -----------------------------------------------------------------------------------
@pytest.fixture
def cli_registry(demo: Demo, tmp_path, monkeypatch):
    reg = with_candidate(demo.registry, same_as_live(tmp_path))
    monkeypatch.setattr("bot.cli.common.load", lambda: (reg, open_stores(demo.path, env={})))
    return reg


def test_canary_status_lists_each_candidate_with_its_runs_and_rule(cli_registry, demo: Demo):
    triage(demo, cli_registry, 2)
    out = CliRunner().invoke(cli, ["canary", "status", "--json"])
    assert out.exit_code == 0, out.output
    (e,) = json.loads(out.output)
    assert (e["skill"], e["live_version"], e["candidate_version"]) == (TRIAGE, "1.0.0", "1.2.0")
    assert e["strategy"] == "shadow" and e["state"] == "candidate" and not e["rule_holds"]
    assert e["rule"] == {"max_diff": 0.05, "min_runs": 3}
    assert len(e["runs"]) == 2
    for run in e["runs"]:
        assert run["share"] == run["agent_share"] == run["priority_share"] == 0.0
        assert run["live_run"] and run["workflow_id"] == run["live_run"]
    text = CliRunner().invoke(cli, ["canary", "status"])
    assert "live 1.0.0, candidate 1.2.0 (shadow, candidate)" in text.output
    assert "rule holds: no — 2 of the 3 shadow runs it needs" in text.output
    missing = CliRunner().invoke(cli, ["canary", "status", "no-such-skill"])
    assert missing.exit_code == 1 and "No skill named 'no-such-skill'" in missing.output


def test_canary_promote_by_cli_dms_the_managers_and_only_a_manager_may(
    cli_registry, demo: Demo, monkeypatch
):
    fake = FakeSlack().start()
    try:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
        monkeypatch.setenv("SLACK_API_URL", fake.url)
        runner = CliRunner()
        refused = runner.invoke(cli, ["canary", "promote", TRIAGE])
        assert refused.exit_code == 1 and "does not hold yet" in refused.output
        assert "Traceback" not in refused.output
        triage(demo, cli_registry, 3)
        denied = runner.invoke(cli, ["canary", "promote", TRIAGE, "--as", SARAH])
        assert denied.exit_code == 1 and "not an ECM manager" in denied.output
        assert not fake.of("chat.postMessage")
        ok = runner.invoke(cli, ["canary", "promote", TRIAGE, "--as", MANAGER])
        assert ok.exit_code == 0, ok.output
        dms = {p["channel"] for p in fake.of("chat.postMessage")}
        assert dms == {"DU0MAYA0001", "DU0OMAR0002"}  # the active managers
        assert all("1.2.0 is now live" in p["text"] for p in fake.of("chat.postMessage"))
        back = runner.invoke(cli, ["canary", "rollback", TRIAGE, "--reason", "ops asked"])
        assert back.exit_code == 0 and "back on 1.0.0" in back.output
        (last,) = [a for a in demo.stores.state.audit_entries() if a["action"] == "canary_rollback"]
        assert last["actor"] == "cli@ecm.local" and "ops asked" in last["after"]
    finally:
        fake.stop()


def test_a_managers_app_home_shows_the_candidates_and_their_diffs(demo: Demo, tmp_path):
    from bot.present.home import manager_home
    from bot.present.text import to_text

    reg = with_candidate(demo.registry, same_as_live(tmp_path))
    triage(demo, reg, 2)
    maya = Roster.load(demo.stores.workbook).resolve(MANAGER)
    data = execute(reg, demo.stores, reg.home("manager").name, maya).data
    text = to_text(manager_home({**data, "canaries": status(reg, demo.stores.db, now())}))
    assert (
        f"🧪 {TRIAGE} 1.2.0 beside 1.0.0 (shadow): 2 runs, last diff 0.0% · not yet: 2 of the 3"
        in text
    )
    assert "🧪" not in to_text(manager_home(data))  # no candidates, no line
    promote(reg, demo.stores.db, TRIAGE, by=MANAGER, moment=now(), force=True)
    text = to_text(manager_home({**data, "canaries": status(reg, demo.stores.db, now())}))
    assert f"🧪 {TRIAGE} 1.2.0 beside 1.0.0 (shadow): promoted by {MANAGER}" in text


def test_the_published_app_home_carries_the_canary_line(triaged: Demo, tmp_path, monkeypatch):
    from slack_harness import serve_bot

    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    reg = with_candidate(triaged.registry, same_as_live(tmp_path))
    triage(triaged, reg)
    fake = FakeSlack().start()
    served = serve_bot(reg, triaged.path, fake)
    try:
        from bot.slack.home_tab import publish_home  # after the app, as the listeners load it

        publish_home(served.sc, "U0MAYA0001")
        (published,) = fake.of("views.publish")
        shown = json.dumps(published, ensure_ascii=False)
        assert f"🧪 {TRIAGE} 1.2.0 beside 1.0.0 (shadow): 1 run, last diff 0.0%" in shown
    finally:
        served.stop()
        fake.stop()


def test_bad_canary_commands_are_one_polite_line_and_change_nothing(demo: Demo, tmp_path):
    runner = CliRunner()
    audit = demo.stores.state.audit_entries()
    cases = [
        (["canary", "promote", "no-such-skill"], "No skill named 'no-such-skill'"),
        (["canary", "rollback", TRIAGE], "has no candidate version"),
        (["canary", "try", str(tmp_path)], "aspora.config.yaml: file is missing"),
        (["canary", "try", str(tmp_path / "nowhere")], "does not exist"),
    ]
    bad = write_candidate(tmp_path / "bad", {"skill": {"name": TRIAGE, "version": "1.0.0"}})
    cases.append((["canary", "try", str(bad)], "field 'canary': field is required but missing"))
    split = write_candidate(
        tmp_path / "split",
        {"skill": {"name": "my-tickets", "version": "1.1.0"}, "canary": {"strategy": "split"}},
    )
    cases.append((["canary", "try", str(split)], "runs shadow candidates"))
    for args, words in cases:
        out = runner.invoke(cli, args)
        assert out.exit_code != 0, args
        assert words in out.output, (args, out.output)
        assert "Traceback" not in out.output
    assert demo.stores.state.audit_entries() == audit
    assert demo.stores.db.query("SELECT * FROM skill_releases") == []
