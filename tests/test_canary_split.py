"""The traffic split for field skills: a configured share of callers runs the candidate,
sticky per caller (a hash of the roster email); every execution records its version and is
counted by version; a failing candidate is rolled back automatically, with an alert and a DM
to the managers, by the canary pass that runs before each alert pass."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import Demo
from test_canary_candidates import write_candidate

from bot.alerts.store import AlertStore
from bot.canary.status import split_verdict, status
from bot.canary.watch import CanaryAlertEngine, canary_pass
from bot.clock import now
from bot.observability import metrics
from bot.runtime.executor import execute
from bot.runtime.roster import Roster
from bot.runtime.versions import in_split, split_bucket
from bot.skills.candidates import load_candidate
from bot.skills.registry import Registry
from bot.stores.releases import Releases, VersionFigures

SKILL = "my-tickets"
FAILING = """
def run(ctx, **args):
    raise RuntimeError("candidate broke")
"""


def test_the_split_is_sticky_and_near_its_share_over_many_callers():
    emails = [f"agent{i}@example.com" for i in range(20_000)]
    for share in (0.1, 0.25):
        picked = sum(in_split(SKILL, e, share) for e in emails) / len(emails)
        assert picked == pytest.approx(share, abs=0.01)
    for e in emails[:200]:
        assert in_split(SKILL, e, 0.1) == in_split(SKILL, f"  {e.upper()} ", 0.1)
        assert split_bucket(SKILL, e) == split_bucket(SKILL, e)
    # a larger share keeps everyone a smaller one had
    assert all(in_split(SKILL, e, 0.25) for e in emails if in_split(SKILL, e, 0.1))


def split_registry(
    registry: Registry, tmp_path, monkeypatch, *, code: str | None, share=0.5, margin=0.05, **extra
):
    overlay: dict = {
        "skill": {"name": SKILL, "version": "1.1.0"},
        "canary": {"strategy": "split", "split": {"share": share, "min_runs": 3, "margin": margin}},
        **extra,
    }
    if code is not None:
        folder = tmp_path / "code"
        folder.mkdir(exist_ok=True)
        (folder / "split_candidate.py").write_text(code, encoding="utf-8")
        monkeypatch.syspath_prepend(str(folder))
        overlay["runtime"] = {"entry_point": "split_candidate:run"}
    live = registry.get(SKILL)
    cand = load_candidate(live, write_candidate(tmp_path / "canary", overlay))
    return Registry([replace(s, candidate=cand) if s is live else s for s in registry])


def field_agents(demo: Demo):
    roster = Roster.load(demo.stores.workbook)
    return [m for m in roster.field_agents() if m.active]


def test_a_split_runs_one_version_per_caller_and_records_it(on_engine: Demo, tmp_path, monkeypatch):
    reg = split_registry(on_engine.registry, tmp_path, monkeypatch, code=None)
    counted: list[dict] = []

    class Counting:
        def skill_run(self, **kw): ...
        def model_use(self, **kw): ...
        def skill_version_run(self, **kw):
            counted.append(kw)

    previous = metrics.install(Counting())
    try:
        agents = field_agents(on_engine)
        for _ in range(2):
            for m in agents:
                execute(reg, on_engine.stores, SKILL, m)
    finally:
        metrics.install(previous)
    rows = on_engine.stores.db.query(
        "SELECT e.caller, v.version, v.track FROM skill_versions v "
        "JOIN executions e ON e.id = v.execution_id"
    )
    by_caller: dict[str, set] = {}
    for r in rows:
        by_caller.setdefault(r["caller"], set()).add((r["version"], r["track"]))
    assert len(rows) == 2 * len(agents)
    for m in agents:
        want = ("1.1.0", "candidate") if in_split(SKILL, m.email, 0.5) else ("1.0.0", "live")
        assert by_caller[m.email] == {want}  # one version, every time
    assert {t for v in by_caller.values() for _, t in v} == {"live", "candidate"}
    assert len(counted) == len(rows)
    assert {(c["version"], c["track"]) for c in counted} == {
        ("1.0.0", "live"),
        ("1.1.0", "candidate"),
    }
    assert all(c["outcome"] == "ok" for c in counted)
    # a skill without a candidate records no version row
    execute(on_engine.registry, on_engine.stores, SKILL, agents[0])
    assert len(on_engine.stores.db.query("SELECT * FROM skill_versions")) == len(rows)


def test_the_prometheus_counter_is_labelled_by_version():
    from prometheus_client import generate_latest

    from bot.observability import prometheus

    prometheus.RECORDER.skill_version_run(
        skill=SKILL, version="1.1.0", track="candidate", outcome="ok", seconds=0.1
    )
    text = generate_latest(prometheus.REGISTRY).decode()
    assert (
        'ecm_skill_version_executions_total{outcome="ok",skill="my-tickets",track="candidate",'
        'version="1.1.0"}' in text
    )


def test_a_failing_split_candidate_is_rolled_back_with_an_alert(
    on_engine: Demo, tmp_path, monkeypatch
):
    reg = split_registry(on_engine.registry, tmp_path, monkeypatch, code=FAILING)
    agents = field_agents(on_engine)
    inside = [m for m in agents if in_split(SKILL, m.email, 0.5)]
    outside = [m for m in agents if not in_split(SKILL, m.email, 0.5)]
    assert inside and outside
    for m in outside:
        execute(reg, on_engine.stores, SKILL, m)
    for i in range(2):  # fewer runs than min_runs: not judged yet
        with pytest.raises(RuntimeError, match="candidate broke"):
            execute(reg, on_engine.stores, SKILL, inside[i % len(inside)])
    told: list[str] = []
    assert canary_pass(reg, on_engine.stores, now(), notify=told.append).rolled_back == []
    with pytest.raises(RuntimeError):
        execute(reg, on_engine.stores, SKILL, inside[0])
    (e,) = [x for x in status(reg, on_engine.stores.db, now()) if x["skill"] == SKILL]
    assert e["failing"] and e["versions"]["1.1.0"]["success_rate"] == 0.0
    assert e["versions"]["1.0.0"]["success_rate"] == 1.0 and e["versions"]["1.0.0"]["p95_ms"] > 0
    report = canary_pass(
        reg, on_engine.stores, now(), notify=told.append, channels={"slack": object()}
    )
    assert report.rolled_back == [SKILL] and report.alerts_opened == [SKILL]
    assert len(told) == 1 and "stopped" in told[0] and "below the threshold" in told[0]
    assert Releases(on_engine.stores.db).state(SKILL, "1.1.0")["state"] == "rolled_back"
    (audit,) = on_engine.stores.state.audit_entries(f"skill:{SKILL}")
    assert audit["action"] == "canary_rollback" and audit["actor"] == "canary"
    alerts = AlertStore(on_engine.stores.db)
    (alert,) = [a for a in alerts.open_alerts() if a["rule"] == "canary_rollback"]
    assert alert["subject"] == SKILL and "rolled back automatically" in alert["summary"]
    assert [d.channel for d in alerts.due() if d.key == alert["key"]] == ["slack"]
    # the caller who ran the candidate now runs the live version; nothing more to do
    assert execute(reg, on_engine.stores, SKILL, inside[0]).data is not None
    again = canary_pass(reg, on_engine.stores, now(), notify=told.append)
    assert again.rolled_back == [] and len(told) == 1


def test_the_rollback_alert_is_delivered_by_the_alert_pass(triaged: Demo, tmp_path, monkeypatch):
    reg = split_registry(triaged.registry, tmp_path, monkeypatch, code=FAILING)
    inside = [m for m in field_agents(triaged) if in_split(SKILL, m.email, 0.5)]
    for i in range(3):
        with pytest.raises(RuntimeError):
            execute(reg, triaged.stores, SKILL, inside[i % len(inside)])
    sent: list = []

    class Channel:
        def send(self, notice):
            sent.append(notice)
            return "ref"

    engine = CanaryAlertEngine(
        reg, lambda: triaged.stores, {"slack": Channel()}, notify=lambda t: None
    )
    report = engine.check(now())
    assert [n.title for n in sent if "canary" in n.dedup_key] and report.sent
    assert Releases(triaged.stores.db).state(SKILL, "1.1.0")["state"] == "rolled_back"


def test_the_split_rule_judges_the_threshold_and_the_margin(registry, tmp_path, monkeypatch):
    lower = {"monitoring": {"success_rate_threshold": 0.5}}  # loosening it has no effect
    reg = split_registry(registry, tmp_path, monkeypatch, code=None, margin=0.02, **lower)
    skill = reg.get(SKILL)
    assert skill.config.monitoring.success_rate_threshold == 0.95
    good = VersionFigures(20, 20, 10.0)
    assert split_verdict(skill, good, VersionFigures(2, 0, 1.0))[0] is None  # too few runs
    assert split_verdict(skill, good, VersionFigures(10, 10, 1.0))[0] is True
    verdict, why = split_verdict(skill, good, VersionFigures(10, 9, 1.0))  # 90% < 95%
    assert verdict is False and "below the threshold 95%" in why
    verdict, why = split_verdict(skill, good, VersionFigures(25, 24, 1.0))  # 96% vs 100% live
    assert verdict is False and "more than 2% below the live version's 100.0%" in why
    assert split_verdict(skill, VersionFigures(100, 97, 1.0), VersionFigures(25, 24, 1.0))[0]
