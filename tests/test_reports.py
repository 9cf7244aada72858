"""The reports behind ``ecm-bot metrics``, ``trace`` and ``costs`` (bot/stores/reports.py) give
the same figures as a straightforward Python computation over every execution, on SQLite and
on PostgreSQL, with and without the indexes they are written for."""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from datetime import timedelta

import pytest
from click.testing import CliRunner

from bot.cli import load_commands
from bot.clock import now, ts
from bot.stores.factory import open_stores
from bot.stores.reports import Reports

SKILLS = {
    "my-tickets": ["field"],
    "order-details": ["field"],
    "resolve-ticket": ["field"],
    "triage-and-assign": ["manager"],
    "run-ecm": ["manager"],
    "agent-router": ["field", "manager"],
}
OUTCOMES = ["ok"] * 8 + ["refused", "denied", "error"]


def history(n: int = 400, seed: int = 5) -> list[dict]:
    """``n`` executions over the last 40 days (ties in start time included), with numeric,
    boolean and text custom metrics, some without a duration, a tenth with model spend."""
    rng = random.Random(seed)
    moment = now()
    rows = []
    for i in range(n):
        skill = rng.choice(list(SKILLS))
        started = moment - timedelta(days=rng.uniform(0, 40))
        if i % 17 == 0 and rows:  # the same second as an earlier run: ties break on id
            started_at = rows[rng.randrange(len(rows))]["started_at"]
        else:
            started_at = ts(started)
        metrics: dict = {}
        if rng.random() < 0.8:
            metrics["count"] = rng.randint(0, 5)
        if skill == "resolve-ticket" and rng.random() < 0.7:
            metrics["rate"] = rng.choice([0.0, 0.25, 1.0, 0.5])
        if rng.random() < 0.2:
            metrics["flag"] = rng.random() < 0.5  # booleans are not figures
            metrics["note"] = "text"
        if skill == "run-ecm" and rng.random() < 0.5:
            metrics["mixed"] = rng.choice([1, 2.5])
        model = skill == "agent-router" or rng.random() < 0.05
        rows.append(
            {
                "id": f"e{i:05d}",
                "workflow_id": f"w{i // 3:05d}",
                "parent_id": None if i % 3 == 0 else f"w{i // 3:05d}",
                "skill": skill,
                "role": rng.choice(SKILLS[skill]),
                "caller": rng.choice(["sarah.ops@example.com", "maya.manager@example.com"]),
                "trigger": "chat",
                "started_at": started_at,
                "duration_ms": None if i % 41 == 7 else round(rng.lognormvariate(3, 1), 2),
                "outcome": rng.choice(OUTCOMES),
                "error": None,
                "metrics": metrics,
                "order_ids": [],
                "model": "m" if model else None,
                "fallback_used": False if model else None,
                "tokens_in": rng.randint(100, 900) if model else None,
                "tokens_out": rng.randint(10, 90) if model else None,
                "cost": round(rng.uniform(0.001, 0.02), 6) if model else None,
                "tool_calls": [],
            }
        )
    return rows


# -- the straightforward computations ---------------------------------------------------------
def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else 0.0


def expected_metrics(rows: list[dict], since: str) -> dict:
    rows = sorted(rows, key=lambda r: (r["started_at"], r["id"]))

    def summary(items: list[dict]) -> dict:
        ok = sum(1 for r in items if r["outcome"] == "ok")
        durations = [r["duration_ms"] for r in items if r["duration_ms"] is not None]
        return {
            "executions": len(items),
            "success_rate": round(ok / len(items), 3) if items else None,
            "p95_ms": round(p95(durations), 1),
        }

    out = {"all": summary(rows), "by_role": {}, "by_skill": {}}
    for role in sorted({r["role"] for r in rows}):
        out["by_role"][f"ecm/{role}"] = summary([r for r in rows if r["role"] == role])
    for skill in sorted({r["skill"] for r in rows}):
        items = [r for r in rows if r["skill"] == skill]
        custom: dict[str, list] = defaultdict(list)
        for r in items:
            if r["started_at"] < since:
                continue
            for k, v in r["metrics"].items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    custom[k].append(v)
        out["by_skill"][skill] = {
            **summary(items),
            "custom": {
                k: {"last": v[-1], "total": round(sum(v), 4)} for k, v in sorted(custom.items())
            },
        }
    return out


def expected_costs(rows: list[dict], cut: str, today: str, month: str):
    """Spend from every execution; a day before ``cut`` was pruned and kept only its roll-ups,
    so its runs are every run of a (day, skill, outcome) with spend and its largest run is
    not known."""
    per_skill: dict[str, dict] = defaultdict(
        lambda: {"today": 0.0, "month": 0.0, "runs": 0, "max_run": 0.0, "tokens": 0}
    )
    per_day: dict[str, float] = defaultdict(float)

    def used_model(r: dict) -> bool:
        return bool(r["cost"] or r["tokens_in"])

    def group(r: dict) -> tuple:
        return r["started_at"][:10], r["skill"], r["outcome"]

    rolled_up = {group(r) for r in rows if r["started_at"][:10] < cut and used_model(r)}
    for r in rows:
        pruned = r["started_at"][:10] < cut
        if not (group(r) in rolled_up if pruned else used_model(r)):
            continue
        spend = float(r["cost"] or 0)
        s = per_skill[r["skill"]]
        s["runs"] += 1
        s["tokens"] += int(r["tokens_in"] or 0) + int(r["tokens_out"] or 0)
        if not pruned:
            s["max_run"] = max(s["max_run"], spend)
        s["today"] += spend if r["started_at"].startswith(today) else 0
        s["month"] += spend if r["started_at"].startswith(month) else 0
        per_day[r["started_at"][:10]] += spend
    return dict(per_skill), dict(sorted(per_day.items()))


# -- fixtures ---------------------------------------------------------------------------------
REPORT_INDEXES = (
    "idx_executions_duration",
    "idx_executions_role_duration",
    "idx_executions_skill_duration",
    "idx_executions_model_runs",
)


@pytest.fixture(params=["plain", "indexed"])
def loaded(request, engine_env, tmp_path):
    """Stores on each engine holding ``history()``, with or without the reports' indexes
    (dropped for the test and made again after it, so that a PostgreSQL database is at the
    template's schema again and is reset for the next test rather than replaced)."""
    stores = open_stores(tmp_path, env=engine_env)
    rows = history()
    with stores.db.transaction():  # one commit for the 400 (each is its own statement still)
        for r in rows:
            stores.state.record_execution(r)
    made = []
    if request.param == "plain":  # the figures must not depend on m009's indexes
        for name in REPORT_INDEXES:
            made.append(_index_definition(stores.db, name))
            stores.db.execute(f"DROP INDEX {name}")
    yield stores, rows
    for definition in made:
        stores.db.execute(definition)


def _index_definition(db, name: str) -> str:
    """The CREATE INDEX statement that made index ``name``, from the engine's catalog."""
    if db.engine == "postgres":
        found = db.query("SELECT indexdef AS sql FROM pg_indexes WHERE indexname = ?", [name])
    else:
        found = db.query("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", [name])
    assert found, f"no index {name}"
    return found[0]["sql"]


def test_tiers_and_custom_metrics_match_a_python_computation(loaded):
    stores, rows = loaded
    moment = now()
    since = ts(moment - timedelta(days=7))
    got = Reports(stores.db).metrics(moment, days=7)
    assert got.pop("custom_window") == {"days": 7, "since": since}
    want = expected_metrics(rows, since)
    assert got == want
    resolve = got["by_skill"]["resolve-ticket"]["custom"]
    assert isinstance(resolve["rate"]["total"], float)
    assert isinstance(resolve["count"]["total"], int)
    assert "flag" not in resolve and "note" not in resolve
    wide = Reports(stores.db).metrics(moment, days=60)
    wide.pop("custom_window")
    assert wide == expected_metrics(rows, ts(moment - timedelta(days=60)))


def test_the_day_is_the_days_executions_in_start_order(loaded):
    stores, rows = loaded
    day = sorted(rows, key=lambda r: r["started_at"])[len(rows) // 2]["started_at"][:10]
    want = sorted(
        (r for r in rows if r["started_at"][:10] == day), key=lambda r: (r["started_at"], r["id"])
    )
    got = Reports(stores.db).day(day)
    assert [r["id"] for r in got] == [r["id"] for r in want] and got
    assert got[0]["metrics"] == want[0]["metrics"]


def test_costs_match_a_python_computation_including_pruned_days(loaded):
    stores, rows = loaded
    moment = now()
    stamp = ts(moment)
    cut = ts(moment - timedelta(days=20))[:10]
    stores.state.prune(moment, keep_days=20)
    assert stores.state.execution_days() and min(r["started_at"] for r in rows) < cut
    got = Reports(stores.db).costs(moment)
    per_skill, per_day = expected_costs(rows, cut, stamp[:10], stamp[:7])
    assert set(got.per_skill) == set(per_skill)
    for skill, want in per_skill.items():
        have = got.per_skill[skill].as_dict()
        assert have["runs"] == want["runs"] and have["tokens"] == want["tokens"], skill
        for key in ("today", "month", "max_run"):
            assert have[key] == pytest.approx(want[key], abs=1e-9), (skill, key)
    assert list(got.per_day) == list(per_day)
    assert list(got.per_day.values()) == pytest.approx(list(per_day.values()), abs=1e-9)


def test_empty_history(engine_env, tmp_path):
    stores = open_stores(tmp_path, env=engine_env)
    reports = Reports(stores.db)
    got = reports.metrics()
    assert got["all"] == {"executions": 0, "success_rate": None, "p95_ms": 0.0}
    assert got["by_role"] == {} and got["by_skill"] == {}
    assert reports.costs().per_skill == {} and reports.costs().per_day == {}


def test_the_commands_print_the_reports(loaded, monkeypatch, tmp_path):
    stores, rows = loaded
    monkeypatch.setenv("ECM_DATA_DIR", str(tmp_path))
    url = getattr(stores.db, "url", None)
    if url:
        monkeypatch.setenv("ECM_DATABASE_URL", url)
    else:
        monkeypatch.delenv("ECM_DATABASE_URL", raising=False)
    runner, cli = CliRunner(), load_commands()
    data = json.loads(runner.invoke(cli, ["metrics", "--json"]).output)
    assert data["all"]["executions"] == len(rows) and "ecm/field" in data["by_role"]
    text = runner.invoke(cli, ["metrics", "--days", "3"])
    assert text.exit_code == 0 and "custom metrics (last, 3 d)" in text.output
    assert "the last 3 days" in text.output
    spend = json.loads(runner.invoke(cli, ["costs", "--json"]).output)
    router = next(s for s in spend["skills"] if s["skill"] == "agent-router")
    assert router["runs"] == sum(1 for r in rows if r["skill"] == "agent-router")
    assert set(router) >= {"today", "month", "runs", "max_run", "tokens", "monthly_limit"}
    assert runner.invoke(cli, ["costs"]).exit_code == 0
    day = rows[0]["started_at"][:10]
    trace = json.loads(runner.invoke(cli, ["trace", "--date", day, "--json"]).output)
    assert trace["date"] == day and rows[0]["workflow_id"] in trace["workflows"]
